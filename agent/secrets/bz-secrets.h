/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where an account's password comes from (DESIGN.md "Keyring"):
 * the account's password-command when set, otherwise the keyring through
 * libsecret: our schema org.buzon.Password (account, host, user) first,
 * then an entry left by mpop (host, user and service or protocol = pop3).
 *
 * Every password this module returns lives in non-pageable memory and MUST
 * be released with bz_secrets_password_free() (secret_password_free(),
 * which also wipes it), never g_free(). A password is never logged. */
#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

#include "bz-account.h"

G_BEGIN_DECLS

#define BZ_SECRETS_ERROR (bz_secrets_error_quark ())
GQuark bz_secrets_error_quark (void);

typedef enum
{
  BZ_SECRETS_ERROR_NOT_FOUND,       /* no entry; the message says what to run */
  BZ_SECRETS_ERROR_KEYRING,         /* the secret service failed or is missing */
  BZ_SECRETS_ERROR_INVALID,         /* a password POP3 cannot send (CR, LF) */
  BZ_SECRETS_ERROR_COMMAND_FAILED,  /* could not start, non-zero exit, killed */
  BZ_SECRETS_ERROR_COMMAND_EMPTY,   /* printed nothing */
  BZ_SECRETS_ERROR_COMMAND_TIMEOUT, /* ran too long and was killed */
} BzSecretsError;

/* How long a password-command may run (it may wait for a GPG pinentry). */
#define BZ_SECRETS_COMMAND_TIMEOUT_MS (120 * 1000)

/* The org.buzon.Password schema (static, never free it). */
const SecretSchema *bz_secrets_get_schema (void);

/* Releases a password returned by this module; NULL is allowed. */
void bz_secrets_password_free (char *password);

/* The longest password we send: the POP3 command buffer that carries it is
 * wiped after use, and a longer one would make it grow and leave the old,
 * unwiped copy in freed memory. */
#define BZ_SECRETS_PASSWORD_MAX 1024

/* Copies @len bytes of @data into non-pageable memory (transfer full, free
 * with bz_secrets_password_free()), or returns NULL with
 * BZ_SECRETS_ERROR_INVALID naming @account_name when the password holds
 * NUL, CR or LF, which would end or split the POP3 command carrying it, or
 * is longer than BZ_SECRETS_PASSWORD_MAX bytes. */
char *bz_secrets_password_from_data (const char *data, gsize len, const char *account_name,
                                     GError **error);

/* bz_secrets_password_from_data() with another limit than
 * BZ_SECRETS_PASSWORD_MAX (an OAuth2 access token is longer). */
char *bz_secrets_secret_from_data (const char *data, gsize len, const char *account_name,
                                   gsize max_len, GError **error);

/* Looks up @account's password without blocking the calling thread's main
 * context; @callback runs in that context. */
void bz_secrets_lookup_async (BzAccount *account, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
/* Returns the password (transfer full, free with bz_secrets_password_free())
 * or NULL with @error set in BZ_SECRETS_ERROR or G_IO_ERROR_CANCELLED. */
char *bz_secrets_lookup_finish (GAsyncResult *result, GError **error);

/* Runs @command with /bin/sh -c (stdin /dev/null, in its own process
 * group), and takes the first line of its standard output without CR/LF.
 * After @timeout_ms (0 = BZ_SECRETS_COMMAND_TIMEOUT_MS), or on
 * cancellation, the whole process group is killed. Errors name
 * @account_name and quote the first line of standard error, never of
 * standard output. bz_secrets_lookup_async() uses this for password-command. */
void bz_secrets_run_command_async (const char *account_name, const char *command, guint timeout_ms,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
/* The same for another key of accounts.conf: @key (static, e.g.
 * "oauth2-token-command") names the command in messages, and the first
 * line may be up to @max_len bytes. */
void bz_secrets_run_command_full_async (const char *account_name, const char *key, gsize max_len,
                                        const char *command, guint timeout_ms,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
/* Same ownership and errors as bz_secrets_lookup_finish(). */
char *bz_secrets_run_command_finish (GAsyncResult *result, GError **error);

/* Stores @password under our schema for @account in the default
 * collection, labelled "buzon: <account> (<user>@<host>)", replacing any
 * earlier one. @password is copied. */
void bz_secrets_store_async (BzAccount *account, const char *password, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
/* TRUE, or FALSE with @error set (BZ_SECRETS_ERROR_KEYRING, _INVALID). */
gboolean bz_secrets_store_finish (GAsyncResult *result, GError **error);

/* Removes our entry for @account (never mpop's). */
void bz_secrets_clear_async (BzAccount *account, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
/* TRUE when an entry was removed; FALSE with BZ_SECRETS_ERROR_NOT_FOUND
 * when there was none, or BZ_SECRETS_ERROR_KEYRING. */
gboolean bz_secrets_clear_finish (GAsyncResult *result, GError **error);

G_END_DECLS
