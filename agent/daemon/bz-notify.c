/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "bz-daemon-log.h"
#include "bz-notify.h"
#include "bz-store-maildir.h"

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"
#define NOTIFY_IFACE "org.freedesktop.Notifications"

/* A sound per new-mail notification would ring on every account's sync
 * after a resume: at most one a minute, the others silent. */
#define SOUND_INTERVAL_US (60 * G_USEC_PER_SEC)
/* Lines of sender and subject in a new-mail notification. */
#define MAX_LINES 3

/* The notification now shown for one account and kind. */
typedef struct
{
  guint32 id;      /* the server's id, 0 until it answered */
  char *open_path; /* what the default action opens, or NULL */
  char *token;     /* XDG activation token that came with the action */
} Shown;

struct _BzNotify
{
  GObject parent_instance;
  GDBusConnection *bus;
  GHashTable *shown; /* "kind:account" -> Shown* */
  gint64 last_sound_us;
  gboolean sounded;
  guint action_sub;
  guint closed_sub;
  guint token_sub;
};

G_DEFINE_TYPE (BzNotify, bz_notify, G_TYPE_OBJECT)

BzNotifyMessage *
bz_notify_message_new (const char *from, const char *subject, const char *path)
{
  BzNotifyMessage *message = g_new0 (BzNotifyMessage, 1);

  message->from = g_strdup (from);
  message->subject = g_strdup (subject);
  message->path = g_strdup (path);
  return message;
}

void
bz_notify_message_free (BzNotifyMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->from);
  g_free (message->subject);
  g_free (message->path);
  g_free (message);
}

static void
shown_free (gpointer data)
{
  Shown *shown = data;

  g_free (shown->open_path);
  g_free (shown->token);
  g_free (shown);
}

static Shown *
find_by_id (BzNotify *self, guint32 id, const char **key)
{
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, self->shown);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (id != 0 && ((Shown *) v)->id == id)
      {
        if (key != NULL)
          *key = k;
        return v;
      }
  return NULL;
}

/* --- opening a message ----------------------------------------------------- */

/* A mail reader moves a message from new/ to cur/ and appends ":2,FLAGS";
 * follow it there. Returns a new string, or NULL when it is gone. */
static char *
find_moved (const char *path)
{
  g_autoptr (BzStoreMaildirIndex) maildirs = bz_store_maildir_index_new ();

  return g_strdup (bz_store_maildir_index_locate (maildirs, path));
}

gboolean
bz_notify_open_message (const char *path, const char *activation_token, GError **error)
{
  g_autofree char *found = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GAppInfo) app = NULL;
  g_autoptr (GAppLaunchContext) context = g_app_launch_context_new ();
  GList files = { NULL, NULL, NULL };

  g_return_val_if_fail (path != NULL, FALSE);
  found = g_file_test (path, G_FILE_TEST_EXISTS) ? g_strdup (path) : find_moved (path);
  if (found == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("%s is no longer in the Maildir"),
                   path);
      return FALSE;
    }
  /* The window that opens may take the focus the click gave us. */
  if (activation_token != NULL)
    {
      g_app_launch_context_setenv (context, "XDG_ACTIVATION_TOKEN", activation_token);
      g_app_launch_context_setenv (context, "DESKTOP_STARTUP_ID", activation_token);
    }
  file = g_file_new_for_path (found);
  /* Maildir names have no extension and sniffing may say text/plain: ask
   * for the mail handler by type. */
  app = g_app_info_get_default_for_type ("message/rfc822", FALSE);
  if (app != NULL)
    {
      files.data = file;
      return g_app_info_launch (app, &files, context, error);
    }
  else
    {
      g_autofree char *uri = g_file_get_uri (file);

      return g_app_info_launch_default_for_uri (uri, context, error);
    }
}

/* --- the server's signals -------------------------------------------------- */

static void
action_invoked_cb (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                   const char *signal, GVariant *params, gpointer user_data)
{
  BzNotify *self = BZ_NOTIFY (user_data);
  const char *action = NULL;
  const char *key = NULL;
  guint32 id = 0;
  Shown *shown;
  g_autoptr (GError) error = NULL;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(us)")))
    return;
  g_variant_get (params, "(u&s)", &id, &action);
  shown = find_by_id (self, id, &key);
  if (shown == NULL || shown->open_path == NULL || !g_str_equal (action, "default"))
    return;
  bz_daemon_log (G_LOG_LEVEL_INFO, strchr (key, ':') + 1, "opening %s", shown->open_path);
  if (!bz_notify_open_message (shown->open_path, shown->token, &error))
    bz_daemon_log (G_LOG_LEVEL_WARNING, strchr (key, ':') + 1, "cannot open the message: %s",
                   error->message);
}

static void
activation_token_cb (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                     const char *signal, GVariant *params, gpointer user_data)
{
  BzNotify *self = BZ_NOTIFY (user_data);
  const char *token = NULL;
  guint32 id = 0;
  Shown *shown;

  /* Sent just before ActionInvoked (notification spec 1.2). */
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(us)")))
    return;
  g_variant_get (params, "(u&s)", &id, &token);
  shown = find_by_id (self, id, NULL);
  if (shown != NULL)
    {
      g_free (shown->token);
      shown->token = g_strdup (token);
    }
}

static void
closed_cb (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
           const char *signal, GVariant *params, gpointer user_data)
{
  BzNotify *self = BZ_NOTIFY (user_data);
  const char *key = NULL;
  guint32 id = 0, reason = 0;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(uu)")))
    return;
  g_variant_get (params, "(uu)", &id, &reason);
  /* Gone: the next one is a new notification, not a replacement. */
  if (find_by_id (self, id, &key) != NULL)
    g_hash_table_remove (self->shown, key);
}

/* --- sending --------------------------------------------------------------- */

typedef struct
{
  BzNotify *self; /* referenced */
  char *key;
  char *account;
} SendData;

static void
send_data_free (SendData *data)
{
  g_object_unref (data->self);
  g_free (data->key);
  g_free (data->account);
  g_free (data);
}

static void
notify_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SendData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  Shown *shown = g_hash_table_lookup (data->self->shown, data->key);

  if (reply == NULL)
    {
      bz_daemon_log (G_LOG_LEVEL_DEBUG, data->account, "notification not shown: %s",
                     error->message);
      g_hash_table_remove (data->self->shown, data->key);
    }
  else if (shown != NULL)
    g_variant_get (reply, "(u)", &shown->id);
  send_data_free (data);
}

/* Sends (or replaces) the notification of @kind for @account. */
static void
send (BzNotify *self, const char *kind, const char *account, const char *summary, const char *body,
      const char *open_path, gboolean may_sound)
{
  g_autofree char *key = g_strconcat (kind, ":", account, NULL);
  Shown *shown = g_hash_table_lookup (self->shown, key);
  GVariantBuilder hints, actions;
  gint64 now = g_get_monotonic_time ();
  SendData *data;
  guint32 replaces = 0;

  if (shown == NULL)
    {
      shown = g_new0 (Shown, 1);
      g_hash_table_insert (self->shown, g_strdup (key), shown);
    }
  replaces = shown->id;
  g_free (shown->open_path);
  shown->open_path = g_strdup (open_path);
  g_clear_pointer (&shown->token, g_free);

  g_variant_builder_init (&hints, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&hints, "{sv}", "desktop-entry",
                         g_variant_new_string (BZ_NOTIFY_DESKTOP_ENTRY));
  if (g_str_equal (kind, "mail"))
    g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("email.arrived"));
  else if (g_str_equal (kind, "attention"))
    g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("email"));
  if (may_sound && (!self->sounded || now - self->last_sound_us >= SOUND_INTERVAL_US))
    {
      self->sounded = TRUE;
      self->last_sound_us = now;
      g_variant_builder_add (&hints, "{sv}", "sound-name",
                             g_variant_new_string ("message-new-email"));
    }
  else
    g_variant_builder_add (&hints, "{sv}", "suppress-sound", g_variant_new_boolean (TRUE));
  g_variant_builder_init (&actions, G_VARIANT_TYPE_STRING_ARRAY);
  if (open_path != NULL)
    {
      g_variant_builder_add (&actions, "s", "default");
      /* TRANSLATORS: the button of a new-mail notification */
      g_variant_builder_add (&actions, "s", _ ("Open"));
    }

  data = g_new0 (SendData, 1);
  data->self = g_object_ref (self);
  data->key = g_steal_pointer (&key);
  data->account = g_strdup (account);
  g_dbus_connection_call (self->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE, "Notify",
                          g_variant_new ("(susssasa{sv}i)", "buzon", replaces, "mail-unread",
                                         summary, body, &actions, &hints, (gint32) -1),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, notify_cb,
                          data);
}

void
bz_notify_new_mail (BzNotify *self, const char *account, guint count, GPtrArray *newest)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  const BzNotifyMessage *first;

  g_return_if_fail (BZ_IS_NOTIFY (self));
  g_return_if_fail (newest != NULL && newest->len > 0);
  first = g_ptr_array_index (newest, 0);
  summary = g_strdup_printf (
      /* TRANSLATORS: summary of a notification; %u is a count, %s an account name */
      g_dngettext (GETTEXT_PACKAGE, "%u new message (%s)", "%u new messages (%s)", count), count,
      account);
  for (guint i = 0; i < newest->len && i < MAX_LINES; i++)
    {
      const BzNotifyMessage *m = g_ptr_array_index (newest, i);

      if (i > 0)
        g_string_append_c (text, '\n');
      /* TRANSLATORS: one line of a new-mail notification: sender, subject */
      g_string_append_printf (text, _ ("%s: %s"),
                              m->from != NULL && *m->from ? m->from : _ ("(unknown sender)"),
                              m->subject != NULL && *m->subject ? m->subject : _ ("(no subject)"));
    }
  /* The body may be read as markup: a sender like "<bob@x>" must stay text. */
  body = g_markup_escape_text (text->str, -1);
  send (self, "mail", account, summary, body, first->path, TRUE);
}

void
bz_notify_first_sync (BzNotify *self, const char *account, guint count)
{
  g_autofree char *summary = NULL;

  g_return_if_fail (BZ_IS_NOTIFY (self));
  summary = g_strdup_printf (
      /* TRANSLATORS: the first sync of an account; %s is its name, %'u a count */
      g_dngettext (GETTEXT_PACKAGE, "%s: %'u message downloaded", "%s: %'u messages downloaded",
                   count),
      account, count);
  send (self, "mail", account, summary, "", NULL, FALSE);
}

/* --- object ---------------------------------------------------------------- */

static void
bz_notify_dispose (GObject *object)
{
  BzNotify *self = BZ_NOTIFY (object);

  if (self->bus != NULL)
    {
      g_dbus_connection_signal_unsubscribe (self->bus, self->action_sub);
      g_dbus_connection_signal_unsubscribe (self->bus, self->closed_sub);
      g_dbus_connection_signal_unsubscribe (self->bus, self->token_sub);
    }
  g_clear_object (&self->bus);
  g_clear_pointer (&self->shown, g_hash_table_unref);
  G_OBJECT_CLASS (bz_notify_parent_class)->dispose (object);
}

static void
bz_notify_class_init (BzNotifyClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bz_notify_dispose;
}

static void
bz_notify_init (BzNotify *self)
{
  self->shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, shown_free);
}

BzNotify *
bz_notify_new (GDBusConnection *bus)
{
  BzNotify *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);
  self = g_object_new (BZ_TYPE_NOTIFY, NULL);
  self->bus = g_object_ref (bus);
  self->action_sub = g_dbus_connection_signal_subscribe (
      bus, NOTIFY_NAME, NOTIFY_IFACE, "ActionInvoked", NOTIFY_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      action_invoked_cb, self, NULL);
  self->token_sub = g_dbus_connection_signal_subscribe (
      bus, NOTIFY_NAME, NOTIFY_IFACE, "ActivationToken", NOTIFY_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, activation_token_cb, self, NULL);
  self->closed_sub = g_dbus_connection_signal_subscribe (
      bus, NOTIFY_NAME, NOTIFY_IFACE, "NotificationClosed", NOTIFY_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, closed_cb, self, NULL);
  return self;
}

void
bz_notify_attention (BzNotify *self, const char *account, const char *summary, const char *body)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (BZ_IS_NOTIFY (self));
  /* The body may be read as markup: an error text like "<x>" stays text. */
  escaped = g_markup_escape_text (body, -1);
  send (self, "attention", account, summary, escaped, NULL, FALSE);
}
