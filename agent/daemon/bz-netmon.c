/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-daemon-log.h"
#include "bz-netmon.h"

struct _BzNetmon
{
  GObject parent_instance;
  GNetworkMonitor *monitor; /* borrowed singleton, or NULL with the hook */
  GFileMonitor *file_monitor;
  GFile *offline_file;
  gboolean online;
};

G_DEFINE_TYPE (BzNetmon, bz_netmon, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ONLINE,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
set_online (BzNetmon *self, gboolean online)
{
  if (self->online == online)
    return;
  self->online = online;
  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "network %s", online ? "available" : "unavailable");
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ONLINE]);
}

static void
network_changed_cb (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  set_online (BZ_NETMON (user_data), available);
  g_signal_emit (user_data, signals[SIGNAL_CHANGED], 0);
}

#ifdef BZ_TEST_HOOKS
static void
offline_file_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                         gpointer user_data)
{
  BzNetmon *self = BZ_NETMON (user_data);

  set_online (self, !g_file_query_exists (self->offline_file, NULL));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}
#endif

static void
bz_netmon_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BzNetmon *self = BZ_NETMON (object);

  switch (prop_id)
    {
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bz_netmon_dispose (GObject *object)
{
  BzNetmon *self = BZ_NETMON (object);

  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  self->monitor = NULL;
  if (self->file_monitor != NULL)
    g_file_monitor_cancel (self->file_monitor);
  g_clear_object (&self->file_monitor);
  g_clear_object (&self->offline_file);
  G_OBJECT_CLASS (bz_netmon_parent_class)->dispose (object);
}

static void
bz_netmon_class_init (BzNetmonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bz_netmon_get_property;
  object_class->dispose = bz_netmon_dispose;
  props[PROP_ONLINE] =
      g_param_spec_boolean ("online", NULL, NULL, TRUE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
  /* Any change of the network (routes, addresses), not only on/off. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bz_netmon_init (BzNetmon *self)
{
  self->online = TRUE;
}

BzNetmon *
bz_netmon_new (void)
{
  BzNetmon *self = g_object_new (BZ_TYPE_NETMON, NULL);
#ifdef BZ_TEST_HOOKS
  const char *hook = g_getenv ("BUZON_TEST_OFFLINE_FILE");

  if (hook != NULL && hook[0] != '\0')
    {
      g_autoptr (GError) error = NULL;

      self->offline_file = g_file_new_for_path (hook);
      self->file_monitor =
          g_file_monitor_file (self->offline_file, G_FILE_MONITOR_NONE, NULL, &error);
      if (self->file_monitor == NULL)
        bz_daemon_log (G_LOG_LEVEL_WARNING, NULL, "cannot watch %s: %s", hook, error->message);
      else
        g_signal_connect (self->file_monitor, "changed", G_CALLBACK (offline_file_changed_cb),
                          self);
      self->online = !g_file_query_exists (self->offline_file, NULL);
      return self;
    }
#endif
  self->monitor = g_network_monitor_get_default ();
  self->online = g_network_monitor_get_network_available (self->monitor);
  g_signal_connect (self->monitor, "network-changed", G_CALLBACK (network_changed_cb), self);
  return self;
}

gboolean
bz_netmon_get_online (BzNetmon *self)
{
  g_return_val_if_fail (BZ_IS_NETMON (self), FALSE);
  return self->online;
}
