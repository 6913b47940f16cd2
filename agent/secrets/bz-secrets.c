/* SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include "bz-log.h"
#include "bz-secrets-private.h"
#include "bz-secrets.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - secrets - error - quark, bz_secrets_error)
/* clang-format on */

static const SecretSchema bz_secrets_schema = {
  "org.buzon.Password",
  SECRET_SCHEMA_NONE,
  {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
  },
};

/* What `secret-tool store --label=mpop host H service pop3 user U` leaves
 * behind, and the network-password form with protocol instead of service.
 * Such items carry whatever schema name the tool chose (or none), so the
 * name must not take part in the match. */
static const SecretSchema bz_secrets_mpop_service_schema = {
  "org.gnome.keyring.NetworkPassword",
  SECRET_SCHEMA_DONT_MATCH_NAME,
  {
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
  },
};

static const SecretSchema bz_secrets_mpop_protocol_schema = {
  "org.gnome.keyring.NetworkPassword",
  SECRET_SCHEMA_DONT_MATCH_NAME,
  {
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
  },
};

typedef enum
{
  BZ_SECRETS_STEP_OURS,
  BZ_SECRETS_STEP_MPOP_SERVICE,
  BZ_SECRETS_STEP_MPOP_PROTOCOL,
  BZ_SECRETS_STEP_LAST,
} BzSecretsStep;

const SecretSchema *
bz_secrets_get_schema (void)
{
  return &bz_secrets_schema;
}

void
bz_secrets_password_free (char *password)
{
  if (password != NULL)
    secret_password_free (password);
}

char *
bz_secrets_password_from_data (const char *data, gsize len, const char *account_name,
                               GError **error)
{
  return bz_secrets_secret_from_data (data, len, account_name, BZ_SECRETS_PASSWORD_MAX, error);
}

char *
bz_secrets_secret_from_data (const char *data, gsize len, const char *account_name, gsize max_len,
                             GError **error)
{
  g_autoptr (SecretValue) value = NULL;

  if (len > max_len)
    {
      g_set_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID,
                   "the password for account %s is longer than %" G_GSIZE_FORMAT " bytes",
                   account_name, max_len);
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\0' || data[i] == '\r' || data[i] == '\n')
        {
          g_set_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID,
                       "the password for account %s contains a line break or "
                       "NUL byte, which POP3 cannot send",
                       account_name);
          return NULL;
        }
    }
  value = secret_value_new (data, (gssize) len, "text/plain");
  return secret_value_unref_to_password (g_steal_pointer (&value), &len);
}

void
bz_secrets_wipe_bytes (GBytes *bytes)
{
  gsize len = 0;
  gpointer data;

  if (bytes == NULL)
    return;
  data = (gpointer) g_bytes_get_data (bytes, &len);
  if (data != NULL && len > 0)
    explicit_bzero (data, len);
}

/* A keyring failure keeps cancellation recognisable and says which
 * account it was about; anything else becomes BZ_SECRETS_ERROR_KEYRING. */
static GError *
bz_secrets_keyring_error (GError *error, const char *what, const char *account_name)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  return g_error_new (BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_KEYRING,
                      "cannot %s the password of account %s in the keyring: %s", what, account_name,
                      error->message);
}

/* --- lookup ------------------------------------------------------------- */

typedef struct
{
  BzAccount *account;
  BzSecretsStep step;
} BzSecretsLookup;

static void
bz_secrets_lookup_free (BzSecretsLookup *data)
{
  bz_account_unref (data->account);
  g_free (data);
}

static void bz_secrets_lookup_step (GTask *task);

static void
bz_secrets_lookup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BzSecretsLookup *data = g_task_get_task_data (task);
  BzAccount *account = data->account;
  g_autoptr (GError) error = NULL;
  char *password;

  password = secret_password_lookup_nonpageable_finish (result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, bz_secrets_keyring_error (error, "read", account->name));
      return;
    }
  if (password == NULL)
    {
      data->step++;
      if (data->step < BZ_SECRETS_STEP_LAST)
        {
          bz_secrets_lookup_step (g_steal_pointer (&task));
          return;
        }
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND,
                               "no password for account %s in the keyring; "
                               "run: buzonctl set-password %s",
                               account->name, account->name);
      return;
    }
  if (strpbrk (password, "\r\n") != NULL)
    {
      secret_password_free (password);
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID,
                               "the keyring password for account %s contains a "
                               "line break, which POP3 cannot send; run: "
                               "buzonctl set-password %s",
                               account->name, account->name);
      return;
    }
  switch (data->step)
    {
    case BZ_SECRETS_STEP_OURS:
      bz_log_account (G_LOG_LEVEL_INFO, account->name,
                      "password: keyring entry of schema %s (account=%s host=%s user=%s)",
                      bz_secrets_schema.name, account->name, account->host, account->user);
      break;
    case BZ_SECRETS_STEP_MPOP_SERVICE:
    case BZ_SECRETS_STEP_MPOP_PROTOCOL:
    default:
      bz_log_account (G_LOG_LEVEL_INFO, account->name,
                      "password: mpop-style keyring entry of any schema (host=%s user=%s %s=pop3)",
                      account->host, account->user,
                      data->step == BZ_SECRETS_STEP_MPOP_SERVICE ? "service" : "protocol");
      break;
    }
  g_task_return_pointer (task, password, (GDestroyNotify) bz_secrets_password_free);
}

static void
bz_secrets_lookup_step (GTask *task)
{
  BzSecretsLookup *data = g_task_get_task_data (task);
  BzAccount *account = data->account;
  GCancellable *cancellable = g_task_get_cancellable (task);

  switch (data->step)
    {
    case BZ_SECRETS_STEP_OURS:
      secret_password_lookup (&bz_secrets_schema, cancellable, bz_secrets_lookup_cb, task,
                              "account", account->name, "host", account->host, "user",
                              account->user, NULL);
      break;
    case BZ_SECRETS_STEP_MPOP_SERVICE:
      secret_password_lookup (&bz_secrets_mpop_service_schema, cancellable, bz_secrets_lookup_cb,
                              task, "host", account->host, "user", account->user, "service", "pop3",
                              NULL);
      break;
    case BZ_SECRETS_STEP_MPOP_PROTOCOL:
    case BZ_SECRETS_STEP_LAST:
    default:
      secret_password_lookup (&bz_secrets_mpop_protocol_schema, cancellable, bz_secrets_lookup_cb,
                              task, "host", account->host, "user", account->user, "protocol",
                              "pop3", NULL);
      break;
    }
}

static void
bz_secrets_command_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  char *password = bz_secrets_run_command_finish (result, &error);

  if (password == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, password, (GDestroyNotify) bz_secrets_password_free);
}

void
bz_secrets_lookup_async (BzAccount *account, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  BzSecretsLookup *data;

  g_return_if_fail (account != NULL);
  g_return_if_fail (account->name != NULL && account->host != NULL && account->user != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bz_secrets_lookup_async);

  /* a configured command is the user's explicit choice: its failure is
   * reported, never papered over with a keyring entry */
  if (account->password_command != NULL)
    {
      bz_secrets_run_command_async (account->name, account->password_command, 0, cancellable,
                                    bz_secrets_command_done_cb, g_steal_pointer (&task));
      return;
    }

  data = g_new0 (BzSecretsLookup, 1);
  data->account = bz_account_ref (account);
  data->step = BZ_SECRETS_STEP_OURS;
  g_task_set_task_data (task, data, (GDestroyNotify) bz_secrets_lookup_free);
  bz_secrets_lookup_step (g_steal_pointer (&task));
}

char *
bz_secrets_lookup_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- store and clear ---------------------------------------------------- */

static void
bz_secrets_store_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BzAccount *account = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    {
      g_task_return_error (task, bz_secrets_keyring_error (error, "store", account->name));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
bz_secrets_store_async (BzAccount *account, const char *password, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *label = NULL;

  g_return_if_fail (account != NULL && account->name != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bz_secrets_store_async);
  g_task_set_task_data (task, bz_account_ref (account), (GDestroyNotify) bz_account_unref);
  if (*password == '\0' || strpbrk (password, "\r\n") != NULL)
    {
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID,
                               "the password for account %s must be one "
                               "non-empty line",
                               account->name);
      return;
    }
  label = g_strdup_printf ("buzon: %s (%s@%s)", account->name, account->user, account->host);
  secret_password_store (&bz_secrets_schema, SECRET_COLLECTION_DEFAULT, label, password,
                         cancellable, bz_secrets_store_cb, g_steal_pointer (&task), "account",
                         account->name, "host", account->host, "user", account->user, NULL);
}

gboolean
bz_secrets_store_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
bz_secrets_clear_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BzAccount *account = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!secret_password_clear_finish (result, &error))
    {
      if (error != NULL)
        {
          g_task_return_error (task, bz_secrets_keyring_error (error, "remove", account->name));
          return;
        }
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND,
                               "no password for account %s in the keyring", account->name);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
bz_secrets_clear_async (BzAccount *account, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  GTask *task;

  g_return_if_fail (account != NULL && account->name != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bz_secrets_clear_async);
  g_task_set_task_data (task, bz_account_ref (account), (GDestroyNotify) bz_account_unref);
  secret_password_clear (&bz_secrets_schema, cancellable, bz_secrets_clear_cb, task, "account",
                         account->name, "host", account->host, "user", account->user, NULL);
}

gboolean
bz_secrets_clear_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
