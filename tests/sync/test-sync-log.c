/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What `buzond --once --verbose` logs: every line of a sync names the
 * account it is about (README), whichever folder of the agent logs it and
 * in whichever thread, and each folder logs in its own domain. */
#include "config.h"

#include <string.h>

#include "sync-test-common.h"

/* GLib's standard-streams format, "[(buzond:PID): ]DOMAIN-LEVEL[ **]:
 * TIME: MESSAGE", on stdout (debug, info) or stderr. */
#define LOG_LINE                                                                            \
  "^(?:\\(buzond:\\d+\\): )?([A-Za-z][A-Za-z0-9-]*?)-(DEBUG|INFO|MESSAGE|WARNING|CRITICAL)" \
  "(?: \\*\\*)?: [0-9:.]+: (.*)$"

static void
test_log_account (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *alpha = sync_case_dovecot_account (c, "alpha", "test1", "max-size = 100K");
  g_autofree char *beta = sync_case_dovecot_account (c, "beta", "test2", NULL);
  g_autofree char *conf = g_strconcat (alpha, beta, NULL);
  g_autoptr (GRegex) re = g_regex_new (LOG_LINE, G_REGEX_MULTILINE, 0, NULL);
  g_autoptr (GHashTable) domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autoptr (SyncRun) run = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mails = NULL;
  g_autofree char *maildir =
      g_build_filename (bz_test_env ("BZ_TEST_MAIL_ROOT"), "test1", "Maildir", NULL);
  g_autofree char *output = NULL;
  guint lines = 0, logged_in = 0, skipped = 0;

  g_assert_true (bz_test_fill_user ("test1", 20, 1, 1, "small", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_test_fill_user ("test2", 20, 1, 1, "small", NULL, &error));
  g_assert_no_error (error);
  /* one too large for alpha's max-size: an info line of the sync */
  mails = sync_mailgen (maildir, "--count", "1", "--seed", "2", "--start", "21", "--profile",
                        "large", "--size", "200000", NULL);
  g_assert_cmpuint (mails->len, ==, 1);
  sync_case_write_config (c, conf);

  run = sync_case_run (c, NULL, "--verbose", NULL);
  g_assert_cmpint (run->status, ==, 0);

  output = g_strconcat (run->out, run->err, NULL);
  g_regex_match (re, output, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *domain = g_match_info_fetch (match, 1);
      g_autofree char *message = g_match_info_fetch (match, 3);

      lines++;
      if (!g_str_has_prefix (message, "alpha: ") && !g_str_has_prefix (message, "beta: "))
        g_error ("a log line names no account: \"%s\" (domain %s)", message, domain);
      g_hash_table_add (domains, g_steal_pointer (&domain));
      /* named after the account the line is about, not just any */
      if (strstr (message, " logged in to ") != NULL)
        {
          logged_in++;
          g_assert_true (g_str_has_prefix (message, "alpha: ")
                             ? strstr (message, " as test1 ") != NULL
                             : strstr (message, " as test2 ") != NULL);
        }
      if (strstr (message, " skipped (max-size ") != NULL)
        {
          skipped++;
          g_assert_true (g_str_has_prefix (message, "alpha: "));
        }
    }
  g_test_message ("%u log lines in %u domains", lines, g_hash_table_size (domains));
  g_assert_cmpuint (logged_in, ==, 2);
  g_assert_cmpuint (skipped, ==, 1);
  /* the sync, the password-command and the database each in their own;
   * GLib's own lines from a sync's thread are named too */
  g_assert_true (g_hash_table_contains (domains, "buzon-sync"));
  g_assert_true (g_hash_table_contains (domains, "buzon-secrets"));
  g_assert_true (g_hash_table_contains (domains, "buzon-db"));
  g_assert_true (g_hash_table_contains (domains, "GLib-GIO"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/log-account", test_log_account);
  return g_test_run ();
}
