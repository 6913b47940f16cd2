/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-daemon-log.h"

void
bz_daemon_log (GLogLevelFlags level, const char *account, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;
  g_autofree char *message = NULL;
  GLogField fields[4] = {
    { "GLIB_DOMAIN", "buzond", -1 },
    { "PRIORITY", NULL, -1 },
    { "MESSAGE", NULL, -1 },
    { "ACCOUNT", account, -1 },
  };

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  message = account != NULL ? g_strdup_printf ("%s: %s", account, text) : g_steal_pointer (&text);
  /* The priorities of syslog, as g_log_structured() would set them. */
  switch (level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR:
      fields[1].value = "3";
      break;
    case G_LOG_LEVEL_CRITICAL:
    case G_LOG_LEVEL_WARNING:
      fields[1].value = "4";
      break;
    case G_LOG_LEVEL_MESSAGE:
      fields[1].value = "5";
      break;
    case G_LOG_LEVEL_INFO:
      fields[1].value = "6";
      break;
    default:
      fields[1].value = "7";
      break;
    }
  fields[2].value = message;
  g_log_structured_array (level, fields, account != NULL ? 4 : 3);
}
