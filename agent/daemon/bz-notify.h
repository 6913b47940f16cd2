/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Desktop notifications through org.freedesktop.Notifications (buzond is
 * no GApplication, so GNotification does not apply), by the convention:
 * hints desktop-entry and category, one notification per account and kind
 * that the next one replaces, a default action, sound at most once a
 * minute. A missing or failing notification server is logged at debug
 * level only. One function per kind of notification. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The desktop file that names us to the notification server. */
#define BZ_NOTIFY_DESKTOP_ENTRY "org.buzon.Agent"

/* One stored message, as a notification shows it. */
typedef struct
{
  char *from;    /* may be NULL */
  char *subject; /* may be NULL */
  char *path;    /* the file in the Maildir */
} BzNotifyMessage;

/* Returns a new message with copies of the strings; free with
 * bz_notify_message_free(). */
BzNotifyMessage *bz_notify_message_new (const char *from, const char *subject, const char *path);
void bz_notify_message_free (BzNotifyMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzNotifyMessage, bz_notify_message_free)

#define BZ_TYPE_NOTIFY (bz_notify_get_type ())
G_DECLARE_FINAL_TYPE (BzNotify, bz_notify, BZ, NOTIFY, GObject)

/* Notifications on @bus (referenced); listens to the server's
 * ActionInvoked and NotificationClosed signals until disposed. */
BzNotify *bz_notify_new (GDBusConnection *bus);

/* New mail for @account: @count new messages, @newest (BzNotifyMessage*,
 * newest first, at least one) the newest of them. Replaces the account's
 * previous new-mail notification; its default action opens newest[0]. */
void bz_notify_new_mail (BzNotify *self, const char *account, guint count, GPtrArray *newest);

/* The first sync of @account downloaded the @count messages already on the
 * server: one summary line, no sound, no per-message detail. */
void bz_notify_first_sync (BzNotify *self, const char *account, guint count);

/* Opens @path with the default handler of message/rfc822 (or the file's
 * own type when none is set). Returns FALSE with @error set on failure. */
gboolean bz_notify_open_message (const char *path, const char *activation_token, GError **error);

/* One notification that @account needs the user: @summary and @body are
 * plain text. Returns at once. */
void bz_notify_attention (BzNotify *self, const char *account, const char *summary,
                          const char *body);

G_END_DECLS
