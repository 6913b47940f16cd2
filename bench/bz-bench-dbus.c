/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The bench's in-process D-Bus client of a running buzond (no spawned CLI,
 * whose start-up would be measured instead of the daemon).
 *
 *   bz-bench-dbus [--latency] --stored N [--timeout S] ACCOUNT...
 *
 * Waits until the accounts together have N messages (StoredCount) and are
 * all idle, then prints one line. With --latency, meanwhile calls
 * Manager.ListMessages("", 50) and Properties.Get(Account, StoredCount)
 * back to back, each timed, and prints their count, median, p99 and
 * maximum in ms: what a desktop client sees during a download. Exit 0 when
 * the count was reached, 1 on timeout or error. Needs only GIO. */

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

int
main (int argc, char **argv)
{
  gboolean latency = FALSE;
  gint64 stored = 0, timeout = 900;
  GOptionEntry entries[] = {
    { "latency", 0, 0, G_OPTION_ARG_NONE, &latency, "Time calls while waiting", NULL },
    { "stored", 0, 0, G_OPTION_ARG_INT64, &stored, "Messages to wait for", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_INT64, &timeout, "Give up after S seconds", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("ACCOUNT...");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) list_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) get_ms = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 start, deadline;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc < 2)
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
  start = g_get_monotonic_time ();
  deadline = start + timeout * G_USEC_PER_SEC;
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
      if (ok && total >= (guint64) stored && idle)
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
        g_usleep (ok ? 50000 : 100000);
    }
  g_printerr ("bz-bench-dbus: %" G_GINT64_FORMAT " messages not reached in %" G_GINT64_FORMAT
              " s\n",
              stored, timeout);
  return 1;
}
