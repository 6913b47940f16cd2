/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The bench's in-process D-Bus client of a running buzond (no spawned CLI,
 * whose start-up would be measured instead of the daemon).
 *
 *   bz-bench-dbus [--latency] [--from-sync] --stored N [--timeout S] ACCOUNT...
 *   bz-bench-dbus --queries FILE [--limit N]
 *
 * Waits until the accounts together have N messages (StoredCount) and are
 * all idle, then prints one line. With --latency, meanwhile calls
 * Manager.ListMessages("", 50) and Properties.Get(Account, StoredCount)
 * back to back, each timed, and prints their count, median, p99 and
 * maximum in ms: what a desktop client sees during a download. The time
 * printed runs from the start, or with --from-sync from the moment an
 * account is first seen leaving the idle state (the daemon's delay before
 * its first sync is not download time); polled every 20 ms then.
 *
 * With --queries, calls Manager.Search(QUERY, "", limit) once for each
 * line "KIND<TAB>QUERY" of FILE, timed in-process, and prints for each
 * kind, in the order of their first line: "KIND COUNT P50 P99 MAX
 * AVERAGE-HITS ZERO-HIT-QUERIES", then one line per query
 * ("query KIND MS HITS QUERY", for a look at the slow ones).
 *
 * Exit 0 when the count was reached or every search was answered, 1 on
 * timeout or error. Needs only GIO. */

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_NAME "org.buzon.Agent1"
#define MANAGER_PATH "/org/buzon/Agent1"

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
print_stats (const char *what, GArray *ms)
{
  if (ms->len == 0)
    {
      g_print ("%s 0 - - -", what);
      return;
    }
  g_array_sort (ms, cmp_double);
  g_print ("%s %u %.2f %.2f %.2f", what, ms->len, g_array_index (ms, double, ms->len / 2),
           g_array_index (ms, double, MIN (ms->len - 1, (guint) (ms->len * 0.99))),
           g_array_index (ms, double, ms->len - 1));
}

/* Properties.Get of one account property; NULL on error. */
static GVariant *
get_prop (GDBusConnection *bus, const char *path, const char *name, double *ms, GError **error)
{
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "org.buzon.Agent1.Account", name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  GVariant *value = NULL;

  if (ms != NULL)
    *ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", &value);
  return value;
}

typedef struct
{
  char *kind;
  GArray *ms;   /* double */
  guint64 hits; /* results over all the kind's queries */
  guint zero;   /* queries that found nothing */
} SearchKind;

static void
search_kind_free (gpointer data)
{
  SearchKind *k = data;

  g_free (k->kind);
  g_array_unref (k->ms);
  g_free (k);
}

static SearchKind *
search_kind_get (GPtrArray *kinds, const char *name)
{
  SearchKind *k;

  for (guint i = 0; i < kinds->len; i++)
    {
      k = kinds->pdata[i];
      if (strcmp (k->kind, name) == 0)
        return k;
    }
  k = g_new0 (SearchKind, 1);
  k->kind = g_strdup (name);
  k->ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_ptr_array_add (kinds, k);
  return k;
}

/* Runs every query of the file; 0 when all were answered. */
static int
run_queries (GDBusConnection *bus, const char *file, guint limit)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) kinds = g_ptr_array_new_with_free_func (search_kind_free);
  g_autoptr (GString) each = g_string_new (NULL);

  if (!g_file_get_contents (file, &text, NULL, &error))
    {
      g_printerr ("bz-bench-dbus: %s\n", error->message);
      return 1;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *tab = strchr (lines[i], '\t');
      SearchKind *k;
      gint64 t0;
      double ms;
      g_autoptr (GVariant) reply = NULL;
      g_autoptr (GVariant) hits = NULL;

      if (tab == NULL)
        continue;
      *tab = '\0';
      k = search_kind_get (kinds, lines[i]);
      t0 = g_get_monotonic_time ();
      reply = g_dbus_connection_call_sync (bus, BUS_NAME, MANAGER_PATH, "org.buzon.Agent1.Manager",
                                           "Search", g_variant_new ("(ssu)", tab + 1, "", limit),
                                           G_VARIANT_TYPE ("(aa{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                           30000, NULL, &error);
      ms = (g_get_monotonic_time () - t0) / 1000.0;
      if (reply == NULL)
        {
          g_printerr ("bz-bench-dbus: Search(\"%s\"): %s\n", tab + 1, error->message);
          return 1;
        }
      g_array_append_val (k->ms, ms);
      hits = g_variant_get_child_value (reply, 0);
      k->hits += g_variant_n_children (hits);
      if (g_variant_n_children (hits) == 0)
        k->zero++;
      g_string_append_printf (each, "query %s %.3f %" G_GSIZE_FORMAT " %s\n", k->kind, ms,
                              g_variant_n_children (hits), tab + 1);
    }
  for (guint i = 0; i < kinds->len; i++)
    {
      SearchKind *k = kinds->pdata[i];
      guint n = k->ms->len;

      print_stats (k->kind, k->ms);
      g_print (" %.2f %u\n", n > 0 ? (double) k->hits / n : 0.0, k->zero);
    }
  g_print ("%s", each->str);
  return 0;
}

int
main (int argc, char **argv)
{
  gboolean latency = FALSE, from_sync = FALSE;
  gint64 stored = 0, timeout = 900, limit = 20;
  g_autofree char *queries = NULL;
  GOptionEntry entries[] = {
    { "latency", 0, 0, G_OPTION_ARG_NONE, &latency, "Time calls while waiting", NULL },
    { "from-sync", 0, 0, G_OPTION_ARG_NONE, &from_sync, "Time from the first non-idle State",
      NULL },
    { "stored", 0, 0, G_OPTION_ARG_INT64, &stored, "Messages to wait for", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_INT64, &timeout, "Give up after S seconds", "S" },
    { "queries", 0, 0, G_OPTION_ARG_FILENAME, &queries, "Search for each KIND<TAB>QUERY line",
      "FILE" },
    { "limit", 0, 0, G_OPTION_ARG_INT64, &limit, "Search's limit (20)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("ACCOUNT...");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) list_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) get_ms = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 start, deadline;
  gboolean started;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || (argc < 2 && queries == NULL))
    {
      g_printerr ("bz-bench-dbus: %s\n", error ? error->message : "no account given");
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      /* the bench's account names are [A-Za-z0-9_] only: no escaping */
      g_ptr_array_add (paths, g_strdup_printf (MANAGER_PATH "/accounts/%s", argv[i]));
    }
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("bz-bench-dbus: %s\n", error->message);
      return 1;
    }
  if (queries != NULL)
    return run_queries (bus, queries, (guint) CLAMP (limit, 0, G_MAXUINT32));
  start = g_get_monotonic_time ();
  deadline = start + timeout * G_USEC_PER_SEC;
  started = !from_sync;
  while (g_get_monotonic_time () < deadline)
    {
      guint64 total = 0;
      gboolean idle = TRUE, ok = TRUE;

      for (guint i = 0; i < paths->len && ok; i++)
        {
          double ms = 0;
          g_autoptr (GVariant) count = get_prop (bus, paths->pdata[i], "StoredCount", &ms, NULL);
          g_autoptr (GVariant) state = get_prop (bus, paths->pdata[i], "State", NULL, NULL);

          if (count == NULL || state == NULL)
            {
              ok = FALSE; /* not on the bus yet */
              break;
            }
          if (latency)
            g_array_append_val (get_ms, ms);
          total += g_variant_get_uint32 (count);
          if (strcmp (g_variant_get_string (state, NULL), "idle") != 0)
            idle = FALSE;
        }
      if (ok && !started && !idle)
        {
          /* the first poll that saw a sync: within 20 ms of its start */
          started = TRUE;
          start = g_get_monotonic_time ();
        }
      if (ok && total >= (guint64) stored && idle && started)
        {
          g_print ("stored %" G_GUINT64_FORMAT " after %.2f s", total,
                   (g_get_monotonic_time () - start) / 1e6);
          if (latency)
            {
              g_print (" ");
              print_stats ("list", list_ms);
              g_print (" ");
              print_stats ("get", get_ms);
            }
          g_print ("\n");
          return 0;
        }
      if (latency && ok)
        {
          gint64 t0 = g_get_monotonic_time ();
          g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
              bus, BUS_NAME, MANAGER_PATH, "org.buzon.Agent1.Manager", "ListMessages",
              g_variant_new ("(su)", "", 50), G_VARIANT_TYPE ("(aa{sv})"), G_DBUS_CALL_FLAGS_NONE,
              10000, NULL, &error);
          double ms = (g_get_monotonic_time () - t0) / 1000.0;

          if (reply == NULL)
            {
              g_printerr ("bz-bench-dbus: ListMessages: %s\n", error->message);
              return 1;
            }
          g_array_append_val (list_ms, ms);
          g_usleep (5000);
        }
      else
        g_usleep (!ok ? 100000 : from_sync ? 20000 : 50000);
    }
  g_printerr ("bz-bench-dbus: %" G_GINT64_FORMAT " messages not reached in %" G_GINT64_FORMAT
              " s\n",
              stored, timeout);
  return 1;
}
