/* SPDX-License-Identifier: GPL-3.0-or-later */
/* E-mail addresses as buzonctl add takes them. */

#include "config.h"

#include <string.h>

#include "bz-account.h"
#include "bz-setup.h"

gboolean
bz_setup_address_split (const char *address, char **local_part, char **domain, GError **error)
{
  const char *at = strrchr (address, '@');

  for (const char *p = address; *p != '\0'; p++)
    {
      if ((guchar) *p <= ' ' || *p == 0x7f)
        {
          g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_ADDRESS,
                       "\"%s\" is not an e-mail address: it holds a blank or a control "
                       "character",
                       address);
          return FALSE;
        }
    }
  if (at == NULL || at == address || at[1] == '\0' || !g_utf8_validate (address, -1, NULL))
    {
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_ADDRESS,
                   "\"%s\" is not an e-mail address; expected NAME@DOMAIN, e.g. "
                   "alice@example.com",
                   address);
      return FALSE;
    }
  /* a domain is a host name: no second '@', no path or port */
  if (strpbrk (at + 1, "/:[]\\") != NULL || at[1] == '.' || g_str_has_suffix (at + 1, ".."))
    {
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_ADDRESS,
                   "\"%s\" is not an e-mail address: \"%s\" is not a domain name", address, at + 1);
      return FALSE;
    }
  if (local_part != NULL)
    *local_part = g_strndup (address, at - address);
  if (domain != NULL)
    {
      g_autofree char *d = g_ascii_strdown (at + 1, -1);
      gsize len = strlen (d);

      /* "example.com." is the same domain */
      if (len > 1 && d[len - 1] == '.')
        d[len - 1] = '\0';
      *domain = g_steal_pointer (&d);
    }
  return TRUE;
}

char *
bz_setup_address_to_name (const char *address)
{
  GString *name = g_string_new (NULL);

  for (const char *p = address; *p != '\0' && name->len < BZ_ACCOUNT_NAME_MAX; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-')
        g_string_append_c (name, *p);
      else
        g_string_append_c (name, '-');
    }
  return g_string_free (name, FALSE);
}
