/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The token endpoint is a module, oauth2-http.so (bz-oauth2-http.c), loaded
 * the first time a token must be fetched from a provider: it links libsoup
 * and json-glib, and with them a dozen libraries (krb5, nghttp2, brotli,
 * psl...) that cost every buzond about 1.2 MB and 1.5 ms of start-up.
 * Accounts without OAuth2, and those whose tokens come from GNOME Online
 * Accounts or an oauth2-token-command, never load it.
 *
 * This header is the whole interface between buzon and the module: one
 * function. The module links no buzon code (no second copy of any global
 * state or GType); the process's one GLib allocates and frees on both
 * sides. */
#pragma once

#include <gio/gio.h>

#include "bz-oauth2.h"

G_BEGIN_DECLS

/* POSTs @form (application/x-www-form-urlencoded; the module only reads
 * it) to @token_url, blocking. Returns the grant (transfer full, freed with
 * bz_oauth2_grant_free()) or NULL as bz_oauth2_request_token() says, the
 * messages naming @account_name. */
typedef BzOAuth2Grant *BzOAuth2HttpPost (const char *account_name, const char *token_url,
                                         GBytes *form, GCancellable *cancellable, GError **error);

/* The module's only export, declared with the type above so that the
 * compiler checks its definition. The version is in the name: change the
 * type or BzOAuth2Grant and it must change, so that a buzond meeting a
 * module of another version (a package upgrade under a running daemon)
 * reports it instead of calling it wrongly. Defined in the module only:
 * buzon reaches it through bz_oauth2_module_get(). */
BzOAuth2HttpPost bz_oauth2_http_post_v1;
#define BZ_OAUTH2_HTTP_POST_SYMBOL "bz_oauth2_http_post_v1"

/* Opens the module at @path and looks up its entry point; the module is
 * never unloaded (libsoup's GTypes cannot be). Returns the entry point, or
 * NULL with BZ_OAUTH2_ERROR_ENDPOINT naming @path and the reason. */
BzOAuth2HttpPost *bz_oauth2_module_load (const char *path, GError **error);

/* The entry point of buzon's own module, loaded on the first call;
 * thread-safe. NULL with BZ_OAUTH2_ERROR_ENDPOINT naming @account_name and
 * the module's path when it is missing or broken. */
BzOAuth2HttpPost *bz_oauth2_module_get (const char *account_name, GError **error);

G_END_DECLS
