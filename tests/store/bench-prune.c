/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a history of churn costs the incremental sync, and what pruning
 * gives back: a database with 50,000 messages on the server and CHURN
 * (default 100,000) deleted long ago; the CPU time of the UIDL diff
 * (bz_db_sync_uidls(), the part of every sync that reads all rows) before
 * and after bz_db_prune_left(), and the size of the file. CPU time, not
 * wall time: the machine may be busy.
 *
 *   bench-prune [CHURN] */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bz-db.h"

#define ON_SERVER 50000
#define ROUNDS 5

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
median_diff (BzDb *db, char **server, guint n)
{
  double t[ROUNDS];

  for (guint r = 0; r < ROUNDS; r++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) fresh = NULL;
      double t0 = cpu_seconds ();
      fresh = bz_db_sync_uidls (db, "bench", (const char *const *) server, n, NULL, NULL, &error);
      t[r] = cpu_seconds () - t0;
      g_assert_no_error (error);
      g_assert_cmpuint (fresh->len, ==, 0);
    }
  for (guint i = 0; i < ROUNDS; i++)
    for (guint j = i + 1; j < ROUNDS; j++)
      if (t[j] < t[i])
        {
          double x = t[i];
          t[i] = t[j];
          t[j] = x;
        }
  return t[ROUNDS / 2];
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

int
main (int argc, char **argv)
{
  guint churn = argc > 1 ? (guint) atoi (argv[1]) : 100000;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bz-bench-prune-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "buzon.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) server = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) old = g_ptr_array_new_with_free_func (g_free);
  const gint64 t0 = 1700000000, grace = 30 * 24 * 3600;
  guint pruned = 0;
  double before, after;

  g_assert_no_error (error);
  db = bz_db_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  for (guint i = 0; i < ON_SERVER + churn; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("%08x%08x", g_random_int (), i);
      g_autofree char *file = g_strdup_printf ("/mail/new/%s", uidl);
      g_assert_true (bz_db_add_pending (db, "bench", uidl, file, 5000, t0, NULL, &error));
      g_assert_true (bz_db_set_stored (db, "bench", uidl, file, &error));
      g_ptr_array_add (i < ON_SERVER ? server : old, g_steal_pointer (&uidl));
    }
  g_assert_true (bz_db_commit (db, &error));
  g_assert_true (
      bz_db_mark_deleted (db, "bench", (const char *const *) old->pdata, old->len, &error));
  g_assert_no_error (error);
  /* stamp: they left at t0 */
  g_assert_true (bz_db_prune_left (db, "bench", (const char *const *) server->pdata, server->len,
                                   NULL, t0, grace, &pruned, &error));
  g_assert_cmpuint (pruned, ==, 0);
  g_assert_true (bz_db_prune_left (db, "bench", (const char *const *) server->pdata, server->len,
                                   NULL, t0 + grace - 1, grace, &pruned, &error));
  g_assert_cmpuint (pruned, ==, 0);
  before = median_diff (db, (char **) server->pdata, server->len);
  g_print ("%u on the server, %u deleted long ago: UIDL diff %.1f ms CPU, file %.1f MB\n",
           ON_SERVER, churn, before * 1e3, (file_size (path) + file_size (wal)) / 1e6);
  {
    double p0 = cpu_seconds ();
    g_assert_true (bz_db_prune_left (db, "bench", (const char *const *) server->pdata, server->len,
                                     NULL, t0 + grace + 1, grace, &pruned, &error));
    g_print ("pruning %u rows: %.1f ms CPU (once)\n", pruned, (cpu_seconds () - p0) * 1e3);
  }
  g_assert_no_error (error);
  g_assert_cmpuint (pruned, ==, churn);
  {
    double p0 = cpu_seconds ();
    g_assert_true (bz_db_prune_left (db, "bench", (const char *const *) server->pdata, server->len,
                                     NULL, t0 + grace + 2, grace, &pruned, &error));
    g_print ("a prune with nothing to do: %.3f ms CPU\n", (cpu_seconds () - p0) * 1e3);
  }
  after = median_diff (db, (char **) server->pdata, server->len);
  g_print ("after pruning: UIDL diff %.1f ms CPU (%.2fx), file %.1f MB (VACUUM not run)\n",
           after * 1e3, after / before, (file_size (path) + file_size (wal)) / 1e6);
  g_clear_object (&db);
  g_remove (wal);
  g_remove (shm);
  g_remove (path);
  g_rmdir (dir);
  return 0;
}
