/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Structured logging for the daemon: every line about an account names it
 * in the message and in an ACCOUNT= field (journalctl ACCOUNT=work). The
 * default GLib writer sends it to journald when run by systemd. Never pass
 * a password. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Logs @format in the daemon's domain (buzon-daemon), as bz_log_account()
 * does; @account may be NULL. */
void bz_daemon_log (GLogLevelFlags level, const char *account, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

G_END_DECLS
