/* SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include "bz-config-private.h"
#include "bz-config.h"

struct _BzConfig
{
  GObject parent_instance;
  char *path;
  char *data_dir;
  char *database_path;
  guint max_parallel;
  gboolean notify;
  GPtrArray *accounts; /* BzAccount* */
  GPtrArray *errors;   /* BzConfigAccountError* */
};

G_DEFINE_TYPE (BzConfig, bz_config, G_TYPE_OBJECT)
/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - config - error - quark, bz_config_error)
/* clang-format on */

#define BZ_CONFIG_GROUP_GENERAL "general"
#define BZ_CONFIG_GROUP_ACCOUNT_PREFIX "account "

static const char *const general_keys[] = {
  "data-dir",
  "max-parallel",
  "notify",
  NULL,
};

static const char *const account_keys[] = {
  "host",
  "port",
  "security",
  "user",
  "auth",
  "interval",
  "keep",
  "max-size",
  "maildir",
  "tls-ca-file",
  "tls-pin-sha256",
  "password-command",
  "timeout",
  "enabled",
  "allow-plaintext",
  "oauth2",
  "oauth2-client-id",
  "oauth2-client-secret",
  "oauth2-auth-url",
  "oauth2-token-url",
  "oauth2-scope",
  "oauth2-token-command",
  NULL,
};

static const char *const security_names[] = { "tls", "starttls", "none", NULL };
static const char *const auth_names[] = { "auto",    "sasl-plain",  "user", "apop",
                                          "xoauth2", "oauthbearer", NULL };

static void
bz_config_account_error_free (BzConfigAccountError *item)
{
  g_free (item->account);
  g_clear_error (&item->error);
  g_free (item);
}

/* --- raw scan ----------------------------------------------------------
 * GKeyFile silently merges a group written twice and keeps the last of a
 * key written twice, so a copy-and-paste slip would change an account
 * without a word. The file is known to be a valid key file when this runs,
 * so only headers and "key =" lines need recognising. */

typedef struct
{
  guint first_line;
  guint second_line;    /* 0 = written once */
  GHashTable *keys;     /* key -> first line (GUINT_TO_POINTER) */
  GHashTable *dup_keys; /* key -> second line */
} BzConfigRawGroup;

static void
bz_config_raw_group_free (BzConfigRawGroup *group)
{
  g_hash_table_unref (group->keys);
  g_hash_table_unref (group->dup_keys);
  g_free (group);
}

static GHashTable *
bz_config_scan_raw (const char *data)
{
  g_autoptr (GHashTable) groups = NULL;
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  BzConfigRawGroup *current = NULL;

  groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                  (GDestroyNotify) bz_config_raw_group_free);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      guint lineno = i + 1;

      while (g_ascii_isspace (*line))
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      if (*line == '[')
        {
          const char *end = strchr (line, ']');
          g_autofree char *name = NULL;

          if (end == NULL)
            continue;
          name = g_strndup (line + 1, end - line - 1);
          current = g_hash_table_lookup (groups, name);
          if (current != NULL)
            {
              if (current->second_line == 0)
                current->second_line = lineno;
              continue;
            }
          current = g_new0 (BzConfigRawGroup, 1);
          current->first_line = lineno;
          current->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          current->dup_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_insert (groups, g_steal_pointer (&name), current);
        }
      else if (current != NULL)
        {
          const char *eq = strchr (line, '=');
          g_autofree char *key = NULL;

          if (eq == NULL)
            continue;
          key = g_strstrip (g_strndup (line, eq - line));
          if (!g_hash_table_contains (current->keys, key))
            {
              g_hash_table_insert (current->keys, g_steal_pointer (&key),
                                   GUINT_TO_POINTER (lineno));
            }
          else if (!g_hash_table_contains (current->dup_keys, key))
            {
              g_hash_table_insert (current->dup_keys, g_steal_pointer (&key),
                                   GUINT_TO_POINTER (lineno));
            }
        }
    }
  return g_steal_pointer (&groups);
}

/* --- one group ---------------------------------------------------------- */

static void
bz_config_fail_keys_twice (BzConfigGroupCtx *ctx, BzConfigRawGroup *raw)
{
  GHashTableIter iter;
  gpointer key, line;

  g_hash_table_iter_init (&iter, raw->dup_keys);
  while (g_hash_table_iter_next (&iter, &key, &line))
    {
      guint first = GPOINTER_TO_UINT (g_hash_table_lookup (raw->keys, key));
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_DUPLICATE, key, NULL,
                            "set twice (lines %u and %u); keep one", first,
                            GPOINTER_TO_UINT (line));
    }
}

static gboolean
bz_config_check_keys (BzConfigGroupCtx *ctx, const char *const *known)
{
  g_auto (GStrv) keys = g_key_file_get_keys (ctx->keyfile, ctx->group, NULL, NULL);
  gboolean ok = TRUE;

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *allowed = NULL;
      g_autofree char *value = NULL;

      if (g_strv_contains (known, keys[i]))
        continue;
      allowed = g_strjoinv (", ", (GStrv) known);
      value = bz_config_group_get_value (ctx, keys[i], TRUE);
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_UNKNOWN_KEY, keys[i], value,
                            "unknown key; expected one of %s", allowed);
      ok = FALSE;
    }
  return ok;
}

static void
bz_config_parse_general (BzConfig *self, BzConfigGroupCtx *ctx)
{
  g_autofree char *value = NULL;
  guint64 number;

  bz_config_check_keys (ctx, general_keys);

  value = bz_config_group_get_value (ctx, "data-dir", FALSE);
  if (value != NULL)
    {
      g_autofree char *dir = NULL;
      if (bz_config_parse_path (ctx, "data-dir", value, &dir))
        {
          g_free (self->data_dir);
          self->data_dir = g_steal_pointer (&dir);
        }
      g_clear_pointer (&value, g_free);
    }
  value = bz_config_group_get_value (ctx, "max-parallel", FALSE);
  if (value != NULL && bz_config_parse_uint (ctx, "max-parallel", value, 1, 64, &number))
    self->max_parallel = (guint) number;
  g_clear_pointer (&value, g_free);

  value = bz_config_group_get_value (ctx, "notify", FALSE);
  if (value != NULL)
    bz_config_parse_bool (ctx, "notify", value, &self->notify);
}

/* Replaces *slot by the value of @key (NULL when absent) and returns it. */
static const char *
bz_config_get (BzConfigGroupCtx *ctx, const char *key, char **slot)
{
  g_free (*slot);
  *slot = bz_config_group_get_value (ctx, key, FALSE);
  return *slot;
}

/* Fills @account from the group; problems go to ctx->errors. */
static void
bz_config_parse_account (BzConfigGroupCtx *ctx, BzAccount *account, const char *data_dir)
{
  g_autofree char *value = NULL;
  guint64 number;
  gboolean port_set = FALSE;

  bz_config_check_keys (ctx, account_keys);

  if (bz_config_get (ctx, "host", &value) != NULL)
    bz_config_parse_host (ctx, "host", value, &account->host);
  if (bz_config_get (ctx, "user", &value) != NULL && bz_config_parse_user (ctx, "user", value))
    account->user = g_strdup (value);
  if (bz_config_get (ctx, "security", &value) != NULL)
    {
      guint v;
      if (bz_config_parse_enum (ctx, "security", value, security_names, &v))
        account->security = (BzSecurity) v;
    }
  if (bz_config_get (ctx, "port", &value) != NULL &&
      bz_config_parse_uint (ctx, "port", value, 1, G_MAXUINT16, &number))
    {
      account->port = (guint16) number;
      port_set = TRUE;
    }
  if (!port_set)
    account->port = account->security == BZ_SECURITY_TLS ? 995 : 110;
  if (bz_config_get (ctx, "auth", &value) != NULL)
    {
      guint v;
      if (bz_config_parse_enum (ctx, "auth", value, auth_names, &v))
        account->auth = (BzAuthMethod) v;
    }
  /* a year is far beyond any sensible poll interval and keeps the
   * millisecond arithmetic of the scheduler clear of overflow; the
   * scheduler's timer takes it (bz_schedule_add_timer()), not only the
   * 49.7 days of a millisecond g_timeout_add() */
  if (bz_config_get (ctx, "interval", &value) != NULL &&
      bz_config_parse_uint (ctx, "interval", value, 0, 525600, &number))
    account->interval_min = (guint) number;
  if (bz_config_get (ctx, "keep", &value) != NULL)
    bz_config_parse_keep (ctx, "keep", value, &account->keep, &account->keep_days);
  if (bz_config_get (ctx, "max-size", &value) != NULL)
    bz_config_parse_size (ctx, "max-size", value, &account->max_size);
  if (bz_config_get (ctx, "maildir", &value) != NULL)
    bz_config_parse_path (ctx, "maildir", value, &account->maildir);
  else
    account->maildir = g_build_filename (data_dir, "mail", account->name, NULL);
  if (bz_config_get (ctx, "tls-ca-file", &value) != NULL &&
      bz_config_parse_path (ctx, "tls-ca-file", value, &account->tls_ca_file) &&
      !g_file_test (account->tls_ca_file, G_FILE_TEST_IS_REGULAR))
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "tls-ca-file", value,
                            "no such file (%s); expected an existing PEM file",
                            account->tls_ca_file);
    }
  if (bz_config_get (ctx, "tls-pin-sha256", &value) != NULL)
    bz_config_parse_pin (ctx, "tls-pin-sha256", value, &account->tls_pin_sha256);
  g_clear_pointer (&value, g_free);
  value = bz_config_group_get_value (ctx, "password-command", TRUE);
  if (value != NULL)
    {
      g_strstrip (value);
      if (*value == '\0')
        bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "password-command", value,
                              "expected a shell command that prints the password");
      else
        account->password_command = g_strdup (value);
    }
  if (bz_config_get (ctx, "timeout", &value) != NULL &&
      bz_config_parse_uint (ctx, "timeout", value, 1, 3600, &number))
    account->timeout_s = (guint) number;
  if (bz_config_get (ctx, "enabled", &value) != NULL)
    bz_config_parse_bool (ctx, "enabled", value, &account->enabled);
  bz_config_parse_oauth2 (ctx, account);
  if (bz_config_get (ctx, "allow-plaintext", &value) != NULL)
    bz_config_parse_bool (ctx, "allow-plaintext", value, &account->allow_plaintext);

  if (!g_key_file_has_key (ctx->keyfile, ctx->group, "host", NULL))
    bz_config_group_fail (ctx, BZ_CONFIG_ERROR_MISSING_KEY, "host", NULL,
                          "missing; expected the POP3 server's host name");
  if (!g_key_file_has_key (ctx->keyfile, ctx->group, "user", NULL))
    bz_config_group_fail (ctx, BZ_CONFIG_ERROR_MISSING_KEY, "user", NULL,
                          "missing; expected the login name on the server");

  if (account->host != NULL && account->security == BZ_SECURITY_NONE && !account->allow_plaintext &&
      !bz_host_is_loopback (account->host))
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_PLAINTEXT, "security", "none",
                            "refused for host %s, which is not loopback: the "
                            "password and mail would cross the network "
                            "unencrypted; use tls or starttls, or set "
                            "allow-plaintext = true",
                            account->host);
    }
}

/* Two accounts must not write into one Maildir, and must not share a
 * D-Bus object path ("a-" and "a_2d" escape alike). */
static gboolean
bz_config_check_collisions (BzConfig *self, BzConfigGroupCtx *ctx, BzAccount *account)
{
  g_autofree char *path = bz_account_object_path (account->name);

  for (guint i = 0; i < self->accounts->len; i++)
    {
      BzAccount *other = g_ptr_array_index (self->accounts, i);
      g_autofree char *other_path = bz_account_object_path (other->name);

      if (g_strcmp0 (other->maildir, account->maildir) == 0)
        {
          bz_config_group_fail (ctx, BZ_CONFIG_ERROR_DUPLICATE, "maildir", account->maildir,
                                "already used by [account %s]; expected a "
                                "Maildir of this account's own",
                                other->name);
          return FALSE;
        }
      if (g_strcmp0 (path, other_path) == 0)
        {
          bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_NAME, NULL, NULL,
                                "account name gives the same D-Bus object path "
                                "as [account %s]; rename one of them",
                                other->name);
          return FALSE;
        }
    }
  return TRUE;
}

static void
bz_config_take_account_errors (BzConfig *self, const char *name, GPtrArray *errors)
{
  gsize n_errors = 0;
  g_autofree gpointer *stolen = g_ptr_array_steal (errors, &n_errors);

  for (gsize i = 0; i < n_errors; i++)
    {
      BzConfigAccountError *item = g_new0 (BzConfigAccountError, 1);
      item->account = g_strdup (name);
      item->error = stolen[i];
      g_ptr_array_add (self->errors, item);
    }
}

static gboolean
bz_config_load_accounts (BzConfig *self, const char *display, GKeyFile *keyfile, GHashTable *raw,
                         GStrv groups, const char *base_dir)
{
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
      g_autoptr (BzAccount) account = NULL;
      BzConfigRawGroup *raw_group = g_hash_table_lookup (raw, groups[i]);
      BzConfigGroupCtx ctx = {
        .path = display,
        .group = groups[i],
        .keyfile = keyfile,
        .base_dir = base_dir,
        .errors = errors,
      };
      const char *name;

      if (!g_str_has_prefix (groups[i], BZ_CONFIG_GROUP_ACCOUNT_PREFIX))
        continue;
      name = groups[i] + strlen (BZ_CONFIG_GROUP_ACCOUNT_PREFIX);

      if (!bz_account_name_is_valid (name))
        {
          bz_config_group_fail (&ctx, BZ_CONFIG_ERROR_INVALID_NAME, NULL, NULL,
                                "account name \"%s\" is not allowed; expected 1 to "
                                "%d characters from A-Z a-z 0-9 . _ -, not only dots",
                                name, BZ_ACCOUNT_NAME_MAX);
          bz_config_take_account_errors (self, name, errors);
          continue;
        }
      if (raw_group != NULL && raw_group->second_line != 0)
        {
          bz_config_group_fail (&ctx, BZ_CONFIG_ERROR_DUPLICATE, NULL, NULL,
                                "written twice (lines %u and %u); each account "
                                "must be defined once",
                                raw_group->first_line, raw_group->second_line);
          bz_config_take_account_errors (self, name, errors);
          continue;
        }
      if (raw_group != NULL)
        bz_config_fail_keys_twice (&ctx, raw_group);

      account = bz_account_new ();
      account->name = g_strdup (name);
      bz_config_parse_account (&ctx, account, self->data_dir);
      if (errors->len == 0)
        bz_config_check_collisions (self, &ctx, account);
      if (errors->len > 0)
        {
          bz_config_take_account_errors (self, name, errors);
          continue;
        }
      g_ptr_array_add (self->accounts, g_steal_pointer (&account));
    }
  return TRUE;
}

/* GKeyFile allows nothing after a group header, but DESIGN.md's own
 * example has "[account work]   # name: ...": a comment after the "]" is
 * cut here, keeping every line where it was so messages still point at it.
 * Returns a new string. */
static char *
bz_config_strip_header_comments (const char *data, gsize len)
{
  g_autofree char *copy = g_strndup (data, len);
  g_auto (GStrv) lines = g_strsplit (copy, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      char *end, *rest;

      while (g_ascii_isspace (*line))
        line++;
      if (*line != '[' || (end = strchr (line, ']')) == NULL)
        continue;
      rest = end + 1;
      while (*rest == ' ' || *rest == '\t')
        rest++;
      if (*rest == '#')
        end[1] = '\0';
    }
  return g_strjoinv ("\n", lines);
}

static gboolean
bz_config_load_data (BzConfig *self, const char *display, const char *raw_data, gsize raw_len,
                     GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (GHashTable) raw = NULL;
  g_autoptr (GError) error_local = NULL;
  g_autoptr (GPtrArray) general_errors =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autofree char *abs_path = g_canonicalize_filename (self->path, NULL);
  g_autofree char *base_dir = g_path_get_dirname (abs_path);
  g_auto (GStrv) groups = NULL;

  if (memchr (raw_data, '\0', raw_len) != NULL)
    {
      g_set_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_SYNTAX,
                   "%s: contains a NUL byte; it is not a text file", display);
      return FALSE;
    }
  data = bz_config_strip_header_comments (raw_data, raw_len);
  len = strlen (data);
  if (!g_key_file_load_from_data (keyfile, data, len, G_KEY_FILE_NONE, &error_local))
    {
      g_set_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_SYNTAX, "%s: %s", display,
                   error_local->message);
      return FALSE;
    }
  raw = bz_config_scan_raw (data);
  groups = g_key_file_get_groups (keyfile, NULL);

  /* group names and [general] first: they decide whether anything loads */
  for (guint i = 0; groups[i] != NULL; i++)
    {
      BzConfigRawGroup *raw_group = g_hash_table_lookup (raw, groups[i]);
      BzConfigGroupCtx ctx = {
        .path = display,
        .group = groups[i],
        .keyfile = keyfile,
        .base_dir = base_dir,
        .errors = general_errors,
      };

      if (g_strcmp0 (groups[i], BZ_CONFIG_GROUP_GENERAL) == 0)
        {
          if (raw_group != NULL && raw_group->second_line != 0)
            bz_config_group_fail (&ctx, BZ_CONFIG_ERROR_DUPLICATE, NULL, NULL,
                                  "written twice (lines %u and %u); keep one",
                                  raw_group->first_line, raw_group->second_line);
          if (raw_group != NULL)
            bz_config_fail_keys_twice (&ctx, raw_group);
          bz_config_parse_general (self, &ctx);
        }
      else if (!g_str_has_prefix (groups[i], BZ_CONFIG_GROUP_ACCOUNT_PREFIX))
        {
          bz_config_group_fail (&ctx, BZ_CONFIG_ERROR_UNKNOWN_GROUP, NULL, NULL,
                                "unknown group; expected [general] or [account NAME]");
        }
    }
  if (general_errors->len > 0)
    {
      GError *first = g_ptr_array_index (general_errors, 0);
      g_autoptr (GString) msg = g_string_new (NULL);

      for (guint i = 0; i < general_errors->len; i++)
        {
          GError *e = g_ptr_array_index (general_errors, i);
          if (i > 0)
            g_string_append_c (msg, '\n');
          g_string_append (msg, e->message);
        }
      g_set_error_literal (error, BZ_CONFIG_ERROR, first->code, msg->str);
      return FALSE;
    }

  g_free (self->database_path);
  self->database_path = g_build_filename (self->data_dir, "buzon.db", NULL);
  return bz_config_load_accounts (self, display, keyfile, raw, groups, base_dir);
}

char *
bz_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "buzon", "accounts.conf", NULL);
}

BzConfig *
bz_config_load (const char *path, GError **error)
{
  g_autoptr (BzConfig) self = g_object_new (BZ_TYPE_CONFIG, NULL);
  g_autoptr (GError) error_local = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  self->path = path != NULL ? g_strdup (path) : bz_config_default_path ();
  if (!g_file_get_contents (self->path, &data, &len, &error_local))
    {
      if (g_error_matches (error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_NOT_FOUND,
                       "%s: no such file; create it with one [account NAME] "
                       "group per POP3 account",
                       self->path);
        }
      else
        {
          g_set_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_READ, "%s", error_local->message);
        }
      return NULL;
    }
  if (!bz_config_load_data (self, self->path, data, len, error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
bz_config_get_path (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), NULL);
  return self->path;
}

const char *
bz_config_get_data_dir (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), NULL);
  return self->data_dir;
}

const char *
bz_config_get_database_path (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), NULL);
  return self->database_path;
}

guint
bz_config_get_max_parallel (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), 0);
  return self->max_parallel;
}

gboolean
bz_config_get_notify (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), FALSE);
  return self->notify;
}

GPtrArray *
bz_config_get_accounts (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), NULL);
  return self->accounts;
}

BzAccount *
bz_config_find_account (BzConfig *self, const char *name)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), NULL);
  for (guint i = 0; i < self->accounts->len; i++)
    {
      BzAccount *account = g_ptr_array_index (self->accounts, i);
      if (g_strcmp0 (account->name, name) == 0)
        return account;
    }
  return NULL;
}

GPtrArray *
bz_config_get_errors (BzConfig *self)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), NULL);
  return self->errors;
}

gboolean
bz_config_account_has_errors (BzConfig *self, const char *name)
{
  g_return_val_if_fail (BZ_IS_CONFIG (self), FALSE);
  for (guint i = 0; i < self->errors->len; i++)
    {
      BzConfigAccountError *item = g_ptr_array_index (self->errors, i);
      if (g_strcmp0 (item->account, name) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
bz_config_finalize (GObject *object)
{
  BzConfig *self = BZ_CONFIG (object);

  g_free (self->path);
  g_free (self->data_dir);
  g_free (self->database_path);
  g_ptr_array_unref (self->accounts);
  g_ptr_array_unref (self->errors);
  G_OBJECT_CLASS (bz_config_parent_class)->finalize (object);
}

static void
bz_config_class_init (BzConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bz_config_finalize;
}

static void
bz_config_init (BzConfig *self)
{
  self->data_dir = g_build_filename (g_get_user_data_dir (), "buzon", NULL);
  self->database_path = g_build_filename (self->data_dir, "buzon.db", NULL);
  self->max_parallel = 2;
  self->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_account_unref);
  self->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_config_account_error_free);
}
