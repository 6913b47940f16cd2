/* SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include "bz-config-private.h"
#include "bz-config.h"

#define BZ_CONFIG_KEEP_DAYS_MAX 36500

void
bz_config_group_fail (BzConfigGroupCtx *ctx, int code, const char *key, const char *value,
                      const char *format, ...)
{
  g_autoptr (GString) msg = g_string_new (NULL);
  va_list args;

  g_string_append_printf (msg, "%s: [%s]", ctx->path, ctx->group);
  if (key != NULL)
    {
      g_string_append_printf (msg, " %s", key);
      if (value != NULL)
        g_string_append_printf (msg, " = %s", value);
    }
  g_string_append (msg, ": ");
  va_start (args, format);
  g_string_append_vprintf (msg, format, args);
  va_end (args);
  g_ptr_array_add (ctx->errors, g_error_new_literal (BZ_CONFIG_ERROR, code, msg->str));
}

char *
bz_config_group_get_value (BzConfigGroupCtx *ctx, const char *key, gboolean verbatim)
{
  char *value = g_key_file_get_value (ctx->keyfile, ctx->group, key, NULL);

  if (value == NULL)
    return NULL;
  /* From the second byte, since a comment needs blank before '#'; an empty
   * value has no second byte. */
  if (!verbatim && value[0] != '\0')
    {
      for (char *p = value + 1; *p != '\0'; p++)
        {
          if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t'))
            {
              *p = '\0';
              break;
            }
        }
    }
  return g_strstrip (value);
}

gboolean
bz_config_parse_uint (BzConfigGroupCtx *ctx, const char *key, const char *value, guint64 min,
                      guint64 max, guint64 *out)
{
  if (!g_ascii_string_to_unsigned (value, 10, min, max, out, NULL))
    {
      bz_config_group_fail (
          ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
          "expected a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, min, max);
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_config_parse_bool (BzConfigGroupCtx *ctx, const char *key, const char *value, gboolean *out)
{
  if (g_strcmp0 (value, "true") == 0 || g_strcmp0 (value, "1") == 0)
    {
      *out = TRUE;
      return TRUE;
    }
  if (g_strcmp0 (value, "false") == 0 || g_strcmp0 (value, "0") == 0)
    {
      *out = FALSE;
      return TRUE;
    }
  bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value, "expected true or false");
  return FALSE;
}

gboolean
bz_config_parse_enum (BzConfigGroupCtx *ctx, const char *key, const char *value,
                      const char *const *names, guint *out)
{
  g_autofree char *allowed = NULL;

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (g_strcmp0 (value, names[i]) == 0)
        {
          *out = i;
          return TRUE;
        }
    }
  allowed = g_strjoinv (", ", (GStrv) names);
  bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value, "expected one of %s",
                        allowed);
  return FALSE;
}

gboolean
bz_config_parse_size (BzConfigGroupCtx *ctx, const char *key, const char *value, guint64 *out)
{
  g_autofree char *digits = g_strdup (value);
  gsize len = strlen (digits);
  guint shift = 0;
  guint64 number;

  if (len > 1)
    {
      switch (g_ascii_toupper (digits[len - 1]))
        {
        case 'K':
          shift = 10;
          break;
        case 'M':
          shift = 20;
          break;
        case 'G':
          shift = 30;
          break;
        default:
          break;
        }
      if (shift > 0)
        digits[len - 1] = '\0';
    }
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64 >> shift, &number, NULL))
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected a size in bytes, optionally with a K, M "
                            "or G suffix (0 = no limit)");
      return FALSE;
    }
  *out = number << shift;
  return TRUE;
}

gboolean
bz_config_parse_keep (BzConfigGroupCtx *ctx, const char *key, const char *value, BzKeepPolicy *out,
                      guint *out_days)
{
  guint64 days;

  if (g_strcmp0 (value, "forever") == 0)
    {
      *out = BZ_KEEP_FOREVER;
      *out_days = 0;
      return TRUE;
    }
  if (g_strcmp0 (value, "delete") == 0)
    {
      *out = BZ_KEEP_DELETE;
      *out_days = 0;
      return TRUE;
    }
  if (g_str_has_prefix (value, "days:") &&
      g_ascii_string_to_unsigned (value + strlen ("days:"), 10, 1, BZ_CONFIG_KEEP_DAYS_MAX, &days,
                                  NULL))
    {
      *out = BZ_KEEP_DAYS;
      *out_days = (guint) days;
      return TRUE;
    }
  bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                        "expected forever, delete or days:N with N from 1 to %d",
                        BZ_CONFIG_KEEP_DAYS_MAX);
  return FALSE;
}

gboolean
bz_config_parse_pin (BzConfigGroupCtx *ctx, const char *key, const char *value, char **out)
{
  g_autoptr (GString) hex = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ':')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_truncate (hex, 0);
          break;
        }
      g_string_append_c (hex, g_ascii_tolower (*p));
    }
  if (hex->len != 64)
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected the SHA-256 of the server's public key "
                            "(SPKI) as 64 hex digits, ':' separators allowed");
      return FALSE;
    }
  *out = g_string_free (g_steal_pointer (&hex), FALSE);
  return TRUE;
}

gboolean
bz_config_parse_path (BzConfigGroupCtx *ctx, const char *key, const char *value, char **out)
{
  g_autofree char *expanded = NULL;

  if (value[0] == '~')
    {
      if (value[1] != '\0' && value[1] != '/')
        {
          bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                                "~user is not supported; expected an absolute "
                                "path, ~/..., or a path relative to the config file");
          return FALSE;
        }
      expanded = g_build_filename (g_get_home_dir (), value + 1, NULL);
    }
  else if (value[0] == '\0')
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected an absolute path, ~/..., or a path "
                            "relative to the config file");
      return FALSE;
    }
  else
    {
      expanded = g_strdup (value);
    }
  g_free (*out);
  *out = g_canonicalize_filename (expanded, ctx->base_dir);
  return TRUE;
}

static gboolean
bz_config_has_space_or_control (const char *value)
{
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (g_ascii_iscntrl (*p) || *p == ' ')
        return TRUE;
    }
  return FALSE;
}

/* An IPv6 address literal (no brackets, no zone). */
static gboolean
bz_config_is_ipv6 (const char *value)
{
  return strchr (value, ':') != NULL && g_hostname_is_ip_address (value);
}

gboolean
bz_config_parse_host (BzConfigGroupCtx *ctx, const char *key, const char *value, char **out)
{
  gsize len = strlen (value);

  if (*value == '\0' || bz_config_has_space_or_control (value) || strchr (value, '/') != NULL)
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected a host name or IP address");
      return FALSE;
    }
  /* [::1] as in URLs: the address inside, so that the loopback check, the
   * TLS IP check and the connection all see the same ::1. */
  if (value[0] == '[')
    {
      g_autofree char *inner =
          len > 2 && value[len - 1] == ']' ? g_strndup (value + 1, len - 2) : NULL;

      if (inner == NULL || !bz_config_is_ipv6 (inner))
        {
          bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                                "expected an IPv6 address in brackets, e.g. [::1], with "
                                "nothing after the ']' (the port goes in the key port)");
          return FALSE;
        }
      g_free (*out);
      *out = g_steal_pointer (&inner);
      return TRUE;
    }
  /* host:port would override port and become the TLS server name. */
  if (strchr (value, ':') != NULL && !bz_config_is_ipv6 (value))
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected a host name or IP address without a port; "
                            "put the port in the key port");
      return FALSE;
    }
  g_free (*out);
  *out = g_strdup (value);
  return TRUE;
}

gboolean
bz_config_parse_user (BzConfigGroupCtx *ctx, const char *key, const char *value)
{
  /* CR or LF in a user name would let it inject POP3 commands */
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (g_ascii_iscntrl (*p))
        {
          bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                                "expected a user name without control characters");
          return FALSE;
        }
    }
  if (*value == '\0')
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected the login name on the server");
      return FALSE;
    }
  return TRUE;
}
