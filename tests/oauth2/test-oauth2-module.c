/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The token endpoint's module (agent/oauth2/bz-oauth2-module.h): loaded
 * only when a token is fetched from a provider, and a missing, foreign or
 * broken module is an error that names the account and the file, never a
 * crash. This program links what buzond links of agent/oauth2 (no
 * libsoup), so /proc/self/maps shows what the module brings in. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "bz-oauth2-module.h"
#include "bz-oauth2-paths.h"
#include "bz-oauth2.h"
#include "bz-test-util.h"

static gboolean
mapped (const char *name)
{
  g_autofree char *maps = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents ("/proc/self/maps", &maps, NULL, &error);
  g_assert_no_error (error);
  return strstr (maps, name) != NULL;
}

/* a token endpoint nobody answers at: bound, then closed */
static char *
closed_token_url (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return g_strdup_printf ("http://127.0.0.1:%u/token", port);
}

static BzOAuth2Grant *
request (const char *url, GError **error)
{
  return bz_oauth2_request_token ("acct", url, NULL, error, "grant_type", "refresh_token",
                                  "refresh_token", "x", "client_id", "cid", NULL);
}

static void
test_load_missing (void)
{
  g_autofree char *dir = bz_test_mkdtemp ("module-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "oauth2-http.so", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_null (bz_oauth2_module_load (path, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "No such file"));
  g_rmdir (dir);
}

static void
test_load_not_elf (void)
{
  g_autofree char *dir = bz_test_mkdtemp ("module-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "oauth2-http.so", NULL);
  g_autoptr (GError) error = NULL;

  /* a download cut short, a file written over */
  g_assert_true (g_file_set_contents (path, "\177ELF not really", -1, NULL));
  g_assert_null (bz_oauth2_module_load (path, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, path));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_load_foreign (void)
{
  const char *path = bz_test_env ("BZ_TEST_FOREIGN_MODULE");
  g_autoptr (GError) error = NULL;

  /* a loadable module without the entry point (another version's) */
  g_assert_null (bz_oauth2_module_load (path, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "is not the token module of buzon"));
  g_assert_nonnull (strstr (error->message, BZ_OAUTH2_HTTP_POST_SYMBOL));
}

/* Each test below needs a process that has not loaded the module yet. */
static void
test_lazy (void)
{
  g_autoptr (BzAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  char *token;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0,
                              G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  g_unsetenv ("BUZON_TEST_OAUTH2_MODULE"); /* the build tree's module */
  g_assert_false (mapped ("oauth2-http.so"));
  g_assert_false (mapped ("libsoup-3.0"));
  g_assert_false (mapped ("libjson-glib"));

  /* oauth2 = command: a token without the token endpoint */
  account = bz_account_new ();
  account->name = g_strdup ("acct");
  account->host = g_strdup ("pop.example.com");
  account->user = g_strdup ("alice@example.com");
  account->oauth2 = BZ_OAUTH2_COMMAND;
  account->oauth2_token_command = g_strdup ("echo tok");
  token = bz_oauth2_get_token (account, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token, ==, "tok");
  bz_oauth2_token_free (token);
  g_assert_false (mapped ("oauth2-http.so"));
  g_assert_false (mapped ("libsoup-3.0"));

  /* the first request loads it: the answer is the module's */
  url = closed_token_url ();
  g_assert_null (request (url, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, "acct: cannot reach the token endpoint"));
  g_assert_true (mapped (BZ_OAUTH2_MODULE_BUILD_PATH));
  g_assert_true (mapped ("libsoup-3.0"));
  g_assert_true (mapped ("libjson-glib"));
}

static void
test_request_without_module (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *broken = NULL;
  g_autofree char *url = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0,
                              G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  dir = bz_test_mkdtemp ("module-XXXXXX");
  missing = g_build_filename (dir, "missing", "oauth2-http.so", NULL);
  broken = g_build_filename (dir, "oauth2-http.so", NULL);
  g_assert_true (g_file_set_contents (broken, "", 0, NULL));
  url = closed_token_url ();

  g_setenv ("BUZON_TEST_OAUTH2_MODULE", missing, TRUE);
  g_assert_null (request (url, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_true (g_str_has_prefix (error->message, "acct: "));
  g_assert_nonnull (strstr (error->message, "module is missing or broken"));
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_setenv ("BUZON_TEST_OAUTH2_MODULE", broken, TRUE);
  g_assert_null (request (url, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_true (g_str_has_prefix (error->message, "acct: "));
  g_assert_nonnull (strstr (error->message, broken));
  g_clear_error (&error);

  g_setenv ("BUZON_TEST_OAUTH2_MODULE", bz_test_env ("BZ_TEST_FOREIGN_MODULE"), TRUE);
  g_assert_null (request (url, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, "acct: "));
  g_assert_nonnull (strstr (error->message, "is not the token module"));
  g_clear_error (&error);
  g_assert_false (mapped ("libsoup-3.0"));

  /* a failure is not remembered: the module back in place, it works */
  g_unsetenv ("BUZON_TEST_OAUTH2_MODULE");
  g_assert_null (request (url, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, "acct: cannot reach the token endpoint"));
  g_unlink (broken);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/oauth2/module/load-missing", test_load_missing);
  g_test_add_func ("/oauth2/module/load-not-elf", test_load_not_elf);
  g_test_add_func ("/oauth2/module/load-foreign", test_load_foreign);
  g_test_add_func ("/oauth2/module/lazy", test_lazy);
  g_test_add_func ("/oauth2/module/request-without-module", test_request_without_module);
  return g_test_run ();
}
