/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-daemon-list.h"
#include "bz-daemon-log.h"
#include "bz-db.h"
#include "bz-dbus-utf8.h"
#include "bz-store-batch.h"

typedef struct
{
  char *db_path;
  char *account;
  guint limit;
} ListData;

static void
list_data_free (ListData *data)
{
  g_free (data->db_path);
  g_free (data->account);
  g_free (data);
}

static void
add_string (GVariantBuilder *builder, const char *key, const char *value)
{
  /* The database keeps the raw UIDL (and path); the bus only carries UTF-8. */
  g_autofree char *text = bz_dbus_utf8 (value);

  g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (text));
}

void
bz_daemon_list_add_fields (GVariantBuilder *builder, const BzDbMessage *m)
{
  add_string (builder, "account", m->account);
  add_string (builder, "uidl", m->uidl);
  add_string (builder, "path", m->path);
  add_string (builder, "from", m->headers.from);
  add_string (builder, "subject", m->headers.subject);
  g_variant_builder_add (builder, "{sv}", "date", g_variant_new_int64 (m->headers.date));
  g_variant_builder_add (builder, "{sv}", "size", g_variant_new_uint64 (m->size));
  add_string (builder, "message-id", m->headers.message_id);
}

static GVariant *
message_to_variant (const BzDbMessage *m)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  bz_daemon_list_add_fields (&builder, m);
  return g_variant_builder_end (&builder);
}

static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ListData *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  GVariantBuilder builder;

  /* Our own connection: WAL lets it read while a sync writes. */
  db = bz_db_open (data->db_path, &error);
  if (db != NULL)
    messages = bz_db_list_newest (db, data->account, data->limit, &error);
  if (messages == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Files a mail client moved are found again (one read per Maildir, as
   * thousands of moved files in a large cur/ would otherwise take seconds)
   * and their rows follow, so the next call need not search. Best effort:
   * the answer has the right paths anyway. */
  if (!bz_store_refresh_paths (db, messages, &error))
    {
      bz_daemon_log (G_LOG_LEVEL_DEBUG,
                     data->account != NULL && data->account[0] != '\0' ? data->account : NULL,
                     "cannot record moved message paths: %s", error->message);
      g_clear_error (&error);
    }
  /* Built here too: thousands of entries are milliseconds of work. */
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < messages->len; i++)
    g_variant_builder_add_value (&builder, message_to_variant (g_ptr_array_index (messages, i)));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_builder_end (&builder)),
                         (GDestroyNotify) g_variant_unref);
}

void
bz_daemon_list_async (const char *db_path, const char *account, guint limit,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ListData *data = g_new0 (ListData, 1);

  data->db_path = g_strdup (db_path);
  data->account = g_strdup (account);
  data->limit = limit;
  g_task_set_source_tag (task, bz_daemon_list_async);
  g_task_set_task_data (task, data, (GDestroyNotify) list_data_free);
  g_task_run_in_thread (task, list_thread);
}

GVariant *
bz_daemon_list_finish (GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}
