/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-daemon-log.h"
#include "bz-log.h"

void
bz_daemon_log (GLogLevelFlags level, const char *account, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  bz_log_account_valist (G_LOG_DOMAIN, level, account, format, args);
  va_end (args);
}
