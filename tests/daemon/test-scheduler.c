/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The schedule maths of bz-scheduler.c, without a bus or a server. */
#include "config.h"

#include "bz-net-connection.h"
#include "bz-pop3-error.h"
#include "bz-scheduler.h"

#define MIN_MS ((guint64) 60 * 1000)

static void
defaults (BzScheduleTuning *t)
{
  g_unsetenv ("BUZON_TEST_FIRST_SYNC_DELAY_MS");
  g_unsetenv ("BUZON_TEST_BACKOFF_BASE_MS");
  g_unsetenv ("BUZON_TEST_INTERVAL_SCALE");
  bz_schedule_tuning_init (t);
}

static void
test_interval_jitter (void)
{
  BzScheduleTuning t;

  defaults (&t);
  g_assert_cmpuint (bz_schedule_interval_ms (&t, 0, 0), ==, BZ_SCHEDULE_NEVER);
  /* 15 min plus at most 10 % */
  g_assert_cmpuint (bz_schedule_interval_ms (&t, 15, 0), ==, 15 * MIN_MS);
  g_assert_cmpuint (bz_schedule_interval_ms (&t, 15, G_MAXUINT32), ==, 15 * MIN_MS + 90 * 1000);
  /* the jitter never exceeds two minutes */
  g_assert_cmpuint (bz_schedule_interval_ms (&t, 600, G_MAXUINT32), ==, 600 * MIN_MS + 2 * MIN_MS);
  /* different random numbers spread accounts apart */
  g_assert_cmpuint (bz_schedule_interval_ms (&t, 15, 1u << 30), !=,
                    bz_schedule_interval_ms (&t, 15, 3u << 30));
}

static void
test_first_sync (void)
{
  BzScheduleTuning t;
  guint64 a, b;

  defaults (&t);
  g_assert_cmpuint (bz_schedule_first_ms (&t, 0, 0, 0), ==, BZ_SCHEDULE_NEVER);
  a = bz_schedule_first_ms (&t, 15, 0, G_MAXUINT32);
  b = bz_schedule_first_ms (&t, 15, 1, 0);
  /* soon, and the second account after the first */
  g_assert_cmpuint (a, <=, 10 * 1000);
  g_assert_cmpuint (bz_schedule_first_ms (&t, 15, 0, 0), >=, 1000);
  g_assert_cmpuint (b, >=, a);
}

static void
test_backoff (void)
{
  BzScheduleTuning t;
  guint64 prev = 0;

  defaults (&t);
  /* doubles from one minute, jitter at most 25 %, capped at one hour */
  for (guint n = 1; n <= 12; n++)
    {
      guint64 lo = bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_TEMPORARY, FALSE, n, 0);
      guint64 hi = bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_TEMPORARY, FALSE, n, G_MAXUINT32);

      g_assert_cmpuint (lo, ==, MIN (MIN_MS << (n - 1), 60 * MIN_MS));
      g_assert_cmpuint (hi, >=, lo);
      g_assert_cmpuint (hi, <=, MIN (lo + lo / 4, 60 * MIN_MS));
      g_assert_cmpuint (lo, >=, prev);
      prev = lo;
    }
  g_assert_cmpuint (prev, ==, 60 * MIN_MS);
  /* in-use backs off like a temporary failure */
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_IN_USE, FALSE, 3, 0), ==,
                    4 * MIN_MS);
  /* a huge failure count does not overflow */
  g_assert_cmpuint (
      bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_TEMPORARY, FALSE, G_MAXUINT, G_MAXUINT32), ==,
      60 * MIN_MS);
}

static void
test_permanent_and_login_delay (void)
{
  BzScheduleTuning t;
  g_autoptr (GError) auth = g_error_new_literal (BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH, "[AUTH] no");
  g_autoptr (GError) delay =
      g_error_new_literal (BZ_POP3_ERROR, BZ_POP3_ERROR_LOGIN_DELAY, "[LOGIN-DELAY]");

  defaults (&t);
  g_assert_cmpint (bz_sync_classify_error (auth), ==, BZ_SYNC_FAILURE_PERMANENT);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_PERMANENT, FALSE, 1, 0), ==,
                    BZ_SCHEDULE_NEVER);
  /* a missing password is looked up again, rarely */
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_PERMANENT, TRUE, 1, 0), >=,
                    60 * MIN_MS);
  g_assert_cmpint (bz_sync_classify_error (delay), ==, BZ_SYNC_FAILURE_LOGIN_DELAY);
  /* never sooner than the login delay, even on the first failure */
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_LOGIN_DELAY, FALSE, 1, 0), ==,
                    15 * MIN_MS);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_LOGIN_DELAY, FALSE, 6, 0), ==,
                    32 * MIN_MS);
  /* on demand only: no automatic retry of anything */
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 0, BZ_SYNC_FAILURE_TEMPORARY, FALSE, 1, 0), ==,
                    BZ_SCHEDULE_NEVER);
}

static void
test_env_hooks (void)
{
  BzScheduleTuning t;

  g_setenv ("BUZON_TEST_FIRST_SYNC_DELAY_MS", "100", TRUE);
  g_setenv ("BUZON_TEST_BACKOFF_BASE_MS", "250", TRUE);
  g_setenv ("BUZON_TEST_INTERVAL_SCALE", "0.001", TRUE);
  bz_schedule_tuning_init (&t);
  g_assert_cmpuint (t.first_delay_ms, ==, 100);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 1, BZ_SYNC_FAILURE_TEMPORARY, FALSE, 1, 0), ==, 250);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 1, BZ_SYNC_FAILURE_TEMPORARY, FALSE, 2, 0), ==, 500);
  g_assert_cmpuint (bz_schedule_interval_ms (&t, 1, 0), ==, 60);
  g_assert_cmpuint (t.backoff_cap_ms, ==, 3600);
  /* nonsense is ignored */
  g_setenv ("BUZON_TEST_BACKOFF_BASE_MS", "soon", TRUE);
  g_setenv ("BUZON_TEST_INTERVAL_SCALE", "-3", TRUE);
  bz_schedule_tuning_init (&t);
  g_assert_cmpuint (t.backoff_base_ms, ==, MIN_MS);
  g_assert_cmpfloat (t.interval_scale, ==, 1.0);
}

/* Issue 13 item 5: an untrusted certificate and an unexplained login
 * refusal are no longer "never again". */
static void
test_tls_and_login_refused (void)
{
  BzScheduleTuning t;
  g_autoptr (GError) tls = g_error_new_literal (BZ_NET_ERROR, BZ_NET_ERROR_TLS_UNKNOWN_CA, "ca");
  g_autoptr (GError) plain =
      g_error_new_literal (BZ_POP3_ERROR, BZ_POP3_ERROR_LOGIN_REFUSED, "-ERR locked");

  defaults (&t);
  g_assert_cmpint (bz_sync_classify_error (tls), ==, BZ_SYNC_FAILURE_TLS_TRUST);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_TLS_TRUST, FALSE, 1, 0), ==,
                    360 * MIN_MS);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_TLS_TRUST, FALSE, 9, 0), ==,
                    360 * MIN_MS);
  g_assert_cmpint (bz_sync_classify_error (plain), ==, BZ_SYNC_FAILURE_LOGIN_REFUSED);
  /* backs off like a temporary failure (the daemon counts the tries) */
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_LOGIN_REFUSED, FALSE, 1, 0), ==,
                    MIN_MS);
  g_assert_cmpuint (bz_schedule_retry_ms (&t, 15, BZ_SYNC_FAILURE_LOGIN_REFUSED, FALSE, 2, 0), ==,
                    2 * MIN_MS);
  g_assert_cmpuint (t.coalesce_ms, ==, 10000);
}

static gboolean
never_cb (gpointer data)
{
  g_assert_not_reached ();
  return G_SOURCE_REMOVE;
}

/* interval takes up to a year; g_timeout_add() would fire after 49.7 days. */
static void
test_long_timer (void)
{
  const guint64 year_ms = (guint64) 525600 * MIN_MS;
  gint64 before = g_get_monotonic_time ();
  guint id = bz_schedule_add_timer (year_ms, never_cb, NULL);
  GSource *source = g_main_context_find_source_by_id (NULL, id);
  gint64 ready;

  g_assert_nonnull (source);
  ready = g_source_get_ready_time (source);
  g_test_message ("a year's timer is ready in %.1f days", (ready - before) / 1e6 / 86400.0);
  /* seconds timers may fire up to a second early or late */
  g_assert_cmpint (ready - before, >=, (gint64) (year_ms - 2000) * 1000);
  g_assert_cmpint (ready - before, <=,
                   (gint64) (year_ms + 2000) * 1000 + (g_get_monotonic_time () - before));
  g_source_remove (id);

  /* short ones stay millisecond timers */
  before = g_get_monotonic_time ();
  id = bz_schedule_add_timer (1500, never_cb, NULL);
  ready = g_source_get_ready_time (g_main_context_find_source_by_id (NULL, id));
  g_assert_cmpint (ready - before, >=, 1500 * 1000);
  g_assert_cmpint (ready - before, <, 1500 * 1000 + (g_get_monotonic_time () - before) + 1000);
  g_source_remove (id);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler/interval-jitter", test_interval_jitter);
  g_test_add_func ("/scheduler/first-sync", test_first_sync);
  g_test_add_func ("/scheduler/backoff", test_backoff);
  g_test_add_func ("/scheduler/permanent-and-login-delay", test_permanent_and_login_delay);
  g_test_add_func ("/scheduler/env-hooks", test_env_hooks);
  g_test_add_func ("/scheduler/tls-and-login-refused", test_tls_and_login_refused);
  g_test_add_func ("/scheduler/long-timer", test_long_timer);
  return g_test_run ();
}
