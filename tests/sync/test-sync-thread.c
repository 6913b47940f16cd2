/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daemon's sync threads run below its other work
 * (bz_sync_thread_set_nice()): a D-Bus client is answered first. The
 * threads a sync starts (the database, the committer) inherit it. */
#include "config.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bz-sync-thread.h"

static int
own_nice (void)
{
  errno = 0;
  return getpriority (PRIO_PROCESS, (id_t) gettid ());
}

static gpointer
child_nice (gpointer data)
{
  return GINT_TO_POINTER (own_nice () + 100);
}

/* Returns the worker's nice value and its own child's, packed. */
static void
report_nice (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GThread *child = g_thread_new ("child", child_nice, NULL);
  int child_value = GPOINTER_TO_INT (g_thread_join (child)) - 100;

  g_task_return_int (task, own_nice () * 100 + child_value);
}

static void
done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  gssize *out = user_data;
  g_autoptr (GError) error = NULL;

  *out = g_task_propagate_int (G_TASK (res), &error);
  g_assert_no_error (error);
}

static gssize
run_one (void)
{
  gssize result = G_MINSSIZE;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, done_cb, &result);

  bz_sync_thread_run (task, report_nice);
  /* bounded: a thread that never reports fails the test by its timeout */
  for (guint i = 0; i < 5000 && result == G_MINSSIZE; i++)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (result, !=, G_MINSSIZE);
  return result;
}

static void
test_nice (void)
{
  int base = own_nice ();
  int expected = MIN (base + 5, 19);

  g_assert_cmpint (errno, ==, 0);
  /* by default a sync thread runs as its creator does */
  g_assert_cmpint (run_one (), ==, base * 100 + base);
  bz_sync_thread_set_nice (5);
  g_assert_cmpint (run_one (), ==, expected * 100 + expected);
  /* the creator itself is not affected */
  g_assert_cmpint (own_nice (), ==, base);
  bz_sync_thread_set_nice (0);
  g_assert_cmpint (run_one (), ==, base * 100 + base);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/thread-nice", test_nice);
  return g_test_run ();
}
