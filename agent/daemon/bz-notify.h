/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Desktop notification of new mail through org.freedesktop.Notifications
 * (buzond is no GApplication, so GNotification does not apply). A missing
 * or failing notification server is logged at debug level only. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One notification: @count new messages for @account, the newest from
 * @from about @subject (both may be NULL). Returns at once. */
void bz_notify_new_mail (GDBusConnection *bus, const char *account, guint count, const char *from,
                         const char *subject);

/* One notification that @account needs the user: @summary and @body are
 * plain text. Returns at once. */
void bz_notify_attention (GDBusConnection *bus, const char *account, const char *summary,
                          const char *body);

G_END_DECLS
