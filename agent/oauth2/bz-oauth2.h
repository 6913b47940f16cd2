/* SPDX-License-Identifier: GPL-3.0-or-later */
/* OAuth2 for POP accounts (DESIGN.md "Config", "Keyring"): where an access
 * token comes from (the google, microsoft and custom providers with a
 * refresh token in the keyring; oauth2-token-command; GNOME Online
 * Accounts), the token endpoint, and the authorization code flow of
 * `buzonctl authorize` (PKCE S256, loopback redirect, RFC 8252).
 *
 * Access tokens live in memory only and are never logged; every token this
 * module returns MUST be released with bz_oauth2_token_free(), which wipes
 * it. */
#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

#include "bz-account.h"

G_BEGIN_DECLS

#define BZ_OAUTH2_ERROR (bz_oauth2_error_quark ())
GQuark bz_oauth2_error_quark (void);
/* The quark's string: the token endpoint's module (bz-oauth2-module.h),
 * which links none of this code, reports its errors under the same one. */
#define BZ_OAUTH2_ERROR_QUARK_NAME "bz-oauth2-error-quark"

typedef enum
{
  BZ_OAUTH2_ERROR_NOT_AUTHORIZED, /* no refresh token: run buzonctl authorize */
  BZ_OAUTH2_ERROR_INVALID_GRANT,  /* the refresh token was refused or revoked */
  BZ_OAUTH2_ERROR_ENDPOINT,       /* the token endpoint failed (network, 5xx, other errors) */
  BZ_OAUTH2_ERROR_PROTOCOL,       /* an answer we cannot use */
  BZ_OAUTH2_ERROR_KEYRING,        /* the secret service failed */
  BZ_OAUTH2_ERROR_GOA,            /* GNOME Online Accounts failed or is missing */
  BZ_OAUTH2_ERROR_GOA_NOT_FOUND,  /* no GOA account for this user */
  BZ_OAUTH2_ERROR_DENIED,         /* authorize: the user or provider said no */
  BZ_OAUTH2_ERROR_TIMEOUT,        /* authorize: no answer in time */
  BZ_OAUTH2_ERROR_CONFIG,         /* the account cannot use this flow */
} BzOAuth2Error;

/* Longest access token we accept (Microsoft's are ~1,500-2,500 bytes). */
#define BZ_OAUTH2_TOKEN_MAX (16 * 1024)

/* The org.buzon.OAuth2 schema (account, host, user); static. */
const SecretSchema *bz_oauth2_get_schema (void);

/* Wipes and frees a token or secret from this module; NULL is allowed. */
void bz_oauth2_token_free (char *token);

/* A provider's endpoints and scope, the presets' or the account's own
 * (borrowed from @account or static). FALSE with BZ_OAUTH2_ERROR_CONFIG
 * for goa and command, which have none. */
gboolean bz_oauth2_endpoints (BzAccount *account, const char **auth_url, const char **token_url,
                              const char **scope, GError **error);
/* The client secret to send (borrowed; NULL for none). */
const char *bz_oauth2_client_secret (BzAccount *account);

/* A current access token for @account (oauth2 set), blocking the calling
 * thread; call it from a worker. A cached token is returned unless it
 * expires within a minute or @force_refresh (the server refused it).
 * Returns the token (transfer full, bz_oauth2_token_free()) or NULL with
 * @error in BZ_OAUTH2_ERROR, BZ_SECRETS_ERROR (token command) or
 * G_IO_ERROR_CANCELLED. Messages name the account. Thread-safe. */
char *bz_oauth2_get_token (BzAccount *account, gboolean force_refresh, GCancellable *cancellable,
                           GError **error);
/* Forgets every cached access token (after authorize). */
void bz_oauth2_forget_tokens (void);
/* Forgets @account's cached access token (the server refused it). */
void bz_oauth2_forget_token (BzAccount *account);

/* --- token endpoint (bz-oauth2-request.c, bz-oauth2-http.c) -------------- */

typedef struct
{
  char *access_token;  /* wiped on free */
  char *refresh_token; /* nullable; wiped on free */
  gint64 expires_in;   /* seconds; 0 when the provider did not say */
} BzOAuth2Grant;

void bz_oauth2_grant_free (BzOAuth2Grant *grant);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzOAuth2Grant, bz_oauth2_grant_free)

/* POSTs the form @params (name, value, ... NULL; a NULL value leaves its
 * name out) to @token_url, blocking, through the token endpoint's module
 * (loaded on the first call). Returns the grant (transfer full) or NULL:
 * "invalid_grant" is BZ_OAUTH2_ERROR_INVALID_GRANT, anything else _ENDPOINT
 * (also: the module is missing or broken) or _PROTOCOL. */
BzOAuth2Grant *bz_oauth2_request_token (const char *account_name, const char *token_url,
                                        GCancellable *cancellable, GError **error,
                                        const char *first_param, ...) G_GNUC_NULL_TERMINATED;

/* --- keyring (bz-oauth2-store.c) ----------------------------------------- */

/* The refresh token of @account, blocking (transfer full,
 * bz_oauth2_token_free()), or NULL: none is BZ_OAUTH2_ERROR_NOT_AUTHORIZED
 * (message names `buzonctl authorize ACCOUNT`), else _KEYRING. */
char *bz_oauth2_lookup_refresh_token (BzAccount *account, GCancellable *cancellable,
                                      GError **error);
/* Stores @refresh_token for @account, replacing any earlier one. */
gboolean bz_oauth2_store_refresh_token (BzAccount *account, const char *refresh_token,
                                        GCancellable *cancellable, GError **error);
/* Removes @account's refresh token; TRUE also when there was none. */
gboolean bz_oauth2_clear_refresh_token (BzAccount *account, GCancellable *cancellable,
                                        GError **error);

/* --- GNOME Online Accounts (bz-oauth2-goa.c) ------------------------------ */

/* The access token of the GOA account whose mail address or identity is
 * @account->user, blocking. Transfer full, or NULL with
 * BZ_OAUTH2_ERROR_GOA_NOT_FOUND or _GOA. @expires_in may be NULL. */
char *bz_oauth2_goa_get_token (BzAccount *account, gint *expires_in, GCancellable *cancellable,
                               GError **error);

/* --- authorization (bz-oauth2-authorize.c: buzonctl only, links libsoup) -- */

/* Called with the URL the user must open (open a browser, print it). */
typedef void (*BzOAuth2ShowUrlFunc) (const char *url, gpointer user_data);

/* Runs the authorization code flow for @account: PKCE S256, a loopback
 * redirect on 127.0.0.1 with a random port, a state check; @show_url
 * presents the URL; waits at most @timeout_s for the redirect, exchanges
 * the code and stores the refresh token. Iterates the thread-default main
 * context while waiting. TRUE, or FALSE with @error (BZ_OAUTH2_ERROR_DENIED,
 * _TIMEOUT, _ENDPOINT, _PROTOCOL, _KEYRING, _CONFIG). */
gboolean bz_oauth2_authorize (BzAccount *account, guint timeout_s, BzOAuth2ShowUrlFunc show_url,
                              gpointer user_data, GCancellable *cancellable, GError **error);

/* PKCE (RFC 7636): a new random verifier (43+ chars, transfer full) and
 * its S256 challenge (transfer full). */
char *bz_oauth2_pkce_verifier (void);
char *bz_oauth2_pkce_challenge (const char *verifier);

G_END_DECLS
