/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* bz_secrets_password_from_data() used to live here; it is public now */
#include "bz-secrets.h"

G_BEGIN_DECLS

/* Overwrites the contents of @bytes (which the caller solely owns) so that
 * a password read into ordinary memory does not linger there; NULL is
 * allowed. */
void bz_secrets_wipe_bytes (GBytes *bytes);

G_END_DECLS
