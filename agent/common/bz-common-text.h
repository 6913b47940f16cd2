/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one sanitiser for text that came from a server (or from a message a
 * stranger sent): -ERR texts, greetings, response codes, UIDLs, decoded
 * header fields. Everything such text reaches -- a terminal (buzonctl,
 * buzond --once), the journal, the bus -- gets it through here first, so
 * that no server can move the cursor, retitle or clear a terminal, forge a
 * log line or upset a D-Bus peer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns a new string: the first @len bytes of @text (all of it when @len
 * is negative; NULL gives ""), as valid UTF-8 without C0 controls, DEL, C1
 * controls or the bidirectional overrides that reorder what a terminal
 * shows. A tab becomes a space; every other such character, and every byte
 * that is not UTF-8, becomes U+FFFD. An embedded NUL counts as a control
 * (with @len given). Never fails. */
char *bz_common_text_sanitize (const char *text, gssize len);

/* Like bz_common_text_sanitize(), and at most @max_bytes long (cut at a
 * character boundary, "…" appended when cut): for a server's words quoted
 * in an error message. */
char *bz_common_text_sanitize_short (const char *text, gssize len, gsize max_bytes);

/* TRUE when bz_common_text_sanitize() would return @text unchanged. */
gboolean bz_common_text_is_clean (const char *text, gssize len);

G_END_DECLS
