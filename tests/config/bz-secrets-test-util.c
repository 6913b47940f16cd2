/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-secrets-test-util.h"

static void
lookup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

char *
bz_secrets_test_lookup_sync (BzAccount *account, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GAsyncResult) result = NULL;

  g_main_context_push_thread_default (context);
  bz_secrets_lookup_async (account, cancellable, lookup_cb, &result);
  /* bounded by the command timeout and the D-Bus call timeouts */
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return bz_secrets_lookup_finish (result, error);
}
