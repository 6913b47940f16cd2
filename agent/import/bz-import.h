/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Readers of other POP3 clients' seen-UIDL state (DESIGN.md "Imported
 * state"): mpop, getmail6, fetchmail and Thunderbird. Each returns the
 * UIDLs the client delivered for one host and user, with the time it
 * first saw them when the file records one.
 *
 * Every reader checks the file whole: a file that cannot be read, holds
 * binary data or ends in the middle of a line or a list is refused with
 * its name and the line number, and nothing is returned from it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BZ_IMPORT_ERROR (bz_import_error_quark ())
GQuark bz_import_error_quark (void);

typedef enum
{
  BZ_IMPORT_ERROR_READ,      /* the file cannot be read */
  BZ_IMPORT_ERROR_FORMAT,    /* binary, truncated or malformed: "FILE line N: ..." */
  BZ_IMPORT_ERROR_MISMATCH,  /* the file is another host's or user's (--force) */
  BZ_IMPORT_ERROR_NOT_FOUND, /* no default file could be found */
} BzImportError;

typedef enum
{
  BZ_IMPORT_MPOP,
  BZ_IMPORT_GETMAIL,
  BZ_IMPORT_FETCHMAIL,
  BZ_IMPORT_THUNDERBIRD,
} BzImportFormat;

/* "mpop", "getmail", "fetchmail", "thunderbird". */
gboolean bz_import_format_from_string (const char *name, BzImportFormat *format);
const char *bz_import_format_to_string (BzImportFormat format);

/* The account whose state is imported. */
typedef struct
{
  const char *host;
  guint16 port;
  const char *user;
} BzImportTarget;

/* One delivered message. */
typedef struct
{
  const char *uidl; /* borrowed from the state's string chunk */
  gint64 seen;      /* unix time the client first saw it; 0 when not recorded */
} BzImportEntry;

typedef struct
{
  BzImportFormat format;
  char *path;            /* the file read */
  GArray *entries;       /* BzImportEntry, in file order, no duplicates */
  gboolean getmail_form; /* UIDLs as getmail writes them: '/' became '-' */
  guint n_ignored;       /* entries left out: other users or servers,
                          * Thunderbird's b (too big) and f (to fetch) */
  /*< private >*/
  GStringChunk *strings;
  GHashTable *seen; /* the UIDLs in entries, while reading */
} BzImportState;

void bz_import_state_free (BzImportState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzImportState, bz_import_state_free)

/* Reads @path as @format's state file and returns the entries for
 * @target. The file's own host or user must be @target's, else
 * BZ_IMPORT_ERROR_MISMATCH naming both; with @force the file's entries are
 * taken anyway (when it holds one host and user only). Transfer full, or
 * NULL with @error (BZ_IMPORT_ERROR). */
BzImportState *bz_import_read (BzImportFormat format, const char *path,
                               const BzImportTarget *target, gboolean force, GError **error);

/* Where @format keeps the state of @target by default (honouring
 * $XDG_CONFIG_HOME, ~/.mpoprc's uidls_file, $FETCHMAILHOME, Thunderbird
 * profiles). Returns a new path, or NULL with BZ_IMPORT_ERROR_NOT_FOUND
 * saying what was looked at. The file may not exist (the caller's read
 * then fails with its name). */
char *bz_import_default_path (BzImportFormat format, const BzImportTarget *target, GError **error);

/* @path with the home folder written as "~", for messages. New string. */
char *bz_import_display_path (const char *path);

G_END_DECLS
