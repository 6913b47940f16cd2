/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-daemon-log.h"
#include "bz-notify.h"

static void
notify_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autofree char *account = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);

  if (reply == NULL)
    bz_daemon_log (G_LOG_LEVEL_DEBUG, account, "notification not shown: %s", error->message);
}

void
bz_notify_new_mail (GDBusConnection *bus, const char *account, guint count, const char *from,
                    const char *subject)
{
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  g_autofree char *text = NULL;
  GVariantBuilder hints;

  g_return_if_fail (G_IS_DBUS_CONNECTION (bus));
  summary =
      g_strdup_printf (count == 1 ? "%u new message (%s)" : "%u new messages (%s)", count, account);
  text = g_strdup_printf ("%s\n%s", from != NULL ? from : "", subject != NULL ? subject : "");
  /* The body may be read as markup: a sender like "<bob@x>" must stay text. */
  body = g_markup_escape_text (text, -1);
  g_variant_builder_init (&hints, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("email.arrived"));
  g_variant_builder_add (&hints, "{sv}", "desktop-entry", g_variant_new_string ("buzond"));
  g_dbus_connection_call (bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                          "org.freedesktop.Notifications", "Notify",
                          g_variant_new ("(susssasa{sv}i)", "buzon", (guint32) 0, "mail-unread",
                                         summary, body, NULL, &hints, (gint32) -1),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, notify_cb,
                          g_strdup (account));
}

void
bz_notify_attention (GDBusConnection *bus, const char *account, const char *summary,
                     const char *body)
{
  g_autofree char *escaped = NULL;
  GVariantBuilder hints;

  g_return_if_fail (G_IS_DBUS_CONNECTION (bus));
  escaped = g_markup_escape_text (body, -1);
  g_variant_builder_init (&hints, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("email"));
  g_variant_builder_add (&hints, "{sv}", "desktop-entry", g_variant_new_string ("buzond"));
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (1));
  g_dbus_connection_call (bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                          "org.freedesktop.Notifications", "Notify",
                          g_variant_new ("(susssasa{sv}i)", "buzon", (guint32) 0, "dialog-password",
                                         summary, escaped, NULL, &hints, (gint32) -1),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, notify_cb,
                          g_strdup (account));
}
