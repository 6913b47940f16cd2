/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the readers of agent/import only. */
#pragma once

#include "bz-import.h"

G_BEGIN_DECLS

/* A file's lines, checked as they are taken: every line must end with
 * "\n" (a last line without one is a truncated file) and hold no control
 * byte other than a tab, a final "\r" and, when @nul_separator, one NUL. */
typedef struct
{
  const char *path;
  const char *data;
  gsize len;
  gsize pos;
  guint lineno; /* of the line last returned, 1-based */
  gboolean nul_separator;
} BzImportLines;

/* The next line without its "\n" or "\r\n" in @line/@line_len (not
 * NUL-terminated). FALSE at the end (@error unset) or on a bad line
 * (@error set, naming the file and line). */
gboolean bz_import_lines_next (BzImportLines *lines, const char **line, gsize *line_len,
                               GError **error);
/* Sets BZ_IMPORT_ERROR_FORMAT "FILE line N: <message>"; returns FALSE. */
gboolean bz_import_lines_fail (BzImportLines *lines, GError **error, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* TRUE when @uidl (@len bytes) can be a UIDL: 1..512 bytes, none a
 * control byte or space (RFC 1939 says 0x21-0x7E; bytes above 0x7F are
 * accepted, as the sync does). */
gboolean bz_import_uidl_is_valid (const char *uidl, gsize len);
/* Parses a unix time of digits only; FALSE when not one. */
gboolean bz_import_parse_time (const char *text, gsize len, gint64 *out);

/* Adds an entry; a UIDL listed twice is kept once, with the first time. */
void bz_import_state_add (BzImportState *state, const char *uidl, gsize len, gint64 when);

/* Host names compare without case; user names exactly. */
gboolean bz_import_host_equal (const char *a, const char *b);

/* Per format: parse @lines into @state for @target. */
gboolean bz_import_read_mpop (BzImportLines *lines, const BzImportTarget *target, gboolean force,
                              BzImportState *state, GError **error);
gboolean bz_import_read_getmail (BzImportLines *lines, const BzImportTarget *target, gboolean force,
                                 BzImportState *state, GError **error);
gboolean bz_import_read_fetchmail (BzImportLines *lines, const BzImportTarget *target,
                                   gboolean force, BzImportState *state, GError **error);
gboolean bz_import_read_thunderbird (BzImportLines *lines, const BzImportTarget *target,
                                     gboolean force, BzImportState *state, GError **error);

/* Per format: the default file (see bz_import_default_path()). */
char *bz_import_mpop_default_path (const BzImportTarget *target, GError **error);
char *bz_import_getmail_file_name (const BzImportTarget *target);
char *bz_import_thunderbird_find (const BzImportTarget *target, GError **error);

/* Sections of one file (mpop blocks, fetchmail and Thunderbird
 * user@host pairs): which one is the target's, and with --force which one
 * to take when the target's is missing. */
typedef struct
{
  char *host;
  char *user;
} BzImportOwner;

/* Index into @owners (BzImportOwner) of @target's section, or, with
 * @force and exactly one section, that one; otherwise -1 with
 * BZ_IMPORT_ERROR_MISMATCH naming the file's sections and the target. */
gint bz_import_pick_owner (const char *path, GArray *owners, const BzImportTarget *target,
                           gboolean force, GError **error);
void bz_import_owner_clear (gpointer owner);

G_END_DECLS
