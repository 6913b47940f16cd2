/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzond's reactions: reload (Reload() and SIGHUP), back-off after
 * failures and RFC 2449 response codes, the network going away, desktop
 * notifications. Each case runs
 * as its own meson test (-p PATH). */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "daemon-test-common.h"

/* --- reload ---------------------------------------------------------------- */

typedef struct
{
  GDBusObjectManager *om;
  const char *const *want; /* account names that must be there */
  const char *const *unwanted;
} ObjectsWait;

static gboolean
objects_cond (gpointer data)
{
  ObjectsWait *w = data;

  for (guint i = 0; w->want[i] != NULL; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/accounts/%s", BZ_DBUS_PATH, w->want[i]);
      g_autoptr (GDBusObject) o = g_dbus_object_manager_get_object (w->om, path);
      if (o == NULL)
        return FALSE;
    }
  for (guint i = 0; w->unwanted[i] != NULL; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/accounts/%s", BZ_DBUS_PATH, w->unwanted[i]);
      g_autoptr (GDBusObject) o = g_dbus_object_manager_get_object (w->om, path);
      if (o != NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
wait_objects (GDBusObjectManager *om, const char *const *want, const char *const *unwanted)
{
  ObjectsWait w = { om, want, unwanted };
  return bz_test_wait_until (objects_cond, &w, 5000);
}

static guint
n_objects (GDBusObjectManager *om)
{
  GList *objects = g_dbus_object_manager_get_objects (om);
  guint n = g_list_length (objects);

  g_list_free_full (objects, g_object_unref);
  return n;
}

static char *
user_of (GDBusObjectManager *om, const char *name)
{
  g_autofree char *path = g_strdup_printf ("%s/accounts/%s", BZ_DBUS_PATH, name);
  g_autoptr (GDBusInterface) iface =
      g_dbus_object_manager_get_interface (om, path, "org.buzon.Agent1.Account");

  g_assert_nonnull (iface);
  return bz_dbus_account_dup_user (BZ_DBUS_ACCOUNT (iface));
}

static void
test_reload (void)
{
  guint16 port = bz_test_env_port ("BZ_TEST_POP3_PORT");
  g_autofree char *a = daemon_test_account ("a", "test1", port, 0, NULL);
  g_autofree char *b = daemon_test_account ("b", "test2", port, 0, NULL);
  g_autofree char *b2 = daemon_test_account ("b", "test7", port, 0, NULL);
  g_autofree char *c = daemon_test_account ("c", "test3", port, 0, NULL);
  g_autofree char *d = daemon_test_account ("d", "test4", port, 0, NULL);
  g_autofree char *d_bad = daemon_test_account ("d", "test4", port, 0, "interval = often");
  g_autofree char *conf1 = g_strconcat (a, b, c, NULL);
  g_autofree char *conf2 = g_strconcat (a, b2, d, NULL);
  g_autofree char *conf3 = g_strconcat (a, b2, d_bad, NULL);
  g_autofree char *conf4 = g_strconcat (a, d, NULL);
  g_autofree char *user = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (GDBusObjectManager) om = NULL;
  const char *const abc[] = { "a", "b", "c", NULL };
  const char *const abd[] = { "a", "b", "d", NULL };
  const char *const ad[] = { "a", "d", NULL };
  const char *const none[] = { NULL };
  const char *const only_c[] = { "c", NULL };
  const char *const only_b[] = { "b", NULL };

  daemon_test_write_config (conf1);
  run = daemon_test_start (NULL);
  om = bz_dbus_object_manager_client_new_sync (run->bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                               BZ_DBUS_NAME, BZ_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_objects (om, abc, none));
  g_assert_cmpuint (n_objects (om), ==, 3);

  /* added d, changed b (user), removed c */
  daemon_test_write_config (conf2);
  g_assert_true (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_objects (om, abd, only_c));
  g_assert_cmpuint (n_objects (om), ==, 3);
  user = user_of (om, "b");
  g_assert_cmpstr (user, ==, "test7");
  g_clear_pointer (&user, g_free);

  /* a file that does not load changes nothing */
  daemon_test_write_config ("[general\nmax-parallel = 2\n");
  g_assert_false (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_error (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_CONFIG);
  g_assert_true (daemon_test_error_is (error, "org.buzon.Agent1.Error.Config"));
  g_test_message ("bad file: %s", error->message);
  g_clear_error (&error);
  g_assert_true (wait_objects (om, abd, only_c));
  g_assert_cmpuint (n_objects (om), ==, 3);

  /* a broken account keeps its running settings, and the call says so */
  daemon_test_write_config (conf3);
  g_assert_false (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_error (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "interval"));
  g_clear_error (&error);
  g_assert_true (wait_objects (om, abd, only_c));

  /* SIGHUP reloads too: b goes away */
  daemon_test_write_config (conf4);
  g_assert_true (g_subprocess_get_identifier (run->process) != NULL);
  g_subprocess_send_signal (run->process, SIGHUP);
  g_assert_true (wait_objects (om, ad, only_b));
  g_assert_cmpuint (n_objects (om), ==, 2);
  g_assert_false (run->exited);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- back-off ------------------------------------------------------------- */

static guint16
closed_port (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

static void
test_backoff (void)
{
  g_autofree char *refused = daemon_test_account ("down", "test1", closed_port (), 1, NULL);
  g_autofree char *wrong_pw_file = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "wrong", NULL);
  g_autofree char *wrong_extra = g_strdup_printf ("password-command = cat '%s'", wrong_pw_file);
  g_autofree char *conf = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) down = NULL;
  g_autoptr (BzDbusAccount) auth = NULL;
  SyncFinishedLog down_log, auth_log;
  g_autofree char *wrong = NULL;
  gint64 gaps[3];

  /* the same account text, but a wrong password ([AUTH]: permanent) */
  g_assert_true (g_file_set_contents (wrong_pw_file, "not the password", -1, &error));
  wrong = daemon_test_account ("auth", "test2", bz_test_env_port ("BZ_TEST_POP3_PORT"), 1, NULL);
  {
    /* replace the password-command line */
    g_autoptr (GString) s = g_string_new (wrong);
    const char *pc = strstr (s->str, "password-command");
    gsize start = pc - s->str;
    gsize end = strchr (pc, '\n') - s->str;

    g_string_erase (s, start, end - start);
    g_string_insert (s, start, wrong_extra);
    g_free (wrong);
    wrong = g_string_free (g_steal_pointer (&s), FALSE);
  }
  conf = g_strconcat (refused, wrong, NULL);
  daemon_test_write_config (conf);
  run = daemon_test_start ("BUZON_TEST_BACKOFF_BASE_MS=250", "BUZON_TEST_FIRST_SYNC_DELAY_MS=200",
                           NULL);
  down = daemon_test_account_proxy (run, "down");
  auth = daemon_test_account_proxy (run, "auth");
  daemon_test_watch_finished (down, &down_log);
  daemon_test_watch_finished (auth, &auth_log);

  g_assert_true (daemon_test_wait_finished (&down_log, 4, 15000));
  g_assert_false (down_log.ok);
  g_assert_cmpstr (down_log.error, !=, "");
  for (guint i = 0; i < 3; i++)
    {
      gaps[i] = g_array_index (down_log.times_us, gint64, i + 1) -
                g_array_index (down_log.times_us, gint64, i);
      g_test_message ("gap %u: %.0f ms", i + 1, gaps[i] / 1000.0);
    }
  /* 250, 500, 1000 ms (+ up to 25 %) */
  g_assert_cmpint (gaps[0], >=, 230 * 1000);
  g_assert_cmpint (gaps[1], >, gaps[0]);
  g_assert_cmpint (gaps[2], >, gaps[1]);
  g_assert_cmpint (gaps[2], >=, 900 * 1000);
  g_assert_cmpstr (bz_dbus_account_get_state (down), ==, "error");
  g_assert_cmpstr (bz_dbus_account_get_last_error (down), ==, down_log.error);
  g_assert_cmpint (bz_dbus_account_get_next_sync (down), >, 0);

  /* [AUTH] failed once and was not retried in all that time */
  g_assert_cmpuint (auth_log.n, ==, 1);
  g_assert_false (auth_log.ok);
  g_test_message ("auth: %s", auth_log.error);
  g_assert_cmpstr (bz_dbus_account_get_state (auth), ==, "error");
  g_assert_cmpint (bz_dbus_account_get_next_sync (auth), ==, 0);
  /* until someone asks (it runs when 10 s have passed since the last
   * login: requests are coalesced) */
  g_assert_true (bz_dbus_account_call_sync_sync (auth, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&auth_log, 2, 20000));
  g_assert_false (auth_log.ok);

  daemon_test_finished_clear (&down_log);
  daemon_test_finished_clear (&auth_log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* RFC 2449 response codes over the bus: [IN-USE] is retried with the
 * usual back-off, [LOGIN-DELAY] waits at least the login delay (15 min,
 * scaled here to 9 s), and both say why in SyncFinished and LastError. */
static void
test_resp_codes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) delay_server = NULL;
  g_autoptr (GSubprocess) busy_server = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) delay = NULL;
  g_autoptr (BzDbusAccount) busy = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *delay_conf = NULL;
  g_autofree char *busy_conf = NULL;
  SyncFinishedLog delay_log, busy_log;
  guint16 delay_port = 0, busy_port = 0;
  gint64 wait_s, attempt_s;

  delay_server =
      daemon_test_faultpop (&delay_port, "ld", "--resp-code", "PASS", "LOGIN-DELAY", NULL);
  busy_server = daemon_test_faultpop (&busy_port, "iu", "--resp-code", "PASS", "IN-USE", NULL);
  delay_conf = daemon_test_account ("delay", "ld", delay_port, 1, "auth = user");
  busy_conf = daemon_test_account ("busy", "iu", busy_port, 1, "auth = user");
  conf = g_strconcat (delay_conf, busy_conf, NULL);
  daemon_test_write_config (conf);
  run = daemon_test_start ("BUZON_TEST_BACKOFF_BASE_MS=250", "BUZON_TEST_FIRST_SYNC_DELAY_MS=200",
                           "BUZON_TEST_INTERVAL_SCALE=0.01", NULL);
  delay = daemon_test_account_proxy (run, "delay");
  busy = daemon_test_account_proxy (run, "busy");
  daemon_test_watch_finished (delay, &delay_log);
  daemon_test_watch_finished (busy, &busy_log);

  /* [IN-USE]: temporary, retried after 250 and 500 ms */
  g_assert_true (daemon_test_wait_finished (&busy_log, 3, 30000));
  g_test_message ("busy: %s", busy_log.error);
  g_assert_false (busy_log.ok);
  g_assert_nonnull (strstr (busy_log.error, "IN-USE"));
  g_assert_cmpstr (bz_dbus_account_get_state (busy), ==, "error");
  g_assert_cmpstr (bz_dbus_account_get_last_error (busy), ==, busy_log.error);

  /* [LOGIN-DELAY]: one attempt in all that time, the next one 9 s later */
  g_assert_cmpuint (delay_log.n, ==, 1);
  g_test_message ("delay: %s", delay_log.error);
  g_assert_false (delay_log.ok);
  g_assert_nonnull (strstr (delay_log.error, "LOGIN-DELAY"));
  g_assert_cmpstr (bz_dbus_account_get_state (delay), ==, "error");
  g_assert_cmpstr (bz_dbus_account_get_last_error (delay), ==, delay_log.error);
  /* counted from the failed attempt (when its SyncFinished came), not from
   * now, however long the [IN-USE] retries took on a busy machine */
  attempt_s = (g_get_real_time () -
               (g_get_monotonic_time () - g_array_index (delay_log.times_us, gint64, 0))) /
              G_USEC_PER_SEC;
  wait_s = bz_dbus_account_get_next_sync (delay) - attempt_s;
  g_test_message ("delay: next sync %" G_GINT64_FORMAT " s after the attempt", wait_s);
  g_assert_cmpint (wait_s, >=, 7);
  g_assert_cmpint (wait_s, <=, 11);

  daemon_test_finished_clear (&delay_log);
  daemon_test_finished_clear (&busy_log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_subprocess_force_exit (delay_server);
  g_subprocess_force_exit (busy_server);
}

/* --- offline ------------------------------------------------------------- */

static gboolean
online_cond (gpointer data)
{
  return bz_dbus_manager_get_online (data);
}

static gboolean
offline_cond (gpointer data)
{
  return !bz_dbus_manager_get_online (data);
}

static void
test_offline (void)
{
  g_autofree char *flag = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "offline", NULL);
  g_autofree char *env = g_strdup_printf ("BUZON_TEST_OFFLINE_FILE=%s", flag);
  /* a name that never resolves (RFC 2606), and a loopback account that
   * does not need the network */
  g_autofree char *conf = g_strdup_printf (
      "[account far]\nhost = pop.buzon.invalid\nuser = u\ninterval = 1\npassword-command = echo x\n"
      "[account near]\nhost = 127.0.0.1\nport = %u\nsecurity = none\nuser = u\ninterval = 1\n"
      "password-command = echo x\n",
      closed_port ());
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) far = NULL;
  g_autoptr (BzDbusAccount) near = NULL;
  SyncFinishedLog far_log, near_log;

  g_assert_true (g_file_set_contents (flag, "", 0, &error));
  daemon_test_write_config (conf);
  run = daemon_test_start (env, "BUZON_TEST_FIRST_SYNC_DELAY_MS=100",
                           "BUZON_TEST_BACKOFF_BASE_MS=100000", NULL);
  far = daemon_test_account_proxy (run, "far");
  near = daemon_test_account_proxy (run, "near");
  daemon_test_watch_finished (far, &far_log);
  daemon_test_watch_finished (near, &near_log);
  g_assert_false (bz_dbus_manager_get_online (run->manager));
  g_assert_cmpstr (bz_dbus_account_get_state (far), ==, "offline");

  /* the loopback account still syncs (and fails: nothing listens) */
  g_assert_true (daemon_test_wait_finished (&near_log, 1, 5000));
  /* Sync() is accepted and answered at once with SyncFinished(false), but
   * no attempt is made while offline */
  g_assert_true (bz_dbus_account_call_sync_sync (far, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&far_log, 1, 1000));
  g_assert_false (far_log.ok);
  g_assert_nonnull (strstr (far_log.error, "offline"));
  g_assert_false (daemon_test_wait_finished (&far_log, 2, 1000));
  g_assert_cmpstr (bz_dbus_account_get_state (far), ==, "offline");

  /* connectivity back: a sync soon */
  g_assert_cmpint (g_unlink (flag), ==, 0);
  g_assert_true (bz_test_wait_until (online_cond, run->manager, 5000));
  g_assert_true (daemon_test_wait_finished (&far_log, 2, 10000));
  g_assert_false (far_log.ok);
  g_test_message ("far: %s", far_log.error);
  g_assert_cmpstr (bz_dbus_account_get_state (far), ==, "error");

  /* and away again */
  g_assert_true (g_file_set_contents (flag, "", 0, &error));
  g_assert_true (bz_test_wait_until (offline_cond, run->manager, 5000));
  g_assert_cmpstr (bz_dbus_account_get_state (near), ==, "error");
  daemon_test_finished_clear (&far_log);
  daemon_test_finished_clear (&near_log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- notifications --------------------------------------------------------- */

static const char notifications_xml[] =
    "<node><interface name='org.freedesktop.Notifications'>"
    "<method name='Notify'>"
    "<arg type='s' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
    "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='as' direction='in'/>"
    "<arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
    "<arg type='u' direction='out'/></method></interface></node>";

static void
notify_method_cb (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                  const char *method, GVariant *params, GDBusMethodInvocation *invocation,
                  gpointer data)
{
  GPtrArray *seen = data;
  const char *summary = NULL, *body = NULL;

  g_variant_get (params, "(&su&s&s&s@as@a{sv}i)", NULL, NULL, NULL, &summary, &body, NULL, NULL,
                 NULL);
  g_ptr_array_add (seen, g_strdup_printf ("%s|%s", summary, body));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", seen->len));
}

static gboolean
seen_cond (gpointer data)
{
  return ((GPtrArray *) data)->len > 0;
}

static void
test_notify (void)
{
  g_autofree char *acct =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autofree char *conf = g_strconcat ("[general]\nnotify = true\n", acct, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  const GDBusInterfaceVTable vtable = { notify_method_cb, NULL, NULL, { 0 } };
  g_autoptr (GVariant) owned = NULL;
  SyncFinishedLog log;
  guint reg;

  g_assert_no_error (error);
  reg = g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications",
                                           node->interfaces[0], &vtable, seen, NULL, &error);
  g_assert_no_error (error);
  owned = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
      g_variant_new ("(su)", "org.freedesktop.Notifications", 4), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (bz_test_fill_user ("test1", 3, 9, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &log);
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&log, 1, 30000));
  g_assert_cmpuint (log.new_messages, ==, 3);
  /* the notification follows SyncFinished */
  g_assert_true (bz_test_wait_until (seen_cond, seen, 5000));
  g_assert_cmpuint (seen->len, ==, 1);
  g_test_message ("notification: %s", (const char *) g_ptr_array_index (seen, 0));
  g_assert_true (g_str_has_prefix (g_ptr_array_index (seen, 0), "3 new messages (box)|"));

  /* nothing new: no notification */
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&log, 2, 30000));
  g_assert_cmpuint (log.new_messages, ==, 0);
  g_assert_cmpuint (seen->len, ==, 1);
  daemon_test_finished_clear (&log);
  g_dbus_connection_unregister_object (bus, reg);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- max-parallel ------------------------------------------------------------ */

typedef struct
{
  GHashTable *active; /* account proxies now connecting or syncing */
  guint max_active;
} ParallelRecord;

static void
parallel_props_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  ParallelRecord *rec = data;
  const char *state = NULL;

  if (!g_variant_lookup (changed, "State", "&s", &state))
    return;
  if (g_strcmp0 (state, "connecting") == 0 || g_strcmp0 (state, "syncing") == 0)
    g_hash_table_add (rec->active, proxy);
  else
    g_hash_table_remove (rec->active, proxy);
  rec->max_active = MAX (rec->max_active, g_hash_table_size (rec->active));
}

static void
test_max_parallel (void)
{
  guint16 port = bz_test_env_port ("BZ_TEST_POP3_PORT");
  const char *users[] = { "test1", "test2", "test3" };
  const char *names[] = { "one", "two", "three" };
  g_autoptr (GString) conf = g_string_new ("[general]\nmax-parallel = 2\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (GHashTable) active = g_hash_table_new (NULL, NULL);
  BzDbusAccount *proxies[3];
  SyncFinishedLog logs[3];
  ParallelRecord rec = { active, 0 };

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *a = daemon_test_account (names[i], users[i], port, 0, NULL);

      g_assert_true (bz_test_fill_user (users[i], 300, 20 + i, 1, "small", NULL, &error));
      g_assert_no_error (error);
      g_string_append (conf, a);
    }
  daemon_test_write_config (conf->str);
  run = daemon_test_start (NULL);
  for (guint i = 0; i < 3; i++)
    {
      proxies[i] = daemon_test_account_proxy (run, names[i]);
      g_signal_connect (proxies[i], "g-properties-changed", G_CALLBACK (parallel_props_cb), &rec);
      daemon_test_watch_finished (proxies[i], &logs[i]);
    }
  g_assert_true (bz_dbus_manager_call_sync_all_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (daemon_test_wait_finished (&logs[i], 1, 60000));
      g_assert_true (logs[i].ok);
      g_assert_cmpuint (logs[i].new_messages, ==, 300);
    }
  g_test_message ("at most %u accounts synced at once", rec.max_active);
  g_assert_cmpuint (rec.max_active, ==, 2);
  for (guint i = 0; i < 3; i++)
    {
      daemon_test_finished_clear (&logs[i]);
      g_object_unref (proxies[i]);
    }
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

static gboolean
attention_is_clear (gpointer proxy)
{
  return g_strcmp0 (bz_dbus_account_get_attention (proxy), "") == 0;
}

/* Attention says what the user must do: "password" for a refused
 * password, "certificate" for an untrusted server, "" when all is well; a
 * reload with new settings clears it. (OAuth2's "authorize" is in
 * tests/oauth2/test-oauth2-e2e.py.) */
static void
test_attention (void)
{
  guint16 port = bz_test_env_port ("BZ_TEST_POP3_PORT");
  guint16 tls_port = bz_test_env_port ("BZ_TEST_POP3S_PORT");
  g_autofree char *ok_conf = daemon_test_account ("ok", "test3", port, 0, NULL);
  g_autofree char *good_pw = daemon_test_account ("pw", "test4", port, 0, NULL);
  g_autofree char *bad_pw =
      g_strdup_printf ("[account pw]\nhost = localhost\nport = %u\nsecurity = none\nuser = test4\n"
                       "interval = 0\npassword-command = echo wrong-password\n",
                       port);
  g_autofree char *cert =
      g_strdup_printf ("[account cert]\nhost = localhost\nport = %u\nuser = test5\ninterval = 0\n"
                       "password-command = echo unused\n",
                       tls_port);
  g_autofree char *conf = g_strconcat (ok_conf, bad_pw, cert, NULL);
  g_autofree char *conf2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) ok = NULL;
  g_autoptr (BzDbusAccount) pw = NULL;
  g_autoptr (BzDbusAccount) tls = NULL;
  SyncFinishedLog ok_log, pw_log, tls_log;

  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  ok = daemon_test_account_proxy (run, "ok");
  pw = daemon_test_account_proxy (run, "pw");
  tls = daemon_test_account_proxy (run, "cert");
  g_assert_cmpstr (bz_dbus_account_get_attention (pw), ==, "");
  daemon_test_watch_finished (ok, &ok_log);
  daemon_test_watch_finished (pw, &pw_log);
  daemon_test_watch_finished (tls, &tls_log);
  g_assert_true (bz_dbus_account_call_sync_sync (ok, NULL, &error));
  g_assert_true (bz_dbus_account_call_sync_sync (pw, NULL, &error));
  g_assert_true (bz_dbus_account_call_sync_sync (tls, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&ok_log, 1, 30000));
  g_assert_true (daemon_test_wait_finished (&pw_log, 1, 30000));
  g_assert_true (daemon_test_wait_finished (&tls_log, 1, 30000));
  g_assert_true (ok_log.ok);
  g_assert_false (pw_log.ok);
  g_assert_false (tls_log.ok);
  g_test_message ("pw: %s; cert: %s", pw_log.error, tls_log.error);
  g_assert_cmpstr (bz_dbus_account_get_attention (ok), ==, "");
  g_assert_cmpstr (bz_dbus_account_get_attention (pw), ==, "password");
  g_assert_cmpstr (bz_dbus_account_get_attention (tls), ==, "certificate");

  /* the user fixes the password: the reload clears Attention */
  conf2 = g_strconcat (ok_conf, good_pw, cert, NULL);
  daemon_test_write_config (conf2);
  g_assert_true (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  /* the proxy learns it from PropertiesChanged */
  g_assert_true (bz_test_wait_until (attention_is_clear, pw, 10000));
  g_assert_true (bz_dbus_account_call_sync_sync (pw, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&pw_log, 2, 30000));
  g_assert_true (pw_log.ok);
  g_assert_cmpstr (bz_dbus_account_get_attention (pw), ==, "");
  g_assert_cmpstr (bz_dbus_account_get_attention (tls), ==, "certificate");

  daemon_test_finished_clear (&ok_log);
  daemon_test_finished_clear (&pw_log);
  daemon_test_finished_clear (&tls_log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) BZ_DBUS_ERROR;
  g_test_add_func ("/daemon/reload", test_reload);
  g_test_add_func ("/daemon/backoff", test_backoff);
  g_test_add_func ("/daemon/resp-codes", test_resp_codes);
  g_test_add_func ("/daemon/offline", test_offline);
  g_test_add_func ("/daemon/notify", test_notify);
  g_test_add_func ("/daemon/max-parallel", test_max_parallel);
  g_test_add_func ("/daemon/attention", test_attention);
  return g_test_run ();
}
