/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `buzond --once` with a bad accounts.conf: exit code 2 and a message that
 * names the file, the group and the key. No server is needed. */
#include "config.h"

#include <string.h>

#include "sync-test-common.h"

typedef struct
{
  const char *name;
  const char *config;      /* @PW@: the password file */
  const char *mentions[4]; /* fragments the error must contain */
} ConfigCase;

static const ConfigCase cases[] = {
  { "unknown-key",
    "[account a]\nhost = localhost\nuser = u\nsecurity = none\nhots = x\n"
    "password-command = cat @PW@\n",
    { "[account a]", "hots", NULL } },
  { "bad-value",
    "[account a]\nhost = localhost\nuser = u\nsecurity = none\nkeep = sometimes\n"
    "password-command = cat @PW@\n",
    { "[account a]", "keep", "sometimes", NULL } },
  { "duplicate-account",
    "[account a]\nhost = localhost\nuser = u\nsecurity = none\n"
    "password-command = cat @PW@\n"
    "[account a]\nhost = localhost\nuser = v\nsecurity = none\n",
    { "account a", NULL } },
  { "missing-host",
    "[account a]\nuser = u\nsecurity = none\npassword-command = cat @PW@\n",
    { "[account a]", "host", NULL } },
  { "missing-user",
    "[account a]\nhost = localhost\nsecurity = none\npassword-command = cat @PW@\n",
    { "[account a]", "user", NULL } },
  { "plaintext-remote",
    "[account a]\nhost = pop.example.com\nuser = u\nsecurity = none\n"
    "password-command = cat @PW@\n",
    { "[account a]", "security", "allow-plaintext", NULL } },
  { "bad-account-name",
    "[account bad/name]\nhost = localhost\nuser = u\nsecurity = none\n"
    "password-command = cat @PW@\n",
    { "bad/name", NULL } },
};

static void
test_config_error (gconstpointer data)
{
  const ConfigCase *cc = data;
  g_autoptr (SyncCase) c = sync_case_new ();
  g_auto (GStrv) parts = g_strsplit (cc->config, "@PW@", -1);
  g_autofree char *text = g_strjoinv (c->password_file, parts);
  g_autoptr (SyncRun) r = NULL;

  sync_case_write_config (c, text);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 2);
  if (strstr (r->err, c->config_path) == NULL)
    g_error ("the error does not name the file %s:\n%s", c->config_path, r->err);
  for (guint i = 0; cc->mentions[i] != NULL; i++)
    if (strstr (r->err, cc->mentions[i]) == NULL)
      g_error ("the error does not say \"%s\":\n%s", cc->mentions[i], r->err);
  /* Nothing was synced, nothing claims it was. */
  g_assert_null (strstr (r->out, " new,"));
}

static void
test_missing_file (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *missing = g_build_filename (c->dir, "no-such.conf", NULL);
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;

  /* --config naming a missing file */
  r1 = sync_case_run (c, NULL, "--config", missing, NULL);
  g_assert_cmpint (r1->status, ==, 2);
  if (strstr (r1->err, missing) == NULL)
    g_error ("the error does not name %s:\n%s", missing, r1->err);
  /* the default file missing */
  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 2);
  if (strstr (r2->err, c->config_path) == NULL)
    g_error ("the error does not name %s:\n%s", c->config_path, r2->err);
}

static void
test_usage_error (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (SyncRun) r = NULL;

  g_autoptr (SyncRun) r2 = NULL;

  r = sync_case_run (c, NULL, "--no-such-option", NULL);
  g_assert_cmpint (r->status, ==, 2);
  g_assert_nonnull (strstr (r->err, "no-such-option"));

  /* --account naming no account of a valid file */
  sync_case_write_config (c, "[account a]\nhost = localhost\nuser = u\n"
                             "security = none\npassword-command = cat /dev/null\n");
  r2 = sync_case_run (c, NULL, "--account", "nosuch", NULL);
  g_assert_cmpint (r2->status, ==, 2);
  g_assert_nonnull (strstr (r2->err, "nosuch"));
  g_assert_null (strstr (r2->out, "a: "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sync/config/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_config_error);
    }
  g_test_add_func ("/sync/config/missing-file", test_missing_file);
  g_test_add_func ("/sync/config/usage", test_usage_error);
  return g_test_run ();
}
