/* SPDX-License-Identifier: GPL-3.0-or-later */
/* org.gnome.Shell.SearchProvider2 on /org/buzon/Agent1/SearchProvider.
 * Result ids are messages row ids as text; metas are read when the Shell
 * asks for them. Every call works in a GTask thread with its own database
 * connection: the Shell asks at each keystroke, and the main loop must not
 * wait for the disk. */

#include "config.h"

#include <glib/gi18n.h>

#include "bz-index-provider.h"
#include "bz-shell-generated.h"

/* The Shell shows a handful; more would only cost metas. */
#define PROVIDER_LIMIT 20

struct _BzIndexProvider
{
  GObject parent_instance;
  char *db_path;
  BzShellSearchProvider2 *skeleton;
};

G_DEFINE_TYPE (BzIndexProvider, bz_index_provider, G_TYPE_OBJECT)

typedef enum
{
  CALL_INITIAL,
  CALL_SUBSEARCH,
  CALL_METAS,
  CALL_ACTIVATE,
  CALL_LAUNCH,
} CallKind;

typedef struct
{
  CallKind kind;
  char *db_path;
  GStrv terms;
  GStrv ids; /* previous results, or the ids of GetResultMetas */
  char *id;  /* ActivateResult */
  GDBusMethodInvocation *invocation;
} Call;

static void
call_free (Call *call)
{
  g_free (call->db_path);
  g_strfreev (call->terms);
  g_strfreev (call->ids);
  g_free (call->id);
  g_clear_object (&call->invocation);
  g_free (call);
}

static gboolean
parse_id (const char *text, gint64 *id)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    return FALSE;
  *id = (gint64) value;
  return TRUE;
}

static GVariant *
search_ids (Call *call, BzDb *db, GError **error)
{
  g_autofree char *match = bz_index_query_from_terms ((const char *const *) call->terms, NULL);
  g_autoptr (GPtrArray) hits = NULL;
  g_autoptr (GHashTable) previous = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  /* terms without a word (punctuation) match nothing; not an error */
  if (match == NULL)
    return g_variant_builder_end (&builder);
  hits = bz_index_search (db, match, NULL, PROVIDER_LIMIT, error);
  if (hits == NULL)
    {
      g_variant_builder_clear (&builder);
      return NULL;
    }
  if (call->kind == CALL_SUBSEARCH)
    {
      previous = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; call->ids[i] != NULL; i++)
        g_hash_table_add (previous, call->ids[i]);
    }
  for (guint i = 0; i < hits->len; i++)
    {
      BzDbHit *hit = g_ptr_array_index (hits, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, hit->id);

      if (previous == NULL || g_hash_table_contains (previous, id))
        g_variant_builder_add (&builder, "s", id);
    }
  return g_variant_builder_end (&builder);
}

/* "Alice <alice@example.org> — 2024-01-01 09:00" */
static char *
describe (const BzDbMessage *m)
{
  g_autoptr (GDateTime) when =
      m->headers.date != 0 ? g_date_time_new_from_unix_local (m->headers.date) : NULL;
  g_autofree char *date = when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M") : NULL;
  const char *from = m->headers.from != NULL ? m->headers.from : "";

  if (date == NULL)
    return g_utf8_make_valid (from, -1);
  return g_strdup_printf ("%s — %s", from, date);
}

static GVariant *
metas (Call *call, BzDb *db, GError **error)
{
  g_autoptr (GIcon) icon = g_themed_icon_new ("mail-read");
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; call->ids[i] != NULL; i++)
    {
      g_autoptr (BzDbMessage) m = NULL;
      g_autofree char *subject = NULL;
      g_autofree char *description = NULL;
      GVariantBuilder meta;
      gint64 id = 0;

      if (!parse_id (call->ids[i], &id))
        continue;
      m = bz_db_get_message (db, id, error);
      if (m == NULL && error != NULL && *error != NULL)
        {
          g_variant_builder_clear (&builder);
          return NULL;
        }
      if (m == NULL)
        continue;
      subject = g_utf8_make_valid (m->headers.subject != NULL && m->headers.subject[0] != '\0'
                                       ? m->headers.subject
                                       : _ ("(no subject)"),
                                   -1);
      description = describe (m);
      g_variant_builder_init (&meta, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&meta, "{sv}", "id", g_variant_new_string (call->ids[i]));
      g_variant_builder_add (&meta, "{sv}", "name", g_variant_new_string (subject));
      g_variant_builder_add (&meta, "{sv}", "description", g_variant_new_string (description));
      g_variant_builder_add (&meta, "{sv}", "icon", g_icon_serialize (icon));
      g_variant_builder_add_value (&builder, g_variant_builder_end (&meta));
    }
  return g_variant_builder_end (&builder);
}

static gboolean
launch (GAppInfo *app, const char *path, GError **error)
{
  g_autoptr (GList) files = NULL;
  g_autoptr (GFile) file = path != NULL ? g_file_new_for_path (path) : NULL;

  if (file != NULL)
    files = g_list_append (NULL, file);
  g_debug ("opening %s with %s", path != NULL ? path : "nothing", g_app_info_get_id (app));
  return g_app_info_launch (app, files, NULL, error);
}

static gboolean
activate (Call *call, BzDb *db, GError **error)
{
  g_autoptr (BzDbMessage) m = NULL;
  g_autoptr (GAppInfo) app = NULL;
  g_autofree char *path = NULL;
  gint64 id = 0;

  if (!parse_id (call->id, &id))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "\"%s\" is not a result of ours",
                   call->id);
      return FALSE;
    }
  m = bz_db_get_message (db, id, error);
  if (m == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                     "result %s is no longer stored", call->id);
      return FALSE;
    }
  /* a mail reader may have moved it to cur/ since the search */
  path = bz_index_locate (m->path);
  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s is no longer there", m->path);
      return FALSE;
    }
  app = g_app_info_get_default_for_type ("message/rfc822", FALSE);
  if (app == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "no application is set to open message/rfc822 files");
      return FALSE;
    }
  return launch (app, path, error);
}

static gboolean
launch_reader (GError **error)
{
  g_autoptr (GAppInfo) app = g_app_info_get_default_for_uri_scheme ("mailto");

  if (app == NULL)
    app = g_app_info_get_default_for_type ("message/rfc822", FALSE);
  if (app == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "no mail reader is set (mailto: or message/rfc822)");
      return FALSE;
    }
  return launch (app, NULL, error);
}

static void
call_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *call = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  GVariant *reply = NULL;

  if (call->kind == CALL_LAUNCH)
    {
      if (launch_reader (&error))
        reply = g_variant_new ("()");
    }
  else if ((db = bz_db_open (call->db_path, &error)) != NULL)
    {
      switch (call->kind)
        {
        case CALL_INITIAL:
        case CALL_SUBSEARCH:
          {
            GVariant *ids = search_ids (call, db, &error);
            if (ids != NULL)
              reply = g_variant_new ("(@as)", ids);
          }
          break;
        case CALL_METAS:
          {
            GVariant *list = metas (call, db, &error);
            if (list != NULL)
              reply = g_variant_new ("(@aa{sv})", list);
          }
          break;
        case CALL_ACTIVATE:
          if (activate (call, db, &error))
            reply = g_variant_new ("()");
          break;
        case CALL_LAUNCH:
          break;
        }
    }
  /* The Shell logs what we answer; it never shows it to the user. */
  if (reply == NULL)
    g_dbus_method_invocation_return_error_literal (g_steal_pointer (&call->invocation),
                                                   G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                                   error != NULL ? error->message : "failed");
  else
    g_dbus_method_invocation_return_value (g_steal_pointer (&call->invocation), reply);
  g_task_return_boolean (task, TRUE);
}

static gboolean
start (BzIndexProvider *self, GDBusMethodInvocation *invocation, CallKind kind,
       const char *const *terms, const char *const *ids, const char *id)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, NULL, NULL);
  Call *call = g_new0 (Call, 1);

  call->kind = kind;
  call->db_path = g_strdup (self->db_path);
  call->terms = g_strdupv ((char **) terms);
  call->ids = g_strdupv ((char **) ids);
  call->id = g_strdup (id);
  call->invocation = g_object_ref (invocation);
  g_task_set_source_tag (task, start);
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  g_task_run_in_thread (task, call_thread);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_initial_cb (BzShellSearchProvider2 *iface, GDBusMethodInvocation *invocation,
                   const char *const *terms, gpointer user_data)
{
  return start (user_data, invocation, CALL_INITIAL, terms, NULL, NULL);
}

static gboolean
handle_subsearch_cb (BzShellSearchProvider2 *iface, GDBusMethodInvocation *invocation,
                     const char *const *previous, const char *const *terms, gpointer user_data)
{
  return start (user_data, invocation, CALL_SUBSEARCH, terms, previous, NULL);
}

static gboolean
handle_metas_cb (BzShellSearchProvider2 *iface, GDBusMethodInvocation *invocation,
                 const char *const *ids, gpointer user_data)
{
  return start (user_data, invocation, CALL_METAS, NULL, ids, NULL);
}

static gboolean
handle_activate_cb (BzShellSearchProvider2 *iface, GDBusMethodInvocation *invocation,
                    const char *id, const char *const *terms, guint timestamp, gpointer user_data)
{
  return start (user_data, invocation, CALL_ACTIVATE, terms, NULL, id);
}

static gboolean
handle_launch_cb (BzShellSearchProvider2 *iface, GDBusMethodInvocation *invocation,
                  const char *const *terms, guint timestamp, gpointer user_data)
{
  return start (user_data, invocation, CALL_LAUNCH, terms, NULL, NULL);
}

BzIndexProvider *
bz_index_provider_new (const char *db_path)
{
  BzIndexProvider *self = g_object_new (BZ_TYPE_INDEX_PROVIDER, NULL);

  self->db_path = g_strdup (db_path);
  return self;
}

void
bz_index_provider_set_db_path (BzIndexProvider *self, const char *db_path)
{
  g_return_if_fail (BZ_IS_INDEX_PROVIDER (self));
  g_free (self->db_path);
  self->db_path = g_strdup (db_path);
}

gboolean
bz_index_provider_export (BzIndexProvider *self, GDBusConnection *bus, GError **error)
{
  g_return_val_if_fail (BZ_IS_INDEX_PROVIDER (self), FALSE);
  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), bus,
                                           BZ_INDEX_PROVIDER_PATH, error);
}

static void
bz_index_provider_dispose (GObject *object)
{
  BzIndexProvider *self = BZ_INDEX_PROVIDER (object);

  if (self->skeleton != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->skeleton, self);
      if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)))
        g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
    }
  g_clear_object (&self->skeleton);
  G_OBJECT_CLASS (bz_index_provider_parent_class)->dispose (object);
}

static void
bz_index_provider_finalize (GObject *object)
{
  g_free (BZ_INDEX_PROVIDER (object)->db_path);
  G_OBJECT_CLASS (bz_index_provider_parent_class)->finalize (object);
}

static void
bz_index_provider_class_init (BzIndexProviderClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bz_index_provider_dispose;
  G_OBJECT_CLASS (klass)->finalize = bz_index_provider_finalize;
}

static void
bz_index_provider_init (BzIndexProvider *self)
{
  self->skeleton = bz_shell_search_provider2_skeleton_new ();
  g_signal_connect (self->skeleton, "handle-get-initial-result-set", G_CALLBACK (handle_initial_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-get-subsearch-result-set",
                    G_CALLBACK (handle_subsearch_cb), self);
  g_signal_connect (self->skeleton, "handle-get-result-metas", G_CALLBACK (handle_metas_cb), self);
  g_signal_connect (self->skeleton, "handle-activate-result", G_CALLBACK (handle_activate_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-launch-search", G_CALLBACK (handle_launch_cb), self);
}
