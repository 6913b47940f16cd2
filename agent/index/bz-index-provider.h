/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GNOME Shell's search provider (org.gnome.Shell.SearchProvider2) over the
 * full-text index: bz-index-provider.c. */
#pragma once

#include <gio/gio.h>

#include "bz-index.h"

G_BEGIN_DECLS

#define BZ_INDEX_PROVIDER_PATH "/org/buzon/Agent1/SearchProvider"

#define BZ_TYPE_INDEX_PROVIDER (bz_index_provider_get_type ())
G_DECLARE_FINAL_TYPE (BzIndexProvider, bz_index_provider, BZ, INDEX_PROVIDER, GObject)

/* A provider answering from the database at @db_path. Transfer full. */
BzIndexProvider *bz_index_provider_new (const char *db_path);
/* A reload moved data-dir: later calls read @db_path. */
void bz_index_provider_set_db_path (BzIndexProvider *self, const char *db_path);
/* Exports it on BZ_INDEX_PROVIDER_PATH of @bus; unexported by dispose. */
gboolean bz_index_provider_export (BzIndexProvider *self, GDBusConnection *bus, GError **error);

G_END_DECLS
