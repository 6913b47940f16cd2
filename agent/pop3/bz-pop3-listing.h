/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The lines of a LIST or UIDL listing (and of their one-message answers),
 * parsed without a session so that a fuzzer can reach them. Errors are
 * BZ_POP3_ERROR, their messages start with @host and quote the server's
 * text sanitised. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bounds of a listing, so that memory stays bounded whatever a server
 * sends. RFC 1939 caps a UIDL at 70 characters; it sets no bound on the
 * count. Maildrops of 200,000 messages exist (an account that kept all its
 * mail on the server: issue 18's bench has such a cell), so the bound is
 * 250,000; the UIDLs of one listing add up to 12 MiB at most (250,000 of
 * 50 characters, or 180,000 of 70). At the bound a sync holds about 30 MB
 * of listing and tables. Past a bound the listing is BZ_POP3_ERROR_LIMIT,
 * and the error says so, naming the account. */
#define BZ_POP3_MAX_UIDL_LEN 70
#define BZ_POP3_MAX_MESSAGES 250000
#define BZ_POP3_MAX_UIDL_BYTES (12 * 1024 * 1024)

/* A decimal number up to @max after any spaces, ending at a space or the
 * end; with overflow checks ("99999999999999999999" is an error, not
 * G_MAXUINT64). @end (optional) receives where it stopped. */
gboolean bz_pop3_listing_number (const char *host, const char *str, guint64 max, guint64 *out,
                                 const char **end, GError **error);
/* "msgno value": the number (1 .. G_MAXUINT) and where the value starts. */
gboolean bz_pop3_listing_pair (const char *host, const char *line, guint *msgno, const char **rest,
                               GError **error);
/* A UIDL of @len bytes quoted from @line: not empty, at most 70. */
gboolean bz_pop3_listing_check_uidl (const char *host, const char *line, gsize len, GError **error);
/* "msgno size" of LIST; a size fits in SQLite's signed 64 bits. */
gboolean bz_pop3_listing_list_line (const char *host, const char *line, guint *msgno, guint64 *size,
                                    GError **error);
/* "msgno uidl" of UIDL: @uidl points into @line, @uidl_len long. */
gboolean bz_pop3_listing_uidl_line (const char *host, const char *line, guint *msgno,
                                    const char **uidl, gsize *uidl_len, GError **error);

G_END_DECLS
