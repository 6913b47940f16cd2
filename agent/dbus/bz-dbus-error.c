/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-dbus-error.h"

static const GDBusErrorEntry bz_dbus_error_entries[] = {
  { BZ_DBUS_ERROR_UNKNOWN_ACCOUNT, "org.buzon.Agent1.Error.UnknownAccount" },
  { BZ_DBUS_ERROR_DISABLED, "org.buzon.Agent1.Error.Disabled" },
  { BZ_DBUS_ERROR_CONFIG, "org.buzon.Agent1.Error.Config" },
  { BZ_DBUS_ERROR_INVALID_ARGS, "org.buzon.Agent1.Error.InvalidArgs" },
  { BZ_DBUS_ERROR_FAILED, "org.buzon.Agent1.Error.Failed" },
};

GQuark
bz_dbus_error_quark (void)
{
  static gsize quark = 0;

  /* Thread-safe and idempotent; the mapping must exist before the first
   * error crosses the bus in either direction. */
  g_dbus_error_register_error_domain ("bz-dbus-error-quark", &quark, bz_dbus_error_entries,
                                      G_N_ELEMENTS (bz_dbus_error_entries));
  return (GQuark) quark;
}
