/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-daemon-list.h"
#include "bz-daemon-log.h"
#include "bz-db.h"
#include "bz-dbus-utf8.h"

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

/* Maildir unique name (the part before ":2,flags") -> current path, for
 * new/ and cur/ of @maildir; cur/ wins, as in bz_store_maildir_locate(). */
static GHashTable *
scan_maildir (const char *maildir)
{
  const char *subdirs[] = { "new", "cur" };
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (maildir, subdirs[i], NULL);
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          const char *colon = strchr (name, ':');
          char *key = colon != NULL ? g_strndup (name, colon - name) : g_strdup (name);

          g_hash_table_replace (names, key, g_build_filename (path, name, NULL));
        }
    }
  return names;
}

/* Where the file of @recorded is now, or NULL when it is gone. One scan per
 * Maildir and call, not one per message: with thousands of moved files in
 * a large cur/ that is the difference between milliseconds and seconds. */
static const char *
locate (GHashTable *maildirs, const char *recorded)
{
  g_autofree char *dir = g_path_get_dirname (recorded);
  g_autofree char *maildir = g_path_get_dirname (dir);
  g_autofree char *base = g_path_get_basename (recorded);
  GHashTable *names = g_hash_table_lookup (maildirs, maildir);
  char *colon = strchr (base, ':');

  if (names == NULL)
    {
      names = scan_maildir (maildir);
      g_hash_table_insert (maildirs, g_steal_pointer (&maildir), names);
    }
  if (colon != NULL)
    *colon = '\0';
  return g_hash_table_lookup (names, base);
}

/* Points the rows of moved files at their new place, so the next call does
 * not search again. Best effort: the answer has the right paths anyway. */
static void
save_paths (BzDb *db, GPtrArray *messages, GPtrArray *moved)
{
  g_autoptr (GError) error = NULL;

  if (!bz_db_begin (db, &error))
    goto fail;
  for (guint i = 0; i < moved->len; i++)
    {
      const BzDbMessage *m =
          g_ptr_array_index (messages, GPOINTER_TO_UINT (g_ptr_array_index (moved, i)));

      if (!bz_db_set_stored (db, m->account, m->uidl, m->path, &error))
        goto fail;
    }
  if (!bz_db_commit (db, &error))
    goto fail;
  return;

fail:
  bz_db_rollback (db);
  bz_daemon_log (G_LOG_LEVEL_DEBUG, NULL, "cannot record moved message paths: %s", error->message);
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
  g_autoptr (GHashTable) maildirs = NULL;
  g_autoptr (GPtrArray) moved = g_ptr_array_new ();
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
  maildirs =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  for (guint i = 0; i < messages->len; i++)
    {
      BzDbMessage *m = g_ptr_array_index (messages, i);
      const char *now;

      if (m->path == NULL || g_file_test (m->path, G_FILE_TEST_EXISTS))
        continue;
      now = locate (maildirs, m->path);
      if (now == NULL)
        continue;
      g_free (m->path);
      m->path = g_strdup (now);
      g_ptr_array_add (moved, GUINT_TO_POINTER (i));
    }
  if (moved->len > 0)
    save_paths (db, messages, moved);
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
