/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Benchmark of the full-text index (issue 17's targets), not a test:
 *
 *   meson test -C build --benchmark --suite index -v
 *   BZ_BENCH_INDEX_COUNT=50000 BZ_BENCH_INDEX_PROFILE=small meson test ...
 *   BZ_BENCH_INDEX_KEEP=1 keeps the folder; BZ_BENCH_INDEX_REUSE=DIR only
 *   runs the searches on the database a kept run left in DIR
 *
 * Writes COUNT mailgen messages (profile realistic by default) into a
 * Maildir under /var/tmp (on disk), records them as stored, and reports:
 * the time the indexer thread (idle priority, as in buzond) takes for all
 * of them, the index's size against the Maildir's, and the latency of one-
 * and two-word searches as buzond runs them for Search (a fresh database
 * connection, the query, the file checks), without the D-Bus hop. */
#include "config.h"

#include <glib/gstdio.h>

#include "bz-index.h"
#include "bz-test-util.h"

static const char *const words[] = {
  "pop3",   "maildir", "server", "message", "stream", "agent",  "daemon",
  "socket", "token",   "folder", "café",    "sync",   "weekly", "report",
};

static guint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

static guint64
db_size (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  return file_size (path) + file_size (wal);
}

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
run_queries (const char *db_path, gboolean two_words, guint n)
{
  g_autoptr (GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));
  guint hits_total = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *query = two_words
                                   ? g_strdup_printf ("%s %s", words[i % G_N_ELEMENTS (words)],
                                                      words[(i * 7 + 3) % G_N_ELEMENTS (words)])
                                   : g_strdup (words[i % G_N_ELEMENTS (words)]);
      g_autoptr (GError) error = NULL;
      gint64 start = g_get_monotonic_time ();
      g_autofree char *match = bz_index_query_translate (query, &error);
      g_autoptr (BzDb) db = bz_db_open (db_path, &error);
      g_autoptr (GPtrArray) hits = bz_index_search (db, match, NULL, 20, &error);
      double elapsed = (g_get_monotonic_time () - start) / 1000.0;

      g_assert_no_error (error);
      hits_total += hits->len;
      g_array_append_val (ms, elapsed);
    }
  g_array_sort (ms, compare_double);
  g_print ("search %s: %u queries, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.1f hits/query\n",
           two_words ? "two words" : "one word", n, g_array_index (ms, double, n / 2),
           g_array_index (ms, double, (n * 99) / 100), g_array_index (ms, double, n - 1),
           (double) hits_total / n);
}

int
main (int argc, char **argv)
{
  const char *count_env = g_getenv ("BZ_BENCH_INDEX_COUNT");
  const char *profile = g_getenv ("BZ_BENCH_INDEX_PROFILE");
  guint count = count_env != NULL ? (guint) g_ascii_strtoull (count_env, NULL, 10) : 10000;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *db_path = NULL;
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (BzIndexWorker) worker = NULL;
  guint64 mail_bytes = 0, before, after;
  gint64 start;
  guint todo = 1;

  g_setenv ("BZ_TEST_TMPDIR", "/var/tmp", FALSE);
  /* searches only, on the database a run with BZ_BENCH_INDEX_KEEP left */
  if (g_getenv ("BZ_BENCH_INDEX_REUSE") != NULL)
    {
      db_path = g_build_filename (g_getenv ("BZ_BENCH_INDEX_REUSE"), "buzon.db", NULL);
      run_queries (db_path, FALSE, 400);
      run_queries (db_path, TRUE, 400);
      return 0;
    }
  dir = bz_test_mkdtemp ("bz-bench-index-XXXXXX");
  maildir = g_build_filename (dir, "mail", NULL);
  db_path = g_build_filename (dir, "buzon.db", NULL);
  if (profile == NULL)
    profile = "realistic";
  g_print ("writing %u %s messages into %s\n", count, profile, maildir);
  mails = bz_test_mailgen (maildir, count, 17, 1, profile, &error);
  g_assert_no_error (error);
  {
    g_autoptr (BzDb) db = bz_db_open (db_path, &error);

    g_assert_no_error (error);
    g_assert_true (bz_db_begin (db, &error));
    for (guint i = 0; i < mails->len; i++)
      {
        BzTestMail *m = g_ptr_array_index (mails, i);
        g_autofree char *uidl = g_strdup_printf ("u%u", i);

        mail_bytes += m->size;
        g_assert_true (bz_db_add_pending (db, "bench", uidl, m->path, m->size, 1, NULL, &error));
        g_assert_true (bz_db_set_stored (db, "bench", uidl, m->path, &error));
      }
    g_assert_true (bz_db_commit (db, &error));
    g_assert_no_error (error);
  }
  before = db_size (db_path);
  sync ();

  worker = bz_index_worker_new (db_path);
  start = g_get_monotonic_time ();
  bz_index_worker_kick (worker, NULL);
  {
    g_autoptr (BzDb) db = bz_db_open (db_path, &error);

    g_assert_no_error (error);
    while (todo > 0)
      {
        g_usleep (20 * 1000);
        g_assert_true (bz_db_index_count_todo (db, &todo, &error));
      }
  }
  g_print ("indexed %u messages (%.1f MB of mail) in %.2f s at idle priority\n", count,
           mail_bytes / 1e6, (g_get_monotonic_time () - start) / 1e6);
  bz_index_worker_stop (worker);
  g_clear_object (&worker);
  after = db_size (db_path);
  g_print ("index: %.1f MB = %.1f%% of the Maildir (database %.1f MB before, %.1f MB after)\n",
           (after - before) / 1e6, 100.0 * (after - before) / mail_bytes, before / 1e6,
           after / 1e6);

  run_queries (db_path, FALSE, 400);
  run_queries (db_path, TRUE, 400);

  if (g_getenv ("BZ_BENCH_INDEX_KEEP") == NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
      g_assert_cmpint (system (cmd), ==, 0);
    }
  else
    g_print ("kept %s\n", dir);
  return 0;
}
