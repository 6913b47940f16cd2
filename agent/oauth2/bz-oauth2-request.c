/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The token endpoint, buzon's side: the form to send, and the wiping of
 * tokens and grants. The request itself (libsoup, json-glib) is in the
 * module (bz-oauth2-module.h), loaded here on the first request. */

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "bz-oauth2-module.h"
#include "bz-oauth2.h"

GQuark
bz_oauth2_error_quark (void)
{
  return g_quark_from_static_string (BZ_OAUTH2_ERROR_QUARK_NAME);
}

void
bz_oauth2_token_free (char *token)
{
  if (token == NULL)
    return;
  explicit_bzero (token, strlen (token));
  g_free (token);
}

void
bz_oauth2_grant_free (BzOAuth2Grant *grant)
{
  if (grant == NULL)
    return;
  bz_oauth2_token_free (grant->access_token);
  bz_oauth2_token_free (grant->refresh_token);
  g_free (grant);
}

BzOAuth2Grant *
bz_oauth2_request_token (const char *account_name, const char *token_url, GCancellable *cancellable,
                         GError **error, const char *first_param, ...)
{
  BzOAuth2HttpPost *post = bz_oauth2_module_get (account_name, error);
  g_autoptr (GBytes) form_bytes = NULL;
  GString *form;
  va_list ap;

  if (post == NULL)
    return NULL;
  form = g_string_sized_new (8192); /* no regrowth copies of the secrets */
  va_start (ap, first_param);
  for (const char *name = first_param; name != NULL; name = va_arg (ap, const char *))
    {
      const char *value = va_arg (ap, const char *);
      g_autofree char *escaped = NULL;

      if (value == NULL)
        continue;
      escaped = g_uri_escape_string (value, NULL, FALSE);
      g_string_append_printf (form, "%s%s=%s", form->len > 0 ? "&" : "", name, escaped);
      explicit_bzero (escaped, strlen (escaped));
    }
  va_end (ap);
  /* The form carries the refresh token or code: keep the only copy in a
   * buffer we wipe when libsoup is done with it. */
  {
    gsize form_len = form->len;
    char *form_str = g_string_free (form, FALSE);

    form_bytes = g_bytes_new_with_free_func (form_str, form_len,
                                             (GDestroyNotify) bz_oauth2_token_free, form_str);
  }
  return post (account_name, token_url, form_bytes, cancellable, error);
}
