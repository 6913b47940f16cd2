/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzond as a session agent, against a real dovecot, on the private bus of
 * dbus-run-session. Each case runs as its own meson test (-p PATH). */
#include "config.h"

#include <signal.h>

#include "bz-db.h"
#include "daemon-test-common.h"

/* --- properties and signals of one sync ---------------------------------- */

typedef struct
{
  GPtrArray *states;
  GArray *progress_done;
  guint progress_total;
  guint stored_signals;
  guint stored_bad;
} SyncRecord;

static void
props_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  SyncRecord *rec = data;
  const char *state = NULL;
  guint done, total;

  if (g_variant_lookup (changed, "State", "&s", &state))
    g_ptr_array_add (rec->states, g_strdup (state));
  if (g_variant_lookup (changed, "Progress", "(uu)", &done, &total))
    {
      g_array_append_val (rec->progress_done, done);
      rec->progress_total = MAX (rec->progress_total, total);
    }
}

static void
message_stored_cb (BzDbusManager *manager, const char *account, const char *uidl, const char *path,
                   const char *from, const char *subject, gint64 date, gpointer data)
{
  SyncRecord *rec = data;

  rec->stored_signals++;
  if (g_strcmp0 (account, "box") != 0 || uidl[0] == '\0' ||
      !g_file_test (path, G_FILE_TEST_IS_REGULAR) || date <= 0 || strstr (subject, "=?") != NULL)
    rec->stored_bad++;
}

/* TRUE when @want appears in @states in this order (others may sit between). */
static gboolean
states_in_order (GPtrArray *states, const char *const *want)
{
  guint w = 0;

  for (guint i = 0; i < states->len && want[w] != NULL; i++)
    if (g_strcmp0 (g_ptr_array_index (states, i), want[w]) == 0)
      w++;
  return want[w] == NULL;
}

static void
test_sync_signals (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) progress = g_array_new (FALSE, TRUE, sizeof (guint));
  const char *const expected[] = { "idle", "connecting", "syncing", "idle", NULL };
  SyncRecord rec = { states, progress, 0, 0, 0 };
  g_autofree char *maildir = NULL;
  SyncFinishedLog finished;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_true (bz_test_fill_user ("test1", 40, 7, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  g_ptr_array_add (states, g_strdup (bz_dbus_account_get_state (account)));
  g_signal_connect (account, "g-properties-changed", G_CALLBACK (props_changed_cb), &rec);
  g_signal_connect (run->manager, "message-stored", G_CALLBACK (message_stored_cb), &rec);
  daemon_test_watch_finished (account, &finished);
  g_assert_cmpint (bz_dbus_account_get_next_sync (account), ==, 0); /* interval 0 */

  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_no_error (error);
  /* asked again while it runs: coalesced, not a second sync */
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (bz_dbus_manager_call_sync_all_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&finished, 1, 30000));
  g_assert_false (daemon_test_wait_finished (&finished, 2, 1000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 40);
  g_assert_cmpstr (finished.error, ==, "");
  /* signals sent before SyncFinished arrive before it */
  g_assert_cmpuint (rec.stored_signals, ==, 40);
  g_assert_cmpuint (rec.stored_bad, ==, 0);
  g_assert_cmpuint (bz_dbus_account_get_stored_count (account), ==, 40);
  g_assert_cmpint (bz_dbus_account_get_last_sync (account), >=, before);
  g_assert_cmpint (bz_dbus_account_get_last_sync (account), <=,
                   g_get_real_time () / G_USEC_PER_SEC);
  g_assert_cmpstr (bz_dbus_account_get_last_error (account), ==, "");
  for (guint i = 0; i < states->len; i++)
    g_test_message ("state %u: %s", i, (const char *) g_ptr_array_index (states, i));
  g_assert_true (states_in_order (states, expected));
  g_assert_cmpstr (bz_dbus_account_get_state (account), ==, "idle");
  /* Progress advanced to (40, 40), never backwards */
  g_assert_cmpuint (progress->len, >=, 1);
  for (guint i = 1; i < progress->len; i++)
    if (g_array_index (progress, guint, i) != 0)
      g_assert_cmpuint (g_array_index (progress, guint, i), >=,
                        g_array_index (progress, guint, i - 1));
  g_assert_cmpuint (g_array_index (progress, guint, progress->len - 1), ==, 40);
  g_assert_cmpuint (rec.progress_total, ==, 40);
  maildir = daemon_test_maildir ("box");
  g_assert_cmpuint (daemon_test_count_files (maildir), ==, 40);

  /* nothing new the second time */
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&finished, 2, 30000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 0);
  g_assert_cmpuint (bz_dbus_account_get_stored_count (account), ==, 40);
  daemon_test_finished_clear (&finished);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- ListMessages -------------------------------------------------------- */

static gboolean
is_ascii (const char *s)
{
  for (; *s != '\0'; s++)
    if ((guchar) *s >= 0x80)
      return FALSE;
  return TRUE;
}

static void
test_list_messages (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GVariant) all = NULL;
  SyncFinishedLog finished;
  guint non_ascii = 0;

  g_assert_true (bz_test_fill_user ("test1", 30, 11, 1, "mixed", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&finished, 1, 60000));
  g_assert_true (finished.ok);

  g_assert_true (
      bz_dbus_manager_call_list_messages_sync (run->manager, "box", 10, &list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (list), ==, 10);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr (GVariant) m = g_variant_get_child_value (list, i);
      const char *s = NULL;
      gint64 date = 0;
      guint64 size = 0;

      g_assert_true (g_variant_lookup (m, "account", "&s", &s));
      g_assert_cmpstr (s, ==, "box");
      g_assert_true (g_variant_lookup (m, "uidl", "&s", &s));
      g_assert_cmpstr (s, !=, "");
      g_assert_true (g_variant_lookup (m, "path", "&s", &s));
      g_assert_true (g_file_test (s, G_FILE_TEST_IS_REGULAR));
      g_assert_true (g_variant_lookup (m, "from", "&s", &s));
      g_assert_cmpstr (s, !=, "");
      g_assert_null (strstr (s, "=?"));
      g_assert_true (g_variant_lookup (m, "message-id", "&s", &s));
      g_assert_true (g_str_has_prefix (s, "bz-") && g_str_has_suffix (s, "-11@test.buzon"));
      g_assert_true (g_variant_lookup (m, "subject", "&s", &s));
      /* RFC 2047 decoded: no encoded words left, real UTF-8 in some */
      g_assert_null (strstr (s, "=?"));
      g_assert_true (g_utf8_validate (s, -1, NULL));
      if (!is_ascii (s))
        non_ascii++;
      g_assert_true (g_variant_lookup (m, "date", "x", &date));
      g_assert_cmpint (date, >, 0);
      g_assert_true (g_variant_lookup (m, "size", "t", &size));
      g_assert_cmpuint (size, >, 0);
    }
  g_assert_cmpuint (non_ascii, >, 0);

  /* "" = every account, 0 = the default limit (50) */
  g_assert_true (bz_dbus_manager_call_list_messages_sync (run->manager, "", 0, &all, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (all), ==, 30);
  /* newest first: the short list is the head of the long one */
  for (gsize i = 0; i < 10; i++)
    {
      g_autoptr (GVariant) x = g_variant_get_child_value (list, i);
      g_autoptr (GVariant) y = g_variant_get_child_value (all, i);
      g_assert_true (g_variant_equal (x, y));
    }
  daemon_test_finished_clear (&finished);
}

/* --- errors of DESIGN.md -------------------------------------------------- */

static void
test_errors (void)
{
  guint16 port = bz_test_env_port ("BZ_TEST_POP3_PORT");
  g_autofree char *a = daemon_test_account ("box", "test1", port, 0, NULL);
  g_autofree char *b = daemon_test_account ("off", "test2", port, 0, "enabled = false");
  g_autofree char *conf = g_strconcat (a, b, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) off = NULL;
  g_autoptr (BzDbusAccount) ghost = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) version = NULL;

  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  off = daemon_test_account_proxy (run, "off");
  g_assert_cmpstr (bz_dbus_account_get_state (off), ==, "disabled");
  g_assert_false (bz_dbus_account_get_enabled (off));

  g_assert_false (bz_dbus_account_call_sync_sync (off, NULL, &error));
  g_assert_error (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_DISABLED);
  g_assert_true (daemon_test_error_is (error, "org.buzon.Agent1.Error.Disabled"));
  g_clear_error (&error);

  g_assert_false (
      bz_dbus_manager_call_list_messages_sync (run->manager, "nosuch", 5, &list, NULL, &error));
  g_assert_error (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_UNKNOWN_ACCOUNT);
  g_assert_true (daemon_test_error_is (error, "org.buzon.Agent1.Error.UnknownAccount"));
  g_clear_error (&error);

  g_assert_false (
      bz_dbus_manager_call_list_messages_sync (run->manager, "no/such", 5, &list, NULL, &error));
  g_assert_error (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* no such object */
  ghost = daemon_test_account_proxy (run, "nosuch");
  g_assert_false (bz_dbus_account_call_sync_sync (ghost, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("Sync() on a missing object: %s", error->message);
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_clear_error (&error);

  /* wrong signature */
  reply = g_dbus_connection_call_sync (
      run->bus, BZ_DBUS_NAME, BZ_DBUS_PATH, "org.buzon.Agent1.Manager", "ListMessages",
      g_variant_new ("(i)", 3), NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_null (reply);
  g_assert_true (daemon_test_error_is (error, "org.freedesktop.DBus.Error.InvalidArgs"));
  g_clear_error (&error);

  /* still there and answering */
  version = g_dbus_connection_call_sync (
      run->bus, BZ_DBUS_NAME, BZ_DBUS_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "org.buzon.Agent1.Manager", "Version"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) v = NULL;
    g_variant_get (version, "(v)", &v);
    g_assert_cmpstr (g_variant_get_string (v, NULL), ==, BZ_VERSION);
  }
  g_assert_false (run->exited);
  g_assert_true (daemon_test_stop (run, SIGINT, 5000));
}

/* --- D-Bus answers during a large download ------------------------------ */

/* Properties read in one round, in this order. */
static const char *const round_props[] = { "Progress", "State", "StoredCount" };

typedef struct
{
  guint order[G_N_ELEMENTS (round_props)]; /* indices, in the order answered */
  GVariant *values[G_N_ELEMENTS (round_props)];
  guint n;
} GetRound;

typedef struct
{
  GetRound *round;
  guint index;
} GetCall;

static void
get_round_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GetCall *call = data;
  GetRound *round = call->round;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (round->n, <, G_N_ELEMENTS (round_props));
  round->order[round->n++] = call->index;
  g_variant_get (reply, "(v)", &round->values[call->index]);
  g_free (call);
}

static gboolean
round_done (gpointer data)
{
  return ((GetRound *) data)->n == G_N_ELEMENTS (round_props);
}

static void
get_round_clear (GetRound *round)
{
  for (guint i = 0; i < G_N_ELEMENTS (round_props); i++)
    g_clear_pointer (&round->values[i], g_variant_unref);
  round->n = 0;
}

static gboolean
state_is_syncing (gpointer data)
{
  return g_strcmp0 (bz_dbus_account_get_state (data), "syncing") == 0;
}

/* The daemon keeps answering on the bus while a download runs: rounds of
 * pipelined Get calls are each answered completely, in the order sent,
 * with values of the running sync (State "syncing", Progress and
 * StoredCount never going back), at many points of the download, and the
 * sync still ends with every message. How fast the answers come is
 * bench/'s business, not a test's. */
static void
test_responsive (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  SyncFinishedLog finished;
  guint during = 0, steps = 0, last_done = 0;
  guint last_stored = 0;

  g_assert_true (bz_test_fill_user ("test1", 6000, 3, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (bz_test_wait_until (state_is_syncing, account, 30000));

  /* Rounds for as long as the download runs (at most 2,000). */
  for (guint i = 0; i < 2000; i++)
    {
      GetRound round = { 0 };
      guint done = 0, total = 0;
      guint stored;
      const char *state;

      for (guint p = 0; p < G_N_ELEMENTS (round_props); p++)
        {
          GetCall *call = g_new0 (GetCall, 1);

          call->round = &round;
          call->index = p;
          g_dbus_connection_call (
              run->bus, BZ_DBUS_NAME, "/org/buzon/Agent1/accounts/box",
              "org.freedesktop.DBus.Properties", "Get",
              g_variant_new ("(ss)", "org.buzon.Agent1.Account", round_props[p]),
              G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 60000, NULL, get_round_cb, call);
        }
      /* bounded by the call timeout; the signal of the end lands here too */
      g_assert_true (bz_test_wait_until (round_done, &round, 120000));
      for (guint p = 0; p < G_N_ELEMENTS (round_props); p++)
        g_assert_cmpuint (round.order[p], ==, p);
      g_variant_get (round.values[0], "(uu)", &done, &total);
      state = g_variant_get_string (round.values[1], NULL);
      stored = g_variant_get_uint32 (round.values[2]);
      g_assert_cmpuint (stored, >=, last_stored);
      last_stored = stored;
      if (finished.n > 0 || g_strcmp0 (state, "syncing") != 0 || done >= 6000)
        {
          get_round_clear (&round);
          break;
        }
      /* answered while the sync runs, and in order */
      g_assert_cmpuint (done, >=, last_done);
      if (done > last_done)
        steps++;
      last_done = done;
      during++;
      get_round_clear (&round);
      g_usleep (1000);
    }
  g_test_message ("%u rounds answered during the download, at %u progress steps", during, steps);
  /* Progress moves in steps of at most 10 a second over a download of
   * seconds: rounds stuck behind a busy main loop would see none of it. */
  g_assert_cmpuint (during, >=, 20);
  g_assert_cmpuint (steps, >=, 3);
  g_assert_true (daemon_test_wait_finished (&finished, 1, 120000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 6000);
  daemon_test_finished_clear (&finished);
}

/* --- SIGTERM during a download, then a restart ---------------------------- */

static gboolean
progress_past_200 (gpointer data)
{
  guint done = 0, total = 0;
  GVariant *p = bz_dbus_account_get_progress (data);

  if (p != NULL)
    g_variant_get (p, "(uu)", &done, &total);
  return done >= 200;
}

typedef struct
{
  BzDbusAccount *account;
  guint n;
} StoredWait;

static gboolean
stored_count_is (gpointer data)
{
  StoredWait *w = data;
  return bz_dbus_account_get_stored_count (w->account) == w->n;
}

static void
test_sigterm (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autofree char *maildir = daemon_test_maildir ("box");
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (DaemonRun) again = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (BzDbusAccount) account2 = NULL;
  SyncFinishedLog finished;
  StoredWait stored;
  guint first;
  gint64 t0;

  g_assert_true (bz_test_fill_user ("test1", 2000, 5, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (bz_test_wait_until (progress_past_200, account, 60000));
  t0 = g_get_monotonic_time ();
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_test_message ("exit 0 %.2f s after SIGTERM", (g_get_monotonic_time () - t0) / 1e6);
  first = daemon_test_count_files (maildir);
  g_test_message ("%u of 2000 stored before SIGTERM", first);
  g_assert_cmpuint (first, >=, 1);

  again = daemon_test_start (NULL);
  account2 = daemon_test_account_proxy (again, "box");
  /* counted by the start-up recovery, in its worker */
  stored.account = account2;
  stored.n = first;
  g_assert_true (bz_test_wait_until (stored_count_is, &stored, 30000));
  daemon_test_watch_finished (account2, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (account2, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&finished, 1, 120000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 2000 - first);
  /* exactly once: every message, none twice */
  g_assert_cmpuint (daemon_test_count_files (maildir), ==, 2000);
  g_assert_cmpuint (bz_dbus_account_get_stored_count (account2), ==, 2000);
  daemon_test_finished_clear (&finished);
  g_assert_true (daemon_test_stop (again, SIGTERM, 5000));
}

/* --- a second instance ------------------------------------------------------ */

static void
test_second_instance (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (GSubprocess) second = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  second = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             &error, bz_test_env ("BZ_TEST_BUZOND"), NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (second, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_test_message ("second instance: %s", err);
  g_assert_true (g_subprocess_get_if_exited (second));
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  g_assert_nonnull (strstr (err, "another buzond already owns org.buzon.Agent1"));
  /* the first one is unharmed */
  g_assert_false (run->exited);
  g_assert_cmpstr (bz_dbus_manager_get_version (run->manager), ==, BZ_VERSION);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- recovery at start-up ---------------------------------------------------- */

static gboolean
stored_count_is_one (gpointer data)
{
  return bz_dbus_account_get_stored_count (data) == 1;
}

/* A crash after the rename into new/ but before the row said "stored", and
 * a stray tmp/ file: the daemon settles both when it starts, without a
 * sync (interval = 0: none would come). */
static void
test_startup_recovery (void)
{
  g_autofree char *conf =
      daemon_test_account ("rec", "test2", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autofree char *maildir = daemon_test_maildir ("rec");
  g_autofree char *db_path = g_build_filename (g_get_user_data_dir (), "buzon", "buzon.db", NULL);
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autofree char *tmp_dir = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *cur_dir = g_build_filename (maildir, "cur", NULL);
  g_autofree char *file = g_build_filename (new_dir, "1700000000.M1P1Q1.crashed", NULL);
  /* buzon's own name pattern (the digest after B): a leftover of ours */
  g_autofree char *stray = g_build_filename (
      tmp_dir, "1700000000.M2P1Q2B0123456789abcdef0123456789abcdef.crashed", NULL);
  static const char message[] = "From: a@example.com\nSubject: left pending\n\nbody\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;

  daemon_test_write_config (conf);
  g_assert_cmpint (g_mkdir_with_parents (new_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (tmp_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (cur_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, message, -1, &error));
  g_assert_true (g_file_set_contents (stray, "half a mess", -1, &error));
  db = bz_db_open (db_path, &error);
  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  g_assert_true (bz_db_add_pending (db, "rec", "uidl-crashed", file, sizeof message - 1, 1700000000,
                                    NULL, &error));
  g_assert_true (bz_db_commit (db, &error));
  g_assert_no_error (error);
  g_clear_object (&db);

  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "rec");
  g_assert_true (bz_test_wait_until (stored_count_is_one, account, 10000));
  g_assert_false (g_file_test (stray, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  /* settled by recovery, not by a sync */
  g_assert_cmpint (bz_dbus_account_get_last_sync (account), ==, 0);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) BZ_DBUS_ERROR;
  g_test_add_func ("/daemon/sync-signals", test_sync_signals);
  g_test_add_func ("/daemon/list-messages", test_list_messages);
  g_test_add_func ("/daemon/errors", test_errors);
  g_test_add_func ("/daemon/responsive", test_responsive);
  g_test_add_func ("/daemon/sigterm", test_sigterm);
  g_test_add_func ("/daemon/second-instance", test_second_instance);
  g_test_add_func ("/daemon/startup-recovery", test_startup_recovery);
  return g_test_run ();
}
