/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The indexer: one thread of its own, at idle CPU and I/O priority, that
 * reads the messages the index does not have yet and writes their text in
 * small transactions. It runs after the syncs, never inside them, so a
 * download is as fast as without an index; and as each batch commits its
 * "indexed" markers with its text, a kill loses at most one batch, which
 * the next run does again. The first run after an upgrade catches up on
 * all the mail stored before the index existed. */

#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bz-index.h"
#include "bz-log.h"

/* One transaction per this many messages or this much text, whichever
 * comes first: short enough not to hold up a sync's commits for long. */
#define BATCH_MESSAGES 32
#define BATCH_BYTES (1024 * 1024)

/* Rows whose message was deleted are looked for at start-up and then at
 * most this often: a pass over every indexed row, for what is rare (an
 * account removed, the id of a deleted row given to a new message). */
#define SWEEP_INTERVAL_US (24 * G_TIME_SPAN_HOUR)
#define SWEEP_BATCH 256

/* linux/ioprio.h, which not every libc ships */
#define BZ_IOPRIO_WHO_PROCESS 1
#define BZ_IOPRIO_CLASS_IDLE 3
#define BZ_IOPRIO_CLASS_SHIFT 13

struct _BzIndexWorker
{
  GObject parent_instance;
  GMutex lock;
  GCond cond;
  char *db_path; /* under lock */
  gboolean kicked;
  gint stopping; /* atomic */
  GThread *thread;
  gint64 swept_at; /* monotonic; the worker thread's own */
};

G_DEFINE_TYPE (BzIndexWorker, bz_index_worker, G_TYPE_OBJECT)

/* Only this thread: on Linux nice values and I/O priorities are per
 * thread, and SCHED_IDLE runs it only when nothing else wants the CPU. */
static void
lower_priority (void)
{
  struct sched_param param = { 0 };
  pid_t tid = gettid ();
  int rc;

  rc = pthread_setschedparam (pthread_self (), SCHED_IDLE, &param);
  if (rc != 0)
    g_debug ("indexer: cannot use SCHED_IDLE: %s", g_strerror (rc));
  if (setpriority (PRIO_PROCESS, (id_t) tid, 19) != 0)
    g_debug ("indexer: cannot lower its nice value: %s", g_strerror (errno));
  if (syscall (SYS_ioprio_set, BZ_IOPRIO_WHO_PROCESS, tid,
               BZ_IOPRIO_CLASS_IDLE << BZ_IOPRIO_CLASS_SHIFT) != 0)
    g_debug ("indexer: cannot use the idle I/O class: %s", g_strerror (errno));
}

static gboolean
is_stopping (BzIndexWorker *self)
{
  return g_atomic_int_get (&self->stopping) != 0;
}

#ifdef BZ_TEST_HOOKS
/* Test hook: while the file named by BUZON_TEST_INDEX_PAUSE_FILE exists,
 * the indexer waits after each committed batch, so a test can kill buzond
 * half-way through with a known number of messages indexed. */
static void
test_pause (BzIndexWorker *self)
{
  const char *file = g_getenv ("BUZON_TEST_INDEX_PAUSE_FILE");

  for (guint i = 0; file != NULL && i < 6000 && !is_stopping (self); i++)
    {
      if (!g_file_test (file, G_FILE_TEST_EXISTS))
        return;
      g_usleep (20 * 1000);
    }
}
#else
static void
test_pause (BzIndexWorker *self)
{
}
#endif

typedef struct
{
  gint64 id;
  BzIndexText *text; /* NULL: the file is gone or unreadable */
} Done;

static gboolean
commit_batch (BzDb *db, GArray *done, GError **error)
{
  if (!bz_db_begin (db, error))
    return FALSE;
  for (guint i = 0; i < done->len; i++)
    {
      Done *d = &g_array_index (done, Done, i);
      BzDbIndexText text;

      if (d->text != NULL)
        {
          text.subject = d->text->subject;
          text.sender = d->text->sender;
          text.recipients = d->text->recipients;
          text.body = d->text->body;
        }
      if (!bz_db_index_put (db, d->id, d->text != NULL ? &text : NULL, error))
        {
          bz_db_rollback (db);
          return FALSE;
        }
    }
  if (!bz_db_commit (db, error))
    {
      bz_db_rollback (db);
      return FALSE;
    }
  return TRUE;
}

static void
done_clear (gpointer data)
{
  bz_index_text_free (((Done *) data)->text);
}

/* Reads one message; the headers the store recorded win over ours, so the
 * index and ListMessages agree on what a sender or subject is. */
static BzIndexText *
read_one (const BzDbIndexTodo *todo)
{
  g_autoptr (GError) error = NULL;
  BzIndexText *text = bz_index_text_read (todo->path, &error);

  if (text == NULL)
    {
      bz_log_account (G_LOG_LEVEL_DEBUG, todo->account, "not indexed: %s", error->message);
      return NULL;
    }
  if (todo->subject != NULL)
    {
      g_free (text->subject);
      text->subject = g_strdup (todo->subject);
    }
  if (todo->from != NULL)
    {
      g_free (text->sender);
      text->sender = g_strdup (todo->from);
    }
  return text;
}

/* Takes the text of deleted messages out of the index, a batch per
 * transaction so that a sync's commits are not held up. */
static gboolean
sweep (BzIndexWorker *self, BzDb *db, GError **error)
{
  guint removed = SWEEP_BATCH, total = 0;
  gint64 now = g_get_monotonic_time ();

  if (self->swept_at != 0 && now - self->swept_at < SWEEP_INTERVAL_US)
    return TRUE;
  self->swept_at = now;
  while (removed == SWEEP_BATCH && !is_stopping (self))
    {
      if (!bz_db_begin (db, error))
        return FALSE;
      if (!bz_db_index_sweep (db, SWEEP_BATCH, &removed, error) || !bz_db_commit (db, error))
        {
          bz_db_rollback (db);
          return FALSE;
        }
      total += removed;
    }
  if (total > 0)
    g_info ("indexer: %u deleted message(s) taken out of the index", total);
  return TRUE;
}

/* Indexes everything not indexed yet; stops early when asked. */
static void
run_once (BzIndexWorker *self, const char *db_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (db_path, &error);
  gint64 after = 0;
  guint todo_count = 0, indexed = 0;

  if (db == NULL || !sweep (self, db, &error) || !bz_db_index_count_todo (db, &todo_count, &error))
    {
      g_warning ("indexer: %s", error->message);
      return;
    }
  if (todo_count == 0)
    return;
  g_info ("indexing %u message(s)", todo_count);
  while (!is_stopping (self))
    {
      g_autoptr (GPtrArray) todo = bz_db_index_list_todo (db, after, BATCH_MESSAGES, &error);
      g_autoptr (GArray) done = g_array_new (FALSE, FALSE, sizeof (Done));
      gsize bytes = 0;

      if (todo == NULL)
        break;
      if (todo->len == 0)
        break;
      g_array_set_clear_func (done, done_clear);
      for (guint i = 0; i < todo->len && bytes < BATCH_BYTES && !is_stopping (self); i++)
        {
          const BzDbIndexTodo *t = g_ptr_array_index (todo, i);
          Done d = { t->id, read_one (t) };

          if (d.text != NULL)
            bytes += strlen (d.text->body);
          g_array_append_val (done, d);
          after = t->id;
        }
      if (done->len == 0 || !commit_batch (db, done, &error))
        break;
      indexed += done->len;
      test_pause (self);
    }
  if (error != NULL)
    g_warning ("indexer: stopped after %u message(s): %s", indexed, error->message);
  else
    g_info ("indexed %u message(s)%s", indexed, is_stopping (self) ? " (stopped)" : "");
}

static gpointer
worker_thread (gpointer data)
{
  BzIndexWorker *self = data;

  lower_priority ();
  while (TRUE)
    {
      g_autofree char *path = NULL;

      g_mutex_lock (&self->lock);
      while (!self->kicked && !is_stopping (self))
        g_cond_wait (&self->cond, &self->lock);
      self->kicked = FALSE;
      path = g_strdup (self->db_path);
      g_mutex_unlock (&self->lock);
      if (is_stopping (self))
        break;
      run_once (self, path);
      /* The run's SQLite connection, FTS5 buffers and GMime parsers are
       * freed, but glibc keeps their pages in this thread's arena: give
       * them back, or the idle daemon holds the largest run's memory. */
      malloc_trim (0);
    }
  return NULL;
}

BzIndexWorker *
bz_index_worker_new (const char *db_path)
{
  BzIndexWorker *self = g_object_new (BZ_TYPE_INDEX_WORKER, NULL);

  /* before any thread: see bz_index_text_init() */
  bz_index_text_init ();
  self->db_path = g_strdup (db_path);
  return self;
}

void
bz_index_worker_kick (BzIndexWorker *self, const char *db_path)
{
  g_return_if_fail (BZ_IS_INDEX_WORKER (self));

  g_mutex_lock (&self->lock);
  if (is_stopping (self))
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  if (db_path != NULL && g_strcmp0 (db_path, self->db_path) != 0)
    {
      g_free (self->db_path);
      self->db_path = g_strdup (db_path);
    }
  self->kicked = TRUE;
  if (self->thread == NULL)
    self->thread = g_thread_new ("bz-indexer", worker_thread, self);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
bz_index_worker_stop (BzIndexWorker *self)
{
  GThread *thread;

  g_return_if_fail (BZ_IS_INDEX_WORKER (self));

  g_mutex_lock (&self->lock);
  g_atomic_int_set (&self->stopping, 1);
  g_cond_signal (&self->cond);
  thread = g_steal_pointer (&self->thread);
  g_mutex_unlock (&self->lock);
  if (thread != NULL)
    g_thread_join (thread);
}

static void
bz_index_worker_dispose (GObject *object)
{
  bz_index_worker_stop (BZ_INDEX_WORKER (object));
  G_OBJECT_CLASS (bz_index_worker_parent_class)->dispose (object);
}

static void
bz_index_worker_finalize (GObject *object)
{
  BzIndexWorker *self = BZ_INDEX_WORKER (object);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->db_path);
  G_OBJECT_CLASS (bz_index_worker_parent_class)->finalize (object);
}

static void
bz_index_worker_class_init (BzIndexWorkerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bz_index_worker_dispose;
  G_OBJECT_CLASS (klass)->finalize = bz_index_worker_finalize;
}

static void
bz_index_worker_init (BzIndexWorker *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
}
