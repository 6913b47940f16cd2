/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The schedule maths: intervals with jitter, exponential back-off. */
#include "config.h"

#include "bz-scheduler.h"

#define MINUTE_MS ((guint64) 60 * 1000)

#ifdef BZ_TEST_HOOKS
static guint64
env_u64 (const char *name, guint64 fallback)
{
  const char *value = g_getenv (name);
  guint64 parsed = 0;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT32, &parsed, NULL))
    return fallback;
  return parsed;
}
#endif

void
bz_schedule_tuning_init (BzScheduleTuning *tuning)
{
  tuning->first_delay_ms = 3000;
  tuning->backoff_base_ms = MINUTE_MS;
  tuning->interval_scale = 1.0;
#ifdef BZ_TEST_HOOKS
  {
    const char *scale = g_getenv ("BUZON_TEST_INTERVAL_SCALE");

    tuning->first_delay_ms = env_u64 ("BUZON_TEST_FIRST_SYNC_DELAY_MS", 3000);
    tuning->backoff_base_ms = MAX (env_u64 ("BUZON_TEST_BACKOFF_BASE_MS", MINUTE_MS), 1);
    if (scale != NULL)
      {
        gdouble parsed = g_ascii_strtod (scale, NULL);

        if (parsed > 0.0 && parsed <= 1.0)
          tuning->interval_scale = parsed;
      }
  }
#endif
  tuning->backoff_cap_ms = MAX ((guint64) (60 * MINUTE_MS * tuning->interval_scale), 1);
  tuning->login_delay_ms = MAX ((guint64) (15 * MINUTE_MS * tuning->interval_scale), 1);
  tuning->no_password_ms = MAX ((guint64) (360 * MINUTE_MS * tuning->interval_scale), 1);
  tuning->tls_retry_ms = MAX ((guint64) (360 * MINUTE_MS * tuning->interval_scale), 1);
  /* DESIGN.md: at most one login per account every 10 seconds for what
   * clients ask; servers lock accounts for less. */
  tuning->coalesce_ms = 10 * 1000;
}

/* @random spread over [0, @span]. */
static guint64
jitter (guint64 span, guint32 random)
{
  return span == 0 ? 0 : (guint64) ((gdouble) random / G_MAXUINT32 * (gdouble) span);
}

guint64
bz_schedule_first_ms (const BzScheduleTuning *tuning, guint interval_min, guint index,
                      guint32 random)
{
  if (interval_min == 0)
    return BZ_SCHEDULE_NEVER;
  /* A quarter of the first delay between neighbours, plus a little noise. */
  return tuning->first_delay_ms + MIN (index, 64) * (tuning->first_delay_ms / 4) +
         jitter (tuning->first_delay_ms / 4, random);
}

guint64
bz_schedule_interval_ms (const BzScheduleTuning *tuning, guint interval_min, guint32 random)
{
  guint64 interval;

  if (interval_min == 0)
    return BZ_SCHEDULE_NEVER;
  interval = MAX ((guint64) ((gdouble) interval_min * MINUTE_MS * tuning->interval_scale), 1);
  return interval + jitter (MIN (interval / 10, 2 * MINUTE_MS), random);
}

guint64
bz_schedule_retry_ms (const BzScheduleTuning *tuning, guint interval_min, BzSyncFailure failure,
                      gboolean missing_password, guint n_failures, guint32 random)
{
  guint64 delay = tuning->backoff_base_ms;

  if (interval_min == 0)
    return BZ_SCHEDULE_NEVER;
  /* The user has to act (password, certificate, config): hammering the
   * server would only lock the account. */
  if (failure == BZ_SYNC_FAILURE_PERMANENT)
    return missing_password ? tuning->no_password_ms : BZ_SCHEDULE_NEVER;
  /* A certificate gets fixed on the server's side without a word to us:
   * look again now and then, not never. */
  if (failure == BZ_SYNC_FAILURE_TLS_TRUST)
    return tuning->tls_retry_ms;
  for (guint i = 1; i < n_failures && delay < tuning->backoff_cap_ms; i++)
    delay *= 2;
  delay += jitter (delay / 4, random);
  /* RFC 2449: the server tells us the minimum time between logins. */
  if (failure == BZ_SYNC_FAILURE_LOGIN_DELAY)
    delay = MAX (delay, tuning->login_delay_ms);
  return MIN (delay, tuning->backoff_cap_ms);
}

guint
bz_schedule_add_timer (guint64 delay_ms, GSourceFunc func, gpointer data)
{
  if (delay_ms <= G_MAXUINT)
    return g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) delay_ms, func, data, NULL);
  /* Beyond 49.7 days a second more or less does not matter. */
  return g_timeout_add_seconds_full (
      G_PRIORITY_DEFAULT, (guint) MIN ((delay_ms + 999) / 1000, G_MAXUINT), func, data, NULL);
}
