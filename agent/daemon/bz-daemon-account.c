/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One account in the daemon: exported object, state machine, schedule and
 * the sync itself (password lookup, then BzSync in a worker thread). */
#include "config.h"

#include <glib/gi18n.h>

#include <malloc.h>

#include "bz-daemon-log.h"
#include "bz-daemon-private.h"
#include "bz-common-text.h"
#include "bz-dbus-error.h"
#include "bz-dbus-utf8.h"
#include "bz-notify.h"
#include "bz-secrets.h"
#include "bz-sync.h"

struct _BzDaemonAccount
{
  GObject parent_instance;
  BzDaemon *daemon; /* not referenced; NULL once detached */
  /* The daemon whose sync slot the running sync holds (weak): kept after
   * bz_daemon_account_detach(), so the slot is freed when the sync really
   * ends, not when a reload forgets the account. */
  BzDaemon *slot;
  BzAccount *account;
  BzDbusObjectSkeleton *object;
  BzDbusAccount *iface;
  guint timer_id;
  gboolean online;
  gboolean queued;            /* waiting for a slot */
  gboolean due;               /* a sync was due while offline */
  guint n_failures;           /* in a row */
  guint n_login_refused;      /* unexplained login refusals in a row */
  gboolean failed;            /* the last sync failed (not cancelled) */
  BzSyncFailure last_failure; /* and how, when it did */
  gint64 last_login_us;       /* monotonic start of the last sync, 0 never */
  guint pause_id;             /* a client's request waits for the pause */
  GCancellable *cancellable;  /* non-NULL while running */
  BzAccount *running_account; /* the settings the running sync uses */
  /* the newest messages of the running sync (BzNotifyMessage*, newest
   * first, at most NEWEST_KEPT), for the notification */
  GPtrArray *newest;
  guint stored_this_sync;
  guint stored_before; /* StoredCount when the sync started */
  /* MessageStored signals not yet sent (BzDbMessage*), and the end of the
   * sync, which is announced only after them */
  GQueue announce;
  guint announce_id;
  gboolean end_pending;
  gboolean end_has_result;
  BzSyncResult end_result;
  GError *end_error;
};

/* MessageStored signals sent per main-loop iteration: a batch commit hands
 * over up to 512 messages at once, and D-Bus calls must not wait for all of
 * their signals. */
#define ANNOUNCE_CHUNK 16
/* Messages a new-mail notification names. */
#define NEWEST_KEPT 3

G_DEFINE_TYPE (BzDaemonAccount, bz_daemon_account, G_TYPE_OBJECT)

static void
set_state (BzDaemonAccount *self, const char *state)
{
  if (g_strcmp0 (bz_dbus_account_get_state (self->iface), state) == 0)
    return;
  bz_daemon_log (G_LOG_LEVEL_DEBUG, self->account->name, "state %s", state);
  bz_dbus_account_set_state (self->iface, state);
}

static gboolean
ignores_network (BzDaemonAccount *self)
{
  /* A loopback server is reachable with no network at all. */
  return bz_host_is_loopback (self->account->host);
}

static gboolean
is_offline (BzDaemonAccount *self)
{
  return !self->online && !ignores_network (self);
}

/* The state when no sync runs. */
static void
update_resting_state (BzDaemonAccount *self)
{
  if (!self->account->enabled)
    set_state (self, "disabled");
  else if (is_offline (self))
    set_state (self, "offline");
  else if (bz_dbus_account_get_last_error (self->iface)[0] != '\0')
    set_state (self, "error");
  else
    set_state (self, "idle");
}

static void
clear_timer (BzDaemonAccount *self)
{
  g_clear_handle_id (&self->timer_id, g_source_remove);
  bz_dbus_account_set_next_sync (self->iface, 0);
}

static gboolean
timer_cb (gpointer user_data)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (user_data);

  self->timer_id = 0;
  bz_dbus_account_set_next_sync (self->iface, 0);
  bz_daemon_account_request_sync (self);
  return G_SOURCE_REMOVE;
}

static void
schedule (BzDaemonAccount *self, guint64 delay_ms, const char *why)
{
  clear_timer (self);
  if (self->daemon == NULL || !self->account->enabled || delay_ms == BZ_SCHEDULE_NEVER)
    {
      bz_daemon_log (G_LOG_LEVEL_DEBUG, self->account->name, "no sync scheduled (%s)", why);
      return;
    }
  self->timer_id = bz_schedule_add_timer (delay_ms, timer_cb, self);
  bz_dbus_account_set_next_sync (self->iface, g_get_real_time () / G_USEC_PER_SEC +
                                                  (gint64) ((delay_ms + 999) / 1000));
  bz_daemon_log (G_LOG_LEVEL_DEBUG, self->account->name,
                 "next sync in %" G_GUINT64_FORMAT " ms (%s)", delay_ms, why);
}

/* Attention (DESIGN.md): what the user must do. The first time an
 * account needs a new OAuth2 sign-in, one desktop notification says so;
 * the account then waits (a permanent failure schedules nothing). */
static void
set_attention (BzDaemonAccount *self, const char *attention, const char *error_text)
{
  const char *before = bz_dbus_account_get_attention (self->iface);

  if (g_strcmp0 (before, attention) == 0)
    return;
  bz_daemon_log (G_LOG_LEVEL_DEBUG, self->account->name, "attention \"%s\"", attention);
  if (g_strcmp0 (attention, "authorize") == 0 && self->daemon != NULL &&
      bz_daemon_get_notify (self->daemon) != NULL)
    {
      g_autofree char *summary =
          g_strdup_printf (_ ("Mail account %s needs you to sign in again"), self->account->name);
      /* TRANSLATORS: the first %s is the error of the last sync; keep the command as it is */
      g_autofree char *body =
          g_strdup_printf (_ ("%s\nRun: buzonctl authorize %s"), error_text, self->account->name);

      bz_notify_attention (bz_daemon_get_notify (self->daemon), self->account->name, summary, body);
    }
  bz_dbus_account_set_attention (self->iface, attention);
}

/* --- D-Bus ------------------------------------------------------------- */

static gboolean
handle_sync_cb (BzDbusAccount *iface, GDBusMethodInvocation *invocation, gpointer user_data)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (user_data);

  if (!self->account->enabled)
    {
      g_dbus_method_invocation_return_error (invocation, BZ_DBUS_ERROR, BZ_DBUS_ERROR_DISABLED,
                                             _ ("account %s is disabled (enabled = false)"),
                                             self->account->name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  bz_daemon_log (G_LOG_LEVEL_INFO, self->account->name, "sync requested over D-Bus");
  bz_dbus_account_complete_sync (iface, invocation);
  bz_daemon_account_request_sync_for_client (self);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
set_settings (BzDaemonAccount *self, BzAccount *account)
{
  /* The config is UTF-8 (GKeyFile checks), but the bus must never see
   * anything else, whatever the config layer lets through. */
  g_autofree char *host = bz_dbus_utf8 (account->host);
  g_autofree char *user = bz_dbus_utf8 (account->user);

  if (self->account != account)
    {
      bz_account_ref (account);
      g_clear_pointer (&self->account, bz_account_unref);
      self->account = account;
    }
  bz_dbus_account_set_name (self->iface, account->name);
  bz_dbus_account_set_host (self->iface, host);
  bz_dbus_account_set_user (self->iface, user);
  bz_dbus_account_set_enabled (self->iface, account->enabled);
}

/* --- the sync ------------------------------------------------------------ */

static void
progress_cb (const BzSyncProgress *progress, gpointer user_data)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (user_data);

  if (self->cancellable == NULL)
    return;
  set_state (self, "syncing");
  bz_dbus_account_set_progress (
      self->iface, g_variant_new ("(uu)", progress->messages_done, progress->messages_total));
}

static void finish_sync (BzDaemonAccount *self, const BzSyncResult *result, const GError *error);

/* Unexplained login refusals came often enough to count as a wrong
 * password ([AUTH] counts at once, as BZ_SYNC_FAILURE_PERMANENT). */
static gboolean
password_refused (BzDaemonAccount *self)
{
  return self->failed && self->last_failure == BZ_SYNC_FAILURE_LOGIN_REFUSED &&
         self->n_login_refused >= BZ_SCHEDULE_LOGIN_TRIES;
}

static void
release_slot (BzDaemonAccount *self)
{
  BzDaemon *slot = self->slot;

  if (slot == NULL)
    return;
  g_object_remove_weak_pointer (G_OBJECT (slot), (gpointer *) &self->slot);
  self->slot = NULL;
  bz_daemon_sync_ended (slot, self, self->stored_this_sync, self->stored_before, self->newest);
}

static gboolean
announce_cb (gpointer user_data)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (user_data);

  for (guint i = 0; i < ANNOUNCE_CHUNK && !g_queue_is_empty (&self->announce); i++)
    {
      g_autoptr (BzDbMessage) message = g_queue_pop_head (&self->announce);

      if (self->daemon != NULL)
        bz_daemon_emit_message_stored (self->daemon, message);
    }
  if (!g_queue_is_empty (&self->announce))
    return G_SOURCE_CONTINUE;
  self->announce_id = 0;
  if (self->end_pending)
    {
      g_autoptr (GError) error = g_steal_pointer (&self->end_error);

      self->end_pending = FALSE;
      finish_sync (self, self->end_has_result ? &self->end_result : NULL, error);
    }
  return G_SOURCE_REMOVE;
}

static void
stored_cb (const BzDbMessage *message, gpointer user_data)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (user_data);
  BzDbMessage *copy = g_new0 (BzDbMessage, 1);

  self->stored_this_sync++;
  bz_dbus_account_set_stored_count (self->iface,
                                    bz_dbus_account_get_stored_count (self->iface) + 1);
  /* Newest = stored last, as ListMessages orders them. */
  g_ptr_array_insert (
      self->newest, 0,
      bz_notify_message_new (message->headers.from, message->headers.subject, message->path));
  if (self->newest->len > NEWEST_KEPT)
    g_ptr_array_set_size (self->newest, NEWEST_KEPT);
  *copy = *message;
  copy->account = g_strdup (message->account);
  copy->uidl = g_strdup (message->uidl);
  copy->path = g_strdup (message->path);
  copy->headers.message_id = g_strdup (message->headers.message_id);
  copy->headers.from = g_strdup (message->headers.from);
  copy->headers.subject = g_strdup (message->headers.subject);
  g_queue_push_tail (&self->announce, copy);
  if (self->announce_id == 0)
    self->announce_id =
        g_idle_add_full (G_PRIORITY_LOW, announce_cb, g_object_ref (self), g_object_unref);
}

/* The sync ended: announce it once every MessageStored has gone out. */
static void
end_sync (BzDaemonAccount *self, const BzSyncResult *result, const GError *error)
{
  if (self->announce_id == 0)
    {
      finish_sync (self, result, error);
      return;
    }
  self->end_pending = TRUE;
  self->end_has_result = result != NULL;
  if (result != NULL)
    self->end_result = *result;
  g_clear_error (&self->end_error);
  self->end_error = error != NULL ? g_error_copy (error) : NULL;
}

static void
finish_sync (BzDaemonAccount *self, const BzSyncResult *result, const GError *error)
{
  /* Only once the last MessageStored is out (see end_sync()). */
  guint new_messages = result != NULL ? result->new_messages : 0;
  gboolean cancelled = error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* A server's -ERR text or a UIDL quoted in a message may be any bytes:
   * what goes on the bus and into the log is sanitised. */
  g_autofree char *error_text = bz_common_text_sanitize (error != NULL ? error->message : NULL, -1);
  guint64 delay;
  const char *why;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->running_account, bz_account_unref);
  if (!cancelled)
    set_attention (self, bz_sync_attention_for_error (self->account, error), error_text);
  /* On failure the counters may stop short of the count: keep ours. */
  if (result != NULL && error == NULL)
    {
      bz_dbus_account_set_stored_count (self->iface, result->stored_total);
      /* Exact even when the start-up recovery had not counted yet. */
      if (result->stored_total >= self->stored_this_sync)
        self->stored_before = result->stored_total - self->stored_this_sync;
    }
  if (error == NULL)
    {
      self->n_failures = 0;
      self->n_login_refused = 0;
      self->failed = FALSE;
      bz_dbus_account_set_last_sync (self->iface, g_get_real_time () / G_USEC_PER_SEC);
      bz_dbus_account_set_last_error (self->iface, "");
      bz_daemon_log (G_LOG_LEVEL_INFO, self->account->name, "synced: %u new, %u stored, %.1f s",
                     new_messages, result->stored_total, result->seconds);
    }
  else
    {
      if (!cancelled)
        {
          self->n_failures++;
          self->failed = TRUE;
          self->last_failure = bz_sync_classify_error (error);
          if (self->last_failure == BZ_SYNC_FAILURE_LOGIN_REFUSED)
            self->n_login_refused++;
          else
            self->n_login_refused = 0;
        }
      if (password_refused (self))
        {
          /* Said once it counts, so the user knows what to do. */
          g_autofree char *plain = g_steal_pointer (&error_text);

          /* TRANSLATORS: the first %s is the server's refusal, the last an account name */
          error_text = g_strdup_printf (
              g_dngettext (GETTEXT_PACKAGE,
                           "%s (refused %u time in a row: taken as a wrong password; set it "
                           "with buzonctl set-password %s)",
                           "%s (refused %u times in a row: taken as a wrong password; set it "
                           "with buzonctl set-password %s)",
                           self->n_login_refused),
              plain, self->n_login_refused, self->account->name);
        }
      bz_dbus_account_set_last_error (self->iface, error_text);
      bz_daemon_log (cancelled ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING, self->account->name,
                     "sync failed (%s): %s",
                     bz_sync_failure_to_string (bz_sync_classify_error (error)), error_text);
    }
  update_resting_state (self);

  if (self->daemon != NULL)
    {
      const BzScheduleTuning *tuning = bz_daemon_get_tuning (self->daemon);
      guint32 random = g_random_int ();

      if (error == NULL)
        {
          delay = bz_schedule_interval_ms (tuning, self->account->interval_min, random);
          why = "interval";
        }
      else if (cancelled)
        {
          delay = BZ_SCHEDULE_NEVER;
          why = "cancelled";
        }
      else
        {
          BzSyncFailure failure = bz_sync_classify_error (error);
          gboolean no_password =
              g_error_matches (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);

          /* Refused too often without a reason: a wrong password after
           * all, waited for like a missing one (it may still be a lock). */
          if (password_refused (self))
            {
              failure = BZ_SYNC_FAILURE_PERMANENT;
              no_password = TRUE;
            }
          delay = bz_schedule_retry_ms (tuning, self->account->interval_min, failure, no_password,
                                        self->n_failures, random);
          why = bz_sync_failure_to_string (failure);
        }
      schedule (self, delay, why);
    }

  /* Property changes go out from an idle; a client reading them on
   * SyncFinished must already see LastSync, State, NextSync, StoredCount. */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->iface));
  bz_dbus_account_emit_sync_finished (self->iface, error == NULL, new_messages, error_text);
  /* The sync's worker threads freed their batches, statements and TLS
   * buffers, but glibc keeps freed pages mapped, in the arena each thread
   * got: give them back, or the idle daemon holds its largest sync's
   * memory until it exits (bz-main.c also caps the arenas at four). */
  malloc_trim (0);
  /* Last: the daemon may start the next account's sync right away. */
  release_slot (self);
}

static void
sync_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BzDaemonAccount) self = BZ_DAEMON_ACCOUNT (user_data);
  BzSyncResult result = { 0 };
  g_autoptr (GError) error = NULL;

  bz_sync_run_finish (BZ_SYNC (source), res, &result, &error);
  end_sync (self, &result, error);
}

/* The sync looks up the password (or gets its OAuth2 token) itself while
 * it connects. */
static void
start_sync (BzDaemonAccount *self)
{
  g_autoptr (BzSync) sync = NULL;

  if (self->daemon == NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      g_autoptr (GError) error = NULL;

      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           /* GLib's own words for it, in GLib's translation */
                           g_dgettext ("glib20", "Operation was cancelled"));
      end_sync (self, NULL, error);
      return;
    }
  sync = bz_sync_new (self->running_account, bz_daemon_get_database_path (self->daemon));
  /* Callbacks queued by the worker hold the BzSync; the BzSync holds us. */
  g_object_set_data_full (G_OBJECT (sync), "bz-daemon-account", g_object_ref (self),
                          g_object_unref);
  bz_sync_set_progress_func (sync, progress_cb, self);
  bz_sync_set_stored_func (sync, stored_cb, self);
  if (bz_daemon_get_test_now (self->daemon) > 0)
    bz_sync_set_now (sync, bz_daemon_get_test_now (self->daemon));
  bz_sync_run_lookup_async (sync, self->cancellable, sync_done_cb, g_object_ref (self));
}

void
bz_daemon_account_run (BzDaemonAccount *self)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));
  g_return_if_fail (self->cancellable == NULL);
  g_return_if_fail (self->daemon != NULL && self->slot == NULL);

  self->slot = self->daemon;
  g_object_add_weak_pointer (G_OBJECT (self->slot), (gpointer *) &self->slot);
  self->queued = FALSE;
  self->due = FALSE;
  self->cancellable = g_cancellable_new ();
  /* This sync answers a client's request waiting for the pause too. */
  g_clear_handle_id (&self->pause_id, g_source_remove);
  self->last_login_us = g_get_monotonic_time ();
  self->running_account = bz_account_ref (self->account);
  self->stored_this_sync = 0;
  self->stored_before = bz_dbus_account_get_stored_count (self->iface);
  g_ptr_array_set_size (self->newest, 0);
  clear_timer (self);
  bz_dbus_account_set_progress (self->iface, g_variant_new ("(uu)", 0, 0));
  set_state (self, "connecting");
  bz_daemon_log (G_LOG_LEVEL_INFO, self->account->name, "sync started (%s:%u)", self->account->host,
                 self->account->port);
  start_sync (self);
}

void
bz_daemon_account_request_sync (BzDaemonAccount *self)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));

  if (self->daemon == NULL || !self->account->enabled)
    return;
  /* Coalesced: the sync that runs or waits answers this request too. */
  if (self->cancellable != NULL || self->queued)
    return;
  if (is_offline (self))
    {
      self->due = TRUE;
      bz_daemon_log (G_LOG_LEVEL_DEBUG, self->account->name, "offline: sync postponed");
      return;
    }
  clear_timer (self);
  self->queued = TRUE;
  bz_daemon_enqueue (self->daemon, self);
}

static gboolean
pause_cb (gpointer user_data)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (user_data);

  self->pause_id = 0;
  bz_daemon_account_request_sync (self);
  return G_SOURCE_REMOVE;
}

void
bz_daemon_account_request_sync_for_client (BzDaemonAccount *self)
{
  g_autofree char *text = NULL;
  gint64 since_ms, wait_ms, next;

  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));

  if (self->daemon == NULL || !self->account->enabled)
    return;
  /* Coalesced: the sync that runs, waits for a slot or waits for the
   * pause answers this request too. */
  if (self->cancellable != NULL || self->queued || self->pause_id != 0)
    return;
  /* At most one login per pause (10 s) for what clients ask: a thousand
   * Sync() calls in a second must not become a thousand logins. */
  since_ms = (g_get_monotonic_time () - self->last_login_us) / 1000;
  wait_ms = (gint64) bz_daemon_get_tuning (self->daemon)->coalesce_ms - since_ms;
  if (self->last_login_us != 0 && wait_ms > 0 && !is_offline (self))
    {
      self->pause_id = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) wait_ms, pause_cb,
                                           g_object_ref (self), g_object_unref);
      next = g_get_real_time () / G_USEC_PER_SEC + (wait_ms + 999) / 1000;
      if (bz_dbus_account_get_next_sync (self->iface) == 0 ||
          bz_dbus_account_get_next_sync (self->iface) > next)
        bz_dbus_account_set_next_sync (self->iface, next);
      bz_daemon_log (G_LOG_LEVEL_DEBUG, self->account->name,
                     "last login %" G_GINT64_FORMAT " ms ago: the sync runs in %" G_GINT64_FORMAT
                     " ms",
                     since_ms, wait_ms);
      return;
    }
  bz_daemon_account_request_sync (self);
  if (self->cancellable != NULL || self->queued || !is_offline (self))
    return;
  /* Nothing runs before the network is back, which may be hours: a client
   * waiting for SyncFinished (buzonctl sync --wait) gets its answer now. */
  text = g_strdup_printf (_ ("%s: offline: no network connection; "
                             "will sync when the network is back"),
                          self->account->name);
  bz_dbus_account_emit_sync_finished (self->iface, FALSE, 0, text);
}

/* A sync soon for an account that waits for the user or a long delay
 * (untrusted certificate, refused password). */
static void
retry_soon (BzDaemonAccount *self, const char *why)
{
  const BzScheduleTuning *tuning;
  gint64 since_ms;
  guint64 delay;

  if (self->daemon == NULL || !self->account->enabled || self->cancellable != NULL ||
      self->queued || self->account->interval_min == 0)
    return;
  tuning = bz_daemon_get_tuning (self->daemon);
  /* Networks flap: still no more than one attempt per pause. */
  since_ms = (g_get_monotonic_time () - self->last_login_us) / 1000;
  delay = tuning->first_delay_ms;
  if (self->last_login_us != 0 && since_ms >= 0 && (guint64) since_ms < tuning->coalesce_ms)
    delay = MAX (delay, tuning->coalesce_ms - (guint64) since_ms);
  self->n_failures = 0;
  self->n_login_refused = 0;
  schedule (self, delay, why);
}

void
bz_daemon_account_retry_after_reload (BzDaemonAccount *self)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));
  if (!self->failed)
    return;
  switch (self->last_failure)
    {
    case BZ_SYNC_FAILURE_TLS_TRUST:
    case BZ_SYNC_FAILURE_PERMANENT:
    case BZ_SYNC_FAILURE_LOGIN_REFUSED:
      retry_soon (self, "reload");
      break;
    default:
      break;
    }
}

void
bz_daemon_account_network_changed (BzDaemonAccount *self)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));
  /* Another network may mean another path to the server (or away from a
   * portal that intercepted TLS). */
  if (self->failed && self->last_failure == BZ_SYNC_FAILURE_TLS_TRUST)
    retry_soon (self, "network changed");
}

void
bz_daemon_account_start (BzDaemonAccount *self, guint index)
{
  const BzScheduleTuning *tuning;

  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));
  if (self->daemon == NULL)
    return;
  tuning = bz_daemon_get_tuning (self->daemon);
  update_resting_state (self);
  schedule (self,
            bz_schedule_first_ms (tuning, self->account->interval_min, index, g_random_int ()),
            "start");
}

void
bz_daemon_account_update (BzDaemonAccount *self, BzAccount *account, guint index)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));
  g_return_if_fail (g_strcmp0 (self->account->name, account->name) == 0);

  bz_daemon_log (G_LOG_LEVEL_INFO, account->name, "settings changed");
  set_settings (self, account);
  self->n_failures = 0;
  self->n_login_refused = 0;
  self->failed = FALSE;
  bz_dbus_account_set_last_error (self->iface, "");
  bz_dbus_account_set_attention (self->iface, "");
  if (!account->enabled)
    {
      if (self->queued && self->daemon != NULL)
        bz_daemon_dequeue (self->daemon, self);
      self->queued = FALSE;
      bz_daemon_account_cancel (self);
    }
  if (self->cancellable == NULL)
    bz_daemon_account_start (self, index);
  /* Reload() answers after the new settings are visible on the bus. */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->iface));
}

void
bz_daemon_account_set_online (BzDaemonAccount *self, gboolean online)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));

  if (self->online == online)
    return;
  self->online = online;
  if (self->cancellable != NULL || ignores_network (self) || !self->account->enabled)
    return;
  update_resting_state (self);
  /* Back online: whatever was missed, soon. */
  if (online && self->daemon != NULL && (self->due || self->account->interval_min > 0))
    schedule (self, bz_daemon_get_tuning (self->daemon)->first_delay_ms, "network back");
}

void
bz_daemon_account_set_stored_count (BzDaemonAccount *self, guint stored_count)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));
  if (bz_daemon_account_is_running (self))
    return;
  bz_dbus_account_set_stored_count (self->iface, stored_count);
}

gboolean
bz_daemon_account_is_running (BzDaemonAccount *self)
{
  g_return_val_if_fail (BZ_IS_DAEMON_ACCOUNT (self), FALSE);
  return self->cancellable != NULL;
}

void
bz_daemon_account_cancel (BzDaemonAccount *self)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));

  clear_timer (self);
  g_clear_handle_id (&self->pause_id, g_source_remove);
  if (self->cancellable != NULL)
    {
      bz_daemon_log (G_LOG_LEVEL_INFO, self->account->name, "stopping the sync");
      g_cancellable_cancel (self->cancellable);
    }
}

void
bz_daemon_account_detach (BzDaemonAccount *self)
{
  g_return_if_fail (BZ_IS_DAEMON_ACCOUNT (self));

  bz_daemon_account_cancel (self);
  self->queued = FALSE;
  self->daemon = NULL;
}

/* --- object ------------------------------------------------------------ */

BzAccount *
bz_daemon_account_get_account (BzDaemonAccount *self)
{
  g_return_val_if_fail (BZ_IS_DAEMON_ACCOUNT (self), NULL);
  return self->account;
}

const char *
bz_daemon_account_get_name (BzDaemonAccount *self)
{
  g_return_val_if_fail (BZ_IS_DAEMON_ACCOUNT (self), NULL);
  return self->account->name;
}

GDBusObjectSkeleton *
bz_daemon_account_get_object (BzDaemonAccount *self)
{
  g_return_val_if_fail (BZ_IS_DAEMON_ACCOUNT (self), NULL);
  return G_DBUS_OBJECT_SKELETON (self->object);
}

static void
bz_daemon_account_dispose (GObject *object)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (object);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->pause_id, g_source_remove);
  if (self->slot != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->slot), (gpointer *) &self->slot);
  self->slot = NULL;
  if (self->iface != NULL)
    g_signal_handlers_disconnect_by_data (self->iface, self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);
  G_OBJECT_CLASS (bz_daemon_account_parent_class)->dispose (object);
}

static void
bz_daemon_account_finalize (GObject *object)
{
  BzDaemonAccount *self = BZ_DAEMON_ACCOUNT (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->running_account, bz_account_unref);
  g_clear_pointer (&self->account, bz_account_unref);
  g_ptr_array_unref (self->newest);
  g_queue_clear_full (&self->announce, (GDestroyNotify) bz_db_message_free);
  g_clear_error (&self->end_error);
  G_OBJECT_CLASS (bz_daemon_account_parent_class)->finalize (object);
}

static void
bz_daemon_account_class_init (BzDaemonAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = bz_daemon_account_dispose;
  object_class->finalize = bz_daemon_account_finalize;
}

static void
bz_daemon_account_init (BzDaemonAccount *self)
{
  g_queue_init (&self->announce);
  self->newest = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_notify_message_free);
}

BzDaemonAccount *
bz_daemon_account_new (BzDaemon *daemon, BzAccount *account, guint stored_count, gboolean online)
{
  BzDaemonAccount *self = g_object_new (BZ_TYPE_DAEMON_ACCOUNT, NULL);
  g_autofree char *path = bz_account_object_path (account->name);

  self->daemon = daemon;
  self->online = online;
  self->object = bz_dbus_object_skeleton_new (path);
  self->iface = bz_dbus_account_skeleton_new ();
  set_settings (self, account);
  bz_dbus_account_set_state (self->iface, "idle");
  bz_dbus_account_set_last_error (self->iface, "");
  bz_dbus_account_set_attention (self->iface, "");
  bz_dbus_account_set_stored_count (self->iface, stored_count);
  bz_dbus_account_set_progress (self->iface, g_variant_new ("(uu)", 0, 0));
  g_signal_connect (self->iface, "handle-sync", G_CALLBACK (handle_sync_cb), self);
  bz_dbus_object_skeleton_set_account (self->object, self->iface);
  update_resting_state (self);
  return self;
}
