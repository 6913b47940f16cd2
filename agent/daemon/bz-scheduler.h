/* SPDX-License-Identifier: GPL-3.0-or-later */
/* When an account syncs next: the schedule of DESIGN.md as plain arithmetic
 * (no timers, no clock), so it can be tested without a bus or a server.
 *
 * Test hooks (environment, read by bz_schedule_tuning_init() in a build
 * configured with -Dtest-hooks=true only):
 *   BUZON_TEST_FIRST_SYNC_DELAY_MS  delay of the first sync after start
 *                                   (default 3000)
 *   BUZON_TEST_BACKOFF_BASE_MS      first retry after a temporary failure
 *                                   (default 60000); it doubles per failure
 *   BUZON_TEST_INTERVAL_SCALE       factor applied to `interval` and to the
 *                                   long delays (login-delay, missing
 *                                   password, the 1 h cap), e.g. 0.001 makes
 *                                   a minute 60 ms (default 1) */
#pragma once

#include <glib.h>

#include "bz-sync.h"

G_BEGIN_DECLS

/* "No automatic sync": only Sync(), SyncAll(), a reload or the network
 * coming back start one. */
#define BZ_SCHEDULE_NEVER G_MAXUINT64

typedef struct
{
  guint64 first_delay_ms;  /* after start, reload and network return */
  guint64 backoff_base_ms; /* first retry after a temporary failure */
  guint64 backoff_cap_ms;  /* no retry waits longer (1 h) */
  guint64 login_delay_ms;  /* [LOGIN-DELAY] without a known delay (15 min) */
  guint64 no_password_ms;  /* retry of a missing or refused password (6 h) */
  guint64 tls_retry_ms;    /* retry of an untrusted certificate (6 h) */
  guint64 coalesce_ms;     /* at least this between two logins a client
                            * asked for (10 s, not scaled) */
  gdouble interval_scale;  /* applied to interval minutes */
} BzScheduleTuning;

/* Defaults; in a test-hooks build, overridden by the variables above. */
void bz_schedule_tuning_init (BzScheduleTuning *tuning);

/* Delay of the first sync of the account at position @index (accounts are
 * spread a little so they do not all connect at once); @random is any
 * 32-bit random number. BZ_SCHEDULE_NEVER when @interval_min is 0. */
guint64 bz_schedule_first_ms (const BzScheduleTuning *tuning, guint interval_min, guint index,
                              guint32 random);

/* Delay after a successful sync: the interval plus up to 10 % (at most two
 * minutes) of jitter. BZ_SCHEDULE_NEVER when @interval_min is 0. */
guint64 bz_schedule_interval_ms (const BzScheduleTuning *tuning, guint interval_min,
                                 guint32 random);

/* Delay after the @n_failures-th failure in a row (1 = the first) of kind
 * @failure. Temporary, in-use and unexplained login refusals back off
 * exponentially from the base with up to 25 % jitter, capped; [LOGIN-DELAY]
 * waits at least the login delay; an untrusted certificate waits the long
 * TLS delay; permanent failures are never retried automatically, except
 * a missing or refused password (@missing_password) after a long delay.
 * On-demand accounts (@interval_min 0) are never retried automatically. */
guint64 bz_schedule_retry_ms (const BzScheduleTuning *tuning, guint interval_min,
                              BzSyncFailure failure, gboolean missing_password, guint n_failures,
                              guint32 random);

/* Unexplained login refusals (BZ_SYNC_FAILURE_LOGIN_REFUSED) in a row
 * before they count as a wrong password. */
#define BZ_SCHEDULE_LOGIN_TRIES 3

/* A main-loop timeout calling @func (@data) once after @delay_ms, however
 * long: g_timeout_add() counts in a guint of milliseconds (49.7 days), so
 * longer delays (interval goes up to a year) run on a seconds timer.
 * Returns the source id. */
guint bz_schedule_add_timer (guint64 delay_ms, GSourceFunc func, gpointer data);

G_END_DECLS
