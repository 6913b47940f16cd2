/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BZ_STORE_ERROR (bz_store_error_quark ())
GQuark bz_store_error_quark (void);

/* Messages name the file and carry strerror(). */
typedef enum
{
  BZ_STORE_ERROR_IO,        /* create, write, fsync, rename failed */
  BZ_STORE_ERROR_NO_SPACE,  /* ENOSPC or EDQUOT: stop fetching, retry later */
  BZ_STORE_ERROR_DUPLICATE, /* the UIDL is already stored: not stored twice */
  BZ_STORE_ERROR_DB,        /* the database refused the row (see the message) */
} BzStoreError;

G_END_DECLS
