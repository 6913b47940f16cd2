/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Desktop notifications: a notification server on the private bus (this
 * test owns org.freedesktop.Notifications) records what buzond sends;
 * its ActionInvoked makes buzond open the newest message with the
 * default handler of message/rfc822, a recording script registered
 * through a test .desktop file and mimeapps.list. Each case runs as its
 * own meson test (-p PATH). */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "daemon-test-common.h"

static const char notifications_xml[] =
    "<node><interface name='org.freedesktop.Notifications'>"
    "<method name='Notify'>"
    "<arg type='s' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
    "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='as' direction='in'/>"
    "<arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
    "<arg type='u' direction='out'/></method>"
    "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
    "<signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
    "<signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
    "</interface></node>";

typedef struct
{
  guint32 replaces_id;
  guint32 id; /* what we answered */
  char *summary;
  char *body;
  GStrv actions;
  GVariant *hints;
  gint64 received_us;
} Seen;

static void
seen_free (gpointer data)
{
  Seen *seen = data;

  g_free (seen->summary);
  g_free (seen->body);
  g_strfreev (seen->actions);
  g_variant_unref (seen->hints);
  g_free (seen);
}

typedef struct
{
  GDBusConnection *bus;
  guint reg;
  GPtrArray *seen; /* Seen* */
  guint32 next_id;
} Server;

static void
notify_method_cb (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                  const char *method, GVariant *params, GDBusMethodInvocation *invocation,
                  gpointer data)
{
  Server *server = data;
  Seen *seen;

  if (g_str_equal (method, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", "body-markup", "sound", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
      return;
    }
  seen = g_new0 (Seen, 1);
  g_variant_get (params, "(&su&sss^as@a{sv}i)", NULL, &seen->replaces_id, NULL, &seen->summary,
                 &seen->body, &seen->actions, &seen->hints, NULL);
  /* the server's rule: a replacement keeps its id */
  seen->id = seen->replaces_id != 0 ? seen->replaces_id : server->next_id++;
  seen->received_us = g_get_monotonic_time ();
  g_test_message ("Notify replaces %u -> %u: %s | %s", seen->replaces_id, seen->id, seen->summary,
                  seen->body);
  g_ptr_array_add (server->seen, seen);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", seen->id));
}

static void
server_start (Server *server)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_autoptr (GVariant) owned = NULL;
  guint32 reply = 0;
  const GDBusInterfaceVTable vtable = { notify_method_cb, NULL, NULL, { 0 } };

  g_assert_no_error (error);
  server->seen = g_ptr_array_new_with_free_func (seen_free);
  server->next_id = 100;
  server->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  server->reg =
      g_dbus_connection_register_object (server->bus, "/org/freedesktop/Notifications",
                                         node->interfaces[0], &vtable, server, NULL, &error);
  g_assert_no_error (error);
  owned = g_dbus_connection_call_sync (
      server->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", "org.freedesktop.Notifications", 4),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  /* 1: DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
  g_variant_get (owned, "(u)", &reply);
  g_assert_cmpuint (reply, ==, 1);
}

static void
server_stop (Server *server)
{
  g_dbus_connection_unregister_object (server->bus, server->reg);
  g_ptr_array_unref (server->seen);
  g_object_unref (server->bus);
}

static void
server_emit (Server *server, const char *signal, GVariant *params)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_dbus_connection_emit_signal (server->bus, NULL, "/org/freedesktop/Notifications",
                                                "org.freedesktop.Notifications", signal, params,
                                                &error));
  g_assert_no_error (error);
  g_assert_true (g_dbus_connection_flush_sync (server->bus, NULL, &error));
}

typedef struct
{
  GPtrArray *seen;
  guint n;
} SeenWait;

static gboolean
seen_cond (gpointer data)
{
  SeenWait *w = data;
  return w->seen->len >= w->n;
}

/* Waits for the @n-th Notify call and returns it (borrowed). */
static Seen *
wait_seen (Server *server, guint n)
{
  SeenWait w = { server->seen, n };

  g_assert_true (bz_test_wait_until (seen_cond, &w, 30000));
  return g_ptr_array_index (server->seen, n - 1);
}

static const char *
hint_string (Seen *seen, const char *key)
{
  const char *value = NULL;

  return g_variant_lookup (seen->hints, key, "&s", &value) ? value : NULL;
}

static gboolean
hint_suppress_sound (Seen *seen)
{
  gboolean value = FALSE;

  return g_variant_lookup (seen->hints, "suppress-sound", "b", &value) && value;
}

/* The convention's hints, on every notification. */
static void
assert_convention (Seen *seen)
{
  g_assert_cmpstr (hint_string (seen, "desktop-entry"), ==, "org.buzon.Agent");
  g_assert_cmpstr (hint_string (seen, "category"), ==, "email.arrived");
  /* exactly one of the two sound hints */
  g_assert_true ((hint_string (seen, "sound-name") != NULL) != hint_suppress_sound (seen));
}

/* A sync of "box" through its proxy; returns when SyncFinished came. */
static void
sync_box (BzDbusAccount *account, SyncFinishedLog *log, guint n, guint expect_new)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_no_error (error);
  /* the coalescing pause (10 s) may come first */
  g_assert_true (daemon_test_wait_finished (log, n, 60000));
  g_assert_true (log->ok);
  g_assert_cmpuint (log->new_messages, ==, expect_new);
}

/* The body line buzond writes for one message of ListMessages. */
static char *
expected_line (GVariant *message)
{
  const char *from = NULL, *subject = NULL;
  g_autofree char *line = NULL;

  g_assert_true (g_variant_lookup (message, "from", "&s", &from));
  g_assert_true (g_variant_lookup (message, "subject", "&s", &subject));
  line = g_strdup_printf ("%s: %s", from, subject);
  return g_markup_escape_text (line, -1);
}

/* A message/rfc822 handler that records its argument, as a .desktop file
 * in @data_dir/applications and the default in $XDG_CONFIG_HOME. Returns
 * the file it records into. */
static char *
install_fake_handler (const char *data_dir)
{
  g_autofree char *apps = g_build_filename (data_dir, "applications", NULL);
  g_autofree char *script = g_build_filename (data_dir, "record-open.sh", NULL);
  g_autofree char *record = g_build_filename (data_dir, "opened.txt", NULL);
  g_autofree char *desktop = g_build_filename (apps, "buzon-test-reader.desktop", NULL);
  g_autofree char *mimeapps = g_build_filename (g_get_user_config_dir (), "mimeapps.list", NULL);
  g_autofree char *script_text =
      g_strdup_printf ("#!/bin/sh\nprintf '%%s\\n' \"$@\" >> '%s.part'\nmv '%s.part' '%s'\n",
                       record, record, record);
  g_autofree char *desktop_text =
      g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Test mail reader\n"
                       "Exec='%s' %%f\nMimeType=message/rfc822;\nNoDisplay=true\n",
                       script);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (apps, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (script, script_text, -1, &error));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  g_assert_true (g_file_set_contents (desktop, desktop_text, -1, &error));
  g_assert_true (g_file_set_contents (
      mimeapps, "[Default Applications]\nmessage/rfc822=buzon-test-reader.desktop\n", -1, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&record);
}

static gboolean
file_exists_cond (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static void
test_notify (void)
{
  g_autofree char *acct =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autofree char *conf = g_strconcat ("[general]\nnotify = true\n", acct, NULL);
  g_autofree char *data_dir = bz_test_mkdtemp ("share-XXXXXX");
  g_autofree char *record = install_fake_handler (data_dir);
  g_autofree char *data_dirs = g_strconcat ("XDG_DATA_DIRS=", data_dir, NULL);
  g_autofree char *opened = NULL;
  g_autofree char *want_opened = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GString) want_body = g_string_new (NULL);
  const char *path = NULL;
  Server server;
  SyncFinishedLog log;
  Seen *seen;
  guint32 id;
  gint64 second_asked_us;

  server_start (&server);
  g_assert_true (bz_test_fill_user ("test1", 3, 9, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (data_dirs, NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &log);

  /* First sync of a mailbox: one summary line, silent, nothing to open. */
  sync_box (account, &log, 1, 3);
  seen = wait_seen (&server, 1);
  assert_convention (seen);
  g_assert_cmpuint (seen->replaces_id, ==, 0);
  g_assert_cmpstr (seen->summary, ==, "box: 3 messages downloaded");
  g_assert_cmpstr (seen->body, ==, "");
  g_assert_cmpuint (g_strv_length (seen->actions), ==, 0);
  g_assert_true (hint_suppress_sound (seen));
  id = seen->id;

  /* New mail: replaces the first, names the newest three, rings. */
  g_assert_true (bz_test_fill_user ("test1", 3, 9, 4, "small", NULL, &error));
  g_assert_no_error (error);
  second_asked_us = g_get_monotonic_time ();
  sync_box (account, &log, 2, 3);
  seen = wait_seen (&server, 2);
  assert_convention (seen);
  g_assert_cmpuint (seen->replaces_id, ==, id);
  g_assert_cmpstr (seen->summary, ==, "3 new messages (box)");
  g_assert_true (
      bz_dbus_manager_call_list_messages_sync (run->manager, "box", 3, &list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (list), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GVariant) message = g_variant_get_child_value (list, i);
      g_autofree char *line = expected_line (message);

      g_string_append_printf (want_body, "%s%s", i > 0 ? "\n" : "", line);
    }
  g_assert_cmpstr (seen->body, ==, want_body->str);
  g_assert_cmpuint (g_strv_length (seen->actions), ==, 2);
  g_assert_cmpstr (seen->actions[0], ==, "default");
  g_assert_cmpstr (hint_string (seen, "sound-name"), ==, "message-new-email");

  /* One more: still the same notification; silent within the minute. */
  g_assert_true (bz_test_fill_user ("test1", 1, 9, 7, "small", NULL, &error));
  g_assert_no_error (error);
  sync_box (account, &log, 3, 1);
  seen = wait_seen (&server, 3);
  assert_convention (seen);
  g_assert_cmpuint (seen->replaces_id, ==, id);
  g_assert_cmpstr (seen->summary, ==, "1 new message (box)");
  /* buzond sent the second no earlier than we asked for it: if this one
   * came less than a minute after that, it came within buzond's minute. */
  if (seen->received_us - second_asked_us < 60 * G_USEC_PER_SEC)
    g_assert_true (hint_suppress_sound (seen));
  else
    g_test_message ("the third sync came more than a minute later: sound allowed");

  /* The default action opens the newest message with the reader. */
  g_clear_pointer (&list, g_variant_unref);
  g_assert_true (
      bz_dbus_manager_call_list_messages_sync (run->manager, "box", 1, &list, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) newest = g_variant_get_child_value (list, 0);
    g_assert_true (g_variant_lookup (newest, "path", "&s", &path));
    want_opened = g_strconcat (path, "\n", NULL);
  }
  server_emit (&server, "ActionInvoked", g_variant_new ("(us)", id, "default"));
  g_assert_true (bz_test_wait_until (file_exists_cond, record, 30000));
  g_assert_true (g_file_get_contents (record, &opened, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (opened, ==, want_opened);

  /* Closed by the user: the next one is new, not a replacement. */
  server_emit (&server, "NotificationClosed", g_variant_new ("(uu)", id, 2));
  g_assert_true (bz_test_fill_user ("test1", 1, 9, 8, "small", NULL, &error));
  g_assert_no_error (error);
  sync_box (account, &log, 4, 1);
  seen = wait_seen (&server, 4);
  assert_convention (seen);
  g_assert_cmpuint (seen->replaces_id, ==, 0);
  g_assert_cmpuint (seen->id, !=, id);
  g_assert_cmpuint (server.seen->len, ==, 4);

  daemon_test_finished_clear (&log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  server_stop (&server);
}

/* notify is off by default: new mail, and not a single Notify call. */
static void
test_notify_off (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test2", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GVariant) list = NULL;
  Server server;
  SyncFinishedLog log;

  server_start (&server);
  g_assert_true (bz_test_fill_user ("test2", 2, 9, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &log);
  sync_box (account, &log, 1, 2);
  /* Not the first sync either. */
  g_assert_true (bz_test_fill_user ("test2", 2, 9, 3, "small", NULL, &error));
  g_assert_no_error (error);
  sync_box (account, &log, 2, 2);
  /* A Notify would have left buzond before its answer to this call (one
   * connection keeps its order), and is dispatched here before the loop
   * runs dry. */
  g_assert_true (
      bz_dbus_manager_call_list_messages_sync (run->manager, "box", 1, &list, NULL, &error));
  g_assert_no_error (error);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (server.seen->len, ==, 0);
  daemon_test_finished_clear (&log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  server_stop (&server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) BZ_DBUS_ERROR;
  g_test_add_func ("/daemon/notify", test_notify);
  g_test_add_func ("/daemon/notify-off", test_notify_off);
  return g_test_run ();
}
