/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Manager.Search(): the query is read on the main loop (no disk: a bad
 * one is answered at once), the search runs in a GTask thread with its own
 * database connection, as ListMessages does. */
#include "config.h"

#include <glib/gi18n.h>

#include "bz-daemon-list.h"
#include "bz-daemon-private.h"
#include "bz-dbus-error.h"
#include "bz-dbus-utf8.h"
#include "bz-index.h"

#define BZ_SEARCH_DEFAULT_LIMIT 50
#define BZ_SEARCH_MAX_LIMIT 1000

typedef struct
{
  char *db_path;
  char *match;
  char *account;
  guint limit;
} SearchData;

static void
search_data_free (SearchData *data)
{
  g_free (data->db_path);
  g_free (data->match);
  g_free (data->account);
  g_free (data);
}

static void
search_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SearchData *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (data->db_path, &error);
  g_autoptr (GPtrArray) hits = NULL;
  GVariantBuilder builder;

  if (db != NULL)
    hits = bz_index_search (db, data->match, data->account, data->limit, &error);
  if (hits == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < hits->len; i++)
    {
      BzDbHit *hit = g_ptr_array_index (hits, i);
      g_autofree char *snippet = bz_dbus_utf8 (hit->snippet);
      GVariantBuilder dict;

      g_variant_builder_init (&dict, G_VARIANT_TYPE_VARDICT);
      bz_daemon_list_add_fields (&dict, hit->message);
      g_variant_builder_add (&dict, "{sv}", "snippet", g_variant_new_string (snippet));
      g_variant_builder_add_value (&builder, g_variant_builder_end (&dict));
    }
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_builder_end (&builder)),
                         (GDestroyNotify) g_variant_unref);
}

static void
searched_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) messages = g_task_propagate_pointer (G_TASK (res), &error);

  if (messages == NULL)
    {
      g_autofree char *text = bz_dbus_utf8 (error->message);

      /* The query was checked already; should FTS5 still refuse it, that
       * is about the query, and the error says nothing of SQL. */
      if (g_error_matches (error, BZ_DB_ERROR, BZ_DB_ERROR_QUERY))
        g_dbus_method_invocation_return_error (g_steal_pointer (&invocation), BZ_DBUS_ERROR,
                                               BZ_DBUS_ERROR_INVALID_ARGS,
                                               _ ("cannot search for this query: %s"), text);
      else
        g_dbus_method_invocation_return_error (g_steal_pointer (&invocation), BZ_DBUS_ERROR,
                                               BZ_DBUS_ERROR_FAILED,
                                               _ ("cannot read the search index: %s"), text);
      return;
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&invocation),
                                         g_variant_new ("(@aa{sv})", messages));
}

gboolean
bz_daemon_handle_search (BzDbusManager *iface, GDBusMethodInvocation *invocation, const char *query,
                         const char *account, guint limit, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  g_autofree char *match = NULL;
  SearchData *data;

  if (account[0] != '\0' && !bz_account_name_is_valid (account))
    {
      g_dbus_method_invocation_return_error (invocation, BZ_DBUS_ERROR, BZ_DBUS_ERROR_INVALID_ARGS,
                                             _ ("\"%s\" is not an account name "
                                                "([A-Za-z0-9._-]{1,64})"),
                                             account);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (account[0] != '\0' && bz_config_find_account (self->config, account) == NULL)
    {
      g_dbus_method_invocation_return_error (
          invocation, BZ_DBUS_ERROR, BZ_DBUS_ERROR_UNKNOWN_ACCOUNT,
          _ ("no account named \"%s\" in %s"), account, bz_config_get_path (self->config));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  match = bz_index_query_translate (query, &error);
  if (match == NULL)
    {
      g_autofree char *text = bz_dbus_utf8 (error->message);

      g_dbus_method_invocation_return_error (invocation, BZ_DBUS_ERROR, BZ_DBUS_ERROR_INVALID_ARGS,
                                             _ ("bad search query: %s"), text);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  data = g_new0 (SearchData, 1);
  data->db_path = g_strdup (bz_daemon_get_database_path (self));
  data->match = g_steal_pointer (&match);
  data->account = account[0] != '\0' ? g_strdup (account) : NULL;
  data->limit = MIN (limit == 0 ? BZ_SEARCH_DEFAULT_LIMIT : limit, BZ_SEARCH_MAX_LIMIT);
  task = g_task_new (NULL, NULL, searched_cb, g_object_ref (invocation));
  g_task_set_source_tag (task, bz_daemon_handle_search);
  g_task_set_task_data (task, data, (GDestroyNotify) search_data_free);
  g_task_run_in_thread (task, search_thread);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
