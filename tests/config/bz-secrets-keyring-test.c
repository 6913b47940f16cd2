/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The keyring side of bz-secrets against a real gnome-keyring-daemon on a
 * private session bus (run through run-with-keyring.sh). */
#include "config.h"

#include <string.h>

#include "bz-secrets.h"

#define GUARD_MS 20000

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

static gboolean
guard_cb (gpointer user_data)
{
  g_error ("a keyring call did not finish within %d ms", GUARD_MS);
  return G_SOURCE_REMOVE;
}

/* Iterates the default context (bounded) until *result is set. */
static void
wait_for (GAsyncResult **result)
{
  guint guard = g_timeout_add (GUARD_MS, guard_cb, NULL);

  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

static BzAccount *
account_new (const char *name, const char *host, const char *user)
{
  BzAccount *account = bz_account_new ();

  account->name = g_strdup (name);
  account->host = g_strdup (host);
  account->user = g_strdup (user);
  return account;
}

static char *
lookup (BzAccount *account, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  bz_secrets_lookup_async (account, NULL, wait_cb, &result);
  wait_for (&result);
  return bz_secrets_lookup_finish (result, error);
}

static gboolean
store (BzAccount *account, const char *password, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  bz_secrets_store_async (account, password, NULL, wait_cb, &result);
  wait_for (&result);
  return bz_secrets_store_finish (result, error);
}

static gboolean
clear (BzAccount *account, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  bz_secrets_clear_async (account, NULL, wait_cb, &result);
  wait_for (&result);
  return bz_secrets_clear_finish (result, error);
}

/* What mpop users do: `secret-tool store --label=mpop host H <kind> pop3 user U`. */
static void
secret_tool_store (const char *host, const char *kind, const char *user, const char *password)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, "secret-tool", "store",
                           "--label=mpop", "host", host, kind, "pop3", "user", user, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, password, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
}

static void
assert_lookup (BzAccount *account, const char *expected)
{
  g_autoptr (GError) error = NULL;
  char *pw = lookup (account, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, expected);
  bz_secrets_password_free (pw);
}

static void
test_keyring_round_trip (void)
{
  g_autoptr (BzAccount) account = account_new ("work", "pop.example.com", "alice@example.com");
  g_autoptr (BzAccount) other = account_new ("work", "pop.example.com", "bob@example.com");
  g_autoptr (GError) error = NULL;
  const char *password = "p \xc3\xa4\"ss' w\xc3\xb6rd";
  char *pw;

  g_assert_true (store (account, password, &error));
  g_assert_no_error (error);
  assert_lookup (account, password);

  /* storing again replaces, it does not add a second entry */
  g_assert_true (store (account, "second", &error));
  g_assert_no_error (error);
  assert_lookup (account, "second");

  /* another user on the same host is another entry */
  pw = lookup (other, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (clear (account, &error));
  g_assert_no_error (error);
  pw = lookup (account, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* clearing what is not there says so */
  g_assert_false (clear (account, &error));
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);
}

static void
test_keyring_not_found (void)
{
  g_autoptr (BzAccount) account = account_new ("nobody", "pop.nowhere.test", "nobody");
  g_autoptr (GError) error = NULL;
  char *pw = lookup (account, &error);

  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==,
                   "no password for account nobody in the keyring; "
                   "run: buzonctl set-password nobody");
}

static void
test_keyring_store_invalid (void)
{
  g_autoptr (BzAccount) account = account_new ("inv", "pop.example.com", "u");
  g_autoptr (GError) error = NULL;

  g_assert_false (store (account, "two\nlines", &error));
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (store (account, "", &error));
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID);
}

static void
test_keyring_mpop_fallback (void)
{
  g_autoptr (BzAccount) account = account_new ("legacy", "pop.mpop.test", "carol");
  g_autoptr (BzAccount) proto = account_new ("proto", "pop.proto.test", "dave");
  g_autoptr (GError) error = NULL;

  /* only mpop's entry: it is used */
  secret_tool_store ("pop.mpop.test", "service", "carol", "mpop pw");
  assert_lookup (account, "mpop pw");

  /* both: ours wins */
  g_assert_true (store (account, "buzon pw", &error));
  g_assert_no_error (error);
  assert_lookup (account, "buzon pw");

  /* forgetting ours leaves mpop's alone, which is found again */
  g_assert_true (clear (account, &error));
  g_assert_no_error (error);
  assert_lookup (account, "mpop pw");

  /* the network-password form with protocol instead of service */
  secret_tool_store ("pop.proto.test", "protocol", "dave", "proto pw");
  assert_lookup (proto, "proto pw");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    g_error ("no session bus: run this test through run-with-keyring.sh");

  g_test_add_func ("/secrets/keyring/round-trip", test_keyring_round_trip);
  g_test_add_func ("/secrets/keyring/not-found", test_keyring_not_found);
  g_test_add_func ("/secrets/keyring/store-invalid", test_keyring_store_invalid);
  g_test_add_func ("/secrets/keyring/mpop-fallback", test_keyring_mpop_fallback);
  return g_test_run ();
}
