/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The errors of the D-Bus API (DESIGN.md): each code travels on the bus as
 * org.buzon.Agent1.Error.<Name> with a readable message, and a proxy gets
 * it back as BZ_DBUS_ERROR with the same code. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BZ_DBUS_ERROR (bz_dbus_error_quark ())
/* Registers the domain with GDBus on first use, in any thread. */
GQuark bz_dbus_error_quark (void);

typedef enum
{
  BZ_DBUS_ERROR_UNKNOWN_ACCOUNT, /* org.buzon.Agent1.Error.UnknownAccount */
  BZ_DBUS_ERROR_DISABLED,        /* org.buzon.Agent1.Error.Disabled */
  BZ_DBUS_ERROR_CONFIG,          /* org.buzon.Agent1.Error.Config */
  BZ_DBUS_ERROR_INVALID_ARGS,    /* org.buzon.Agent1.Error.InvalidArgs */
  BZ_DBUS_ERROR_FAILED,          /* org.buzon.Agent1.Error.Failed */
} BzDbusError;

/* The bus names of the objects of DESIGN.md. */
#define BZ_DBUS_NAME "org.buzon.Agent1"
#define BZ_DBUS_PATH "/org/buzon/Agent1"

G_END_DECLS
