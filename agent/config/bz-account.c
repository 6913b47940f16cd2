/* SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "bz-account.h"

#define BZ_ACCOUNT_OBJECT_PATH_PREFIX "/org/buzon/Agent1/accounts/"

G_DEFINE_BOXED_TYPE (BzAccount, bz_account, bz_account_ref, bz_account_unref)

BzAccount *
bz_account_new (void)
{
  BzAccount *self = g_new0 (BzAccount, 1);

  self->ref_count = 1;
  self->security = BZ_SECURITY_TLS;
  self->port = 995;
  self->auth = BZ_AUTH_AUTO;
  self->interval_min = 15;
  self->keep = BZ_KEEP_FOREVER;
  self->timeout_s = 60;
  self->enabled = TRUE;
  return self;
}

BzAccount *
bz_account_ref (BzAccount *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
bz_account_unref (BzAccount *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->name);
  g_free (self->host);
  g_free (self->user);
  g_free (self->maildir);
  g_free (self->tls_ca_file);
  g_free (self->tls_pin_sha256);
  g_free (self->password_command);
  g_free (self->oauth2_client_id);
  g_free (self->oauth2_client_secret);
  g_free (self->oauth2_auth_url);
  g_free (self->oauth2_token_url);
  g_free (self->oauth2_scope);
  g_free (self->oauth2_token_command);
  g_free (self);
}

gboolean
bz_account_equal (const BzAccount *a, const BzAccount *b)
{
  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;
  return g_strcmp0 (a->name, b->name) == 0 && g_strcmp0 (a->host, b->host) == 0 &&
         a->port == b->port && a->security == b->security && g_strcmp0 (a->user, b->user) == 0 &&
         a->auth == b->auth && a->interval_min == b->interval_min && a->keep == b->keep &&
         a->keep_days == b->keep_days && a->max_size == b->max_size &&
         g_strcmp0 (a->maildir, b->maildir) == 0 &&
         g_strcmp0 (a->tls_ca_file, b->tls_ca_file) == 0 &&
         g_strcmp0 (a->tls_pin_sha256, b->tls_pin_sha256) == 0 &&
         g_strcmp0 (a->password_command, b->password_command) == 0 &&
         a->timeout_s == b->timeout_s && a->enabled == b->enabled &&
         a->allow_plaintext == b->allow_plaintext && a->oauth2 == b->oauth2 &&
         g_strcmp0 (a->oauth2_client_id, b->oauth2_client_id) == 0 &&
         g_strcmp0 (a->oauth2_client_secret, b->oauth2_client_secret) == 0 &&
         g_strcmp0 (a->oauth2_auth_url, b->oauth2_auth_url) == 0 &&
         g_strcmp0 (a->oauth2_token_url, b->oauth2_token_url) == 0 &&
         g_strcmp0 (a->oauth2_scope, b->oauth2_scope) == 0 &&
         g_strcmp0 (a->oauth2_token_command, b->oauth2_token_command) == 0;
}

gboolean
bz_host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) addr = NULL;
  g_autofree char *literal = NULL;
  gsize len;

  if (host == NULL || *host == '\0')
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0 || g_ascii_strcasecmp (host, "localhost.") == 0)
    return TRUE;

  /* accept the URL-style bracketed IPv6 literal too */
  len = strlen (host);
  if (len > 2 && host[0] == '[' && host[len - 1] == ']')
    literal = g_strndup (host + 1, len - 2);
  else
    literal = g_strdup (host);
  addr = g_inet_address_new_from_string (literal);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

gboolean
bz_account_plaintext_allowed (const BzAccount *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->allow_plaintext || bz_host_is_loopback (self->host);
}

gboolean
bz_account_name_is_valid (const char *name)
{
  gsize len = 0;
  gboolean only_dots = TRUE;

  if (name == NULL)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++, len++)
    {
      if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
        return FALSE;
      if (*p != '.')
        only_dots = FALSE;
    }
  /* "." and ".." would make the default Maildir <data-dir>/mail/.. the
   * data folder itself, beside the database. */
  if (only_dots)
    return FALSE;
  return len >= 1 && len <= BZ_ACCOUNT_NAME_MAX;
}

char *
bz_account_object_path (const char *name)
{
  GString *path;

  g_return_val_if_fail (name != NULL, NULL);

  path = g_string_new (BZ_ACCOUNT_OBJECT_PATH_PREFIX);
  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '_')
        g_string_append_c (path, (char) *p);
      else
        g_string_append_printf (path, "_%02x", *p);
    }
  /* an empty element is not a valid object path; never happens for a
   * validated name but keep the result well-formed regardless */
  if (*name == '\0')
    g_string_append_c (path, '_');
  return g_string_free (path, FALSE);
}
