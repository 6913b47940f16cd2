/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The secrets tests wait for a lookup; buzond never does (it runs
 * bz_secrets_lookup_async() on its main loop). */
#pragma once

#include "bz-secrets.h"

G_BEGIN_DECLS

/* Runs bz_secrets_lookup_async() in a private main context until it ends.
 * Same ownership and errors as bz_secrets_lookup_finish(). */
char *bz_secrets_test_lookup_sync (BzAccount *account, GCancellable *cancellable, GError **error);

G_END_DECLS
