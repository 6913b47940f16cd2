/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "bz-log.h"

static GPrivate thread_account = G_PRIVATE_INIT (g_free);

void
bz_log_set_thread_account (const char *name)
{
  g_private_replace (&thread_account, g_strdup (name));
}

const char *
bz_log_get_thread_account (void)
{
  return g_private_get (&thread_account);
}

/* The priorities of syslog, as g_log_structured() sets them. */
static const char *
priority (GLogLevelFlags level)
{
  switch (level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR:
      return "3";
    case G_LOG_LEVEL_CRITICAL:
    case G_LOG_LEVEL_WARNING:
      return "4";
    case G_LOG_LEVEL_MESSAGE:
      return "5";
    case G_LOG_LEVEL_INFO:
      return "6";
    default:
      return "7";
    }
}

void
bz_log_account_valist (const char *domain, GLogLevelFlags level, const char *account,
                       const char *format, va_list args)
{
  g_autofree char *text = g_strdup_vprintf (format, args);
  g_autofree char *message = NULL;
  GLogField fields[4] = {
    { "GLIB_DOMAIN", domain, -1 },
    { "PRIORITY", priority (level), -1 },
    { "MESSAGE", NULL, -1 },
    { "ACCOUNT", NULL, -1 },
  };

  if (account == NULL)
    account = bz_log_get_thread_account ();
  message = account != NULL ? g_strdup_printf ("%s: %s", account, text) : g_steal_pointer (&text);
  fields[2].value = message;
  fields[3].value = account;
  g_log_structured_array (level, fields, account != NULL ? 4 : 3);
}

void
bz_log_account_full (const char *domain, GLogLevelFlags level, const char *account,
                     const char *format, ...)
{
  va_list args;

  va_start (args, format);
  bz_log_account_valist (domain, level, account, format, args);
  va_end (args);
}

GLogWriterOutput
bz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *account = bz_log_get_thread_account ();
  g_autofree GLogField *named = NULL;
  g_autofree char *message = NULL;

  for (gsize i = 0; account != NULL && i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "ACCOUNT") == 0)
      account = NULL; /* named already */
  if (account == NULL)
    return g_log_writer_default (level, fields, n_fields, user_data);
  named = g_new (GLogField, n_fields + 1);
  for (gsize i = 0; i < n_fields; i++)
    {
      named[i] = fields[i];
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        {
          /* a length of -1 means NUL-terminated */
          gsize len = fields[i].length < 0 ? strlen (fields[i].value) : (gsize) fields[i].length;

          message =
              g_strdup_printf ("%s: %.*s", account, (int) len, (const char *) fields[i].value);
          named[i].value = message;
          named[i].length = -1;
        }
    }
  named[n_fields] = (GLogField){ "ACCOUNT", account, -1 };
  return g_log_writer_default (level, named, n_fields + 1, user_data);
}
