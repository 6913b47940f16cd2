/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bz-sync-thread.h"

static gint nice_increment;

void
bz_sync_thread_set_nice (int increment)
{
  g_atomic_int_set (&nice_increment, increment);
}

/* Linux keeps a nice value per thread: PRIO_PROCESS with a thread id. */
static void
lower_priority (void)
{
  int increment = g_atomic_int_get (&nice_increment);
  id_t tid = (id_t) gettid ();
  int current;

  if (increment == 0)
    return;
  errno = 0;
  current = getpriority (PRIO_PROCESS, tid);
  if (errno == 0 && setpriority (PRIO_PROCESS, tid, MIN (current + increment, 19)) != 0)
    g_debug ("sync thread: cannot lower its priority: %s", g_strerror (errno));
}

typedef struct
{
  GTask *task;
  GTaskThreadFunc func;
} Job;

static void
job_run (Job *job)
{
  GTask *task = job->task;

  job->func (task, g_task_get_source_object (task), g_task_get_task_data (task),
             g_task_get_cancellable (task));
  g_object_unref (task);
  g_free (job);
}

static Job *
job_new (GTask *task, GTaskThreadFunc func)
{
  Job *job = g_new0 (Job, 1);

  job->task = g_object_ref (task);
  job->func = func;
  return job;
}

static gpointer
thread_main (gpointer data)
{
  lower_priority ();
  job_run (data);
  return NULL;
}

void
bz_sync_thread_run (GTask *task, GTaskThreadFunc func)
{
  g_autoptr (GError) error = NULL;
  Job *job;
  GThread *thread;

  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (func != NULL);
  job = job_new (task, func);
  thread = g_thread_try_new ("bz-sync", thread_main, job, &error);
  if (thread == NULL)
    {
      g_object_unref (job->task);
      g_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               "cannot start a worker thread: %s", error->message);
      return;
    }
  /* Detached: the task's callback, not a join, reports the end. */
  g_thread_unref (thread);
}

static void
serial_func (gpointer data, gpointer user_data)
{
  job_run (data);
}

void
bz_sync_thread_run_serial (GTask *task, GTaskThreadFunc func)
{
  static GThreadPool *pool = NULL;
  static gsize once = 0;
  g_autoptr (GError) error = NULL;
  Job *job;

  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (func != NULL);
  if (g_once_init_enter (&once))
    {
      /* Exclusive: the thread is made now and kept, not borrowed from
       * GLib's shared pool of unused threads. */
      pool = g_thread_pool_new (serial_func, NULL, 1, TRUE, &error);
      g_once_init_leave (&once, 1);
    }
  if (pool == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               "cannot start the worker thread");
      return;
    }
  job = job_new (task, func);
  if (!g_thread_pool_push (pool, job, &error))
    {
      g_object_unref (job->task);
      g_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               "cannot queue work for the worker thread: %s", error->message);
    }
}
