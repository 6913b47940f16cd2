/* SPDX-License-Identifier: GPL-3.0-or-later */
/* accounts.conf parsing and validation. Every test runs with its own
 * HOME and XDG_* folders (G_TEST_OPTION_ISOLATE_DIRS). */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "bz-config.h"

/* Writes @text to the default config path and loads it from there. */
static BzConfig *
load_text (const char *text, GError **error)
{
  g_autofree char *path = bz_config_default_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) write_error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &write_error);
  g_assert_no_error (write_error);
  return bz_config_load (NULL, error);
}

static char *
home_path (const char *rel)
{
  /* the isolated HOME is named but not created */
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  return g_build_filename (g_get_home_dir (), rel, NULL);
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("expected \"%s\" in \"%s\"", needle, haystack);
}

static void
test_config_full (void)
{
  g_autofree char *ca = home_path ("ca.pem");
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expect = NULL;
  BzAccount *a;

  g_file_set_contents (ca, "not checked here\n", -1, &error);
  g_assert_no_error (error);
  config = load_text ("# buzon accounts\n"
                      "[general]\n"
                      "data-dir = ~/data   # optional\n"
                      "max-parallel = 4\n"
                      "notify = true\n"
                      "\n"
                      "[account work]\n"
                      "host = pop.example.com\n"
                      "port = 1995\n"
                      "security = starttls\n"
                      "user = alice@example.com\n"
                      "auth = apop\n"
                      "interval = 0\n"
                      "keep = days:30\n"
                      "max-size = 10M\n"
                      "maildir = ~/Mail/work/\n"
                      "tls-ca-file = ~/ca.pem\n"
                      "tls-pin-sha256 = AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
                      "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89\n"
                      "password-command = pass show mail/work | head -n1  # shell comment\n"
                      "timeout = 90\n"
                      "enabled = false\n"
                      "allow-plaintext = true\n",
                      &error);
  g_assert_no_error (error);
  g_assert_nonnull (config);

  expect = home_path ("data");
  g_assert_cmpstr (bz_config_get_data_dir (config), ==, expect);
  g_clear_pointer (&expect, g_free);
  expect = home_path ("data/buzon.db");
  g_assert_cmpstr (bz_config_get_database_path (config), ==, expect);
  g_clear_pointer (&expect, g_free);
  g_assert_cmpuint (bz_config_get_max_parallel (config), ==, 4);
  g_assert_true (bz_config_get_notify (config));
  g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 0);
  g_assert_cmpuint (bz_config_get_accounts (config)->len, ==, 1);

  a = bz_config_find_account (config, "work");
  g_assert_nonnull (a);
  g_assert_cmpstr (a->name, ==, "work");
  g_assert_cmpstr (a->host, ==, "pop.example.com");
  g_assert_cmpuint (a->port, ==, 1995);
  g_assert_cmpint (a->security, ==, BZ_SECURITY_STARTTLS);
  g_assert_cmpstr (a->user, ==, "alice@example.com");
  g_assert_cmpint (a->auth, ==, BZ_AUTH_APOP);
  g_assert_cmpuint (a->interval_min, ==, 0);
  g_assert_cmpint (a->keep, ==, BZ_KEEP_DAYS);
  g_assert_cmpuint (a->keep_days, ==, 30);
  g_assert_cmpuint (a->max_size, ==, 10 * 1024 * 1024);
  expect = home_path ("Mail/work");
  g_assert_cmpstr (a->maildir, ==, expect);
  g_assert_cmpstr (a->tls_ca_file, ==, ca);
  g_assert_cmpstr (a->tls_pin_sha256, ==,
                   "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  /* verbatim: the shell, not the loader, drops the comment */
  g_assert_cmpstr (a->password_command, ==, "pass show mail/work | head -n1  # shell comment");
  g_assert_cmpuint (a->timeout_s, ==, 90);
  g_assert_false (a->enabled);
  g_assert_true (a->allow_plaintext);
  g_assert_null (bz_config_find_account (config, "other"));
}

static void
test_config_defaults (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *data_dir = g_build_filename (g_get_user_data_dir (), "buzon", NULL);
  g_autofree char *db = g_build_filename (data_dir, "buzon.db", NULL);
  g_autofree char *maildir = g_build_filename (data_dir, "mail", "a", NULL);
  g_autofree char *path =
      g_build_filename (g_get_user_config_dir (), "buzon", "accounts.conf", NULL);
  g_autofree char *default_path = bz_config_default_path ();
  BzAccount *a;
  BzAccount *b;

  /* the isolated XDG folders are what the defaults must follow */
  g_assert_cmpstr (default_path, ==, path);

  config = load_text ("[account a]\nhost = pop.example.com\nuser = u\n"
                      "[account b.local-1_x]\nhost = 127.0.0.1\nuser = u\nsecurity = none\n",
                      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bz_config_get_path (config), ==, path);
  g_assert_cmpstr (bz_config_get_data_dir (config), ==, data_dir);
  g_assert_cmpstr (bz_config_get_database_path (config), ==, db);
  g_assert_cmpuint (bz_config_get_max_parallel (config), ==, 2);
  g_assert_false (bz_config_get_notify (config));

  a = bz_config_find_account (config, "a");
  g_assert_nonnull (a);
  g_assert_cmpuint (a->port, ==, 995);
  g_assert_cmpint (a->security, ==, BZ_SECURITY_TLS);
  g_assert_cmpint (a->auth, ==, BZ_AUTH_AUTO);
  g_assert_cmpuint (a->interval_min, ==, 15);
  g_assert_cmpint (a->keep, ==, BZ_KEEP_FOREVER);
  g_assert_cmpuint (a->max_size, ==, 0);
  g_assert_cmpstr (a->maildir, ==, maildir);
  g_assert_null (a->tls_ca_file);
  g_assert_null (a->tls_pin_sha256);
  g_assert_null (a->password_command);
  g_assert_cmpuint (a->timeout_s, ==, 60);
  g_assert_true (a->enabled);
  g_assert_false (a->allow_plaintext);

  b = bz_config_find_account (config, "b.local-1_x");
  g_assert_nonnull (b);
  g_assert_cmpuint (b->port, ==, 110);
  g_assert_cmpint (b->security, ==, BZ_SECURITY_NONE);
  g_assert_true (bz_account_plaintext_allowed (b));
}

static void
test_config_data_dir_relative (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expect =
      g_build_filename (g_get_user_config_dir (), "buzon", "state", "mail", "a", NULL);
  BzAccount *a;

  /* a relative path is relative to the folder of the config file */
  config = load_text ("[general]\ndata-dir = state\n"
                      "[account a]\nhost = h\nuser = u\n",
                      &error);
  g_assert_no_error (error);
  a = bz_config_find_account (config, "a");
  g_assert_nonnull (a);
  g_assert_cmpstr (a->maildir, ==, expect);
}

typedef struct
{
  const char *what;
  const char *text;
  int code;
  const char *message; /* must appear in the error */
} ErrorCase;

#define ACCOUNT "[account work]\nhost = pop.example.com\nuser = u\n"

/* errors that drop one account */
static const ErrorCase account_cases[] = {
  { "security", ACCOUNT "security = tsl\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "accounts.conf: [account work] security = tsl: expected one of tls, starttls, none" },
  { "unknown key", ACCOUNT "hots = x\n", BZ_CONFIG_ERROR_UNKNOWN_KEY,
    "accounts.conf: [account work] hots = x: unknown key; expected one of host, port," },
  { "auth", ACCOUNT "auth = cram\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] auth = cram: expected one of auto, sasl-plain, user, apop" },
  { "port zero", ACCOUNT "port = 0\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] port = 0: expected a whole number from 1 to 65535" },
  { "port big", ACCOUNT "port = 70000\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] port = 70000: expected a whole number from 1 to 65535" },
  { "port text", ACCOUNT "port = pop3s\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] port = pop3s: expected a whole number" },
  { "interval", ACCOUNT "interval = -1\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] interval = -1: expected a whole number from 0 to" },
  { "interval over a year", ACCOUNT "interval = 525601\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] interval = 525601: expected a whole number from 0 to 525600" },
  { "host with port", "[account work]\nhost = pop.example.com:2525\nuser = u\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "accounts.conf: [account work] host = pop.example.com:2525: expected a host name or IP "
    "address without a port; put the port in the key port" },
  { "IPv4 with port", "[account work]\nhost = 127.0.0.1:110\nuser = u\n",
    BZ_CONFIG_ERROR_INVALID_VALUE, "[account work] host = 127.0.0.1:110: expected a host name" },
  { "bracketed with port", "[account work]\nhost = [::1]:995\nuser = u\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] host = [::1]:995: expected an IPv6 address in brackets, e.g. [::1]" },
  { "bracketed name", "[account work]\nhost = [pop.example.com]\nuser = u\n",
    BZ_CONFIG_ERROR_INVALID_VALUE, "[account work] host = [pop.example.com]: expected an IPv6" },
  { "bracket unclosed", "[account work]\nhost = [::1\nuser = u\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] host = [::1: expected an IPv6" },
  { "timeout", ACCOUNT "timeout = 0\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] timeout = 0: expected a whole number from 1 to 3600" },
  { "max-size", ACCOUNT "max-size = 12X\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] max-size = 12X: expected a size in bytes, optionally with a K, M or G suffix" },
  { "enabled", ACCOUNT "enabled = maybe\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] enabled = maybe: expected true or false" },
  { "allow-plaintext", ACCOUNT "allow-plaintext = yes\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] allow-plaintext = yes: expected true or false" },
  { "keep days:x", ACCOUNT "keep = days:x\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] keep = days:x: expected forever, delete or days:N with N from 1 to" },
  { "keep word", ACCOUNT "keep = sometimes\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] keep = sometimes: expected forever, delete or days:N" },
  { "pin short", ACCOUNT "tls-pin-sha256 = abcd\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] tls-pin-sha256 = abcd: expected the SHA-256 of the server's public key (SPKI) "
    "as 64 hex digits" },
  { "pin not hex",
    ACCOUNT "tls-pin-sha256 = "
            "zz00000000000000000000000000000000000000000000000000000000000000\n",
    BZ_CONFIG_ERROR_INVALID_VALUE, "[account work] tls-pin-sha256 = zz00" },
  { "ca file", ACCOUNT "tls-ca-file = /nonexistent/ca.pem\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] tls-ca-file = /nonexistent/ca.pem: no such file" },
  { "tilde user", ACCOUNT "maildir = ~bob/Mail\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] maildir = ~bob/Mail: ~user is not supported" },
  { "empty host", "[account work]\nhost =\nuser = u\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "accounts.conf: [account work] host = : expected" },
  { "missing host", "[account work]\nuser = u\n", BZ_CONFIG_ERROR_MISSING_KEY,
    "accounts.conf: [account work] host: missing" },
  { "missing user", "[account work]\nhost = h\n", BZ_CONFIG_ERROR_MISSING_KEY,
    "accounts.conf: [account work] user: missing" },
  { "bad name", "[account wörk]\nhost = h\nuser = u\n", BZ_CONFIG_ERROR_INVALID_NAME,
    "accounts.conf: [account wörk]: account name \"wörk\" is not allowed; expected 1 to 64 "
    "characters from A-Z a-z 0-9 . _ -" },
  { "long name",
    "[account "
    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345]\nhost = h\nuser = u\n",
    BZ_CONFIG_ERROR_INVALID_NAME, "is not allowed; expected 1 to 64" },
  { "dot name", "[account .]\nhost = h\nuser = u\n", BZ_CONFIG_ERROR_INVALID_NAME,
    "[account .]: account name \".\" is not allowed; expected 1 to 64 characters from A-Z a-z 0-9 "
    ". _ -, not only dots" },
  { "dot-dot name", "[account ..]\nhost = h\nuser = u\n", BZ_CONFIG_ERROR_INVALID_NAME,
    "account name \"..\" is not allowed" },
  { "duplicate", ACCOUNT "\n" ACCOUNT, BZ_CONFIG_ERROR_DUPLICATE,
    "accounts.conf: [account work]: written twice (lines 1 and 5); each account must be defined "
    "once" },
  { "duplicate key", ACCOUNT "port = 1\nport = 2\n", BZ_CONFIG_ERROR_DUPLICATE,
    "accounts.conf: [account work] port: set twice (lines 4 and 5)" },
  { "plaintext remote", ACCOUNT "security = none\n", BZ_CONFIG_ERROR_PLAINTEXT,
    "accounts.conf: [account work] security = none: refused for host pop.example.com, "
    "which is not loopback" },
  { "user with CR", "[account work]\nhost = h\nuser = a\rb\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] user = a\rb: expected a user name without control characters" },
  { "empty command", ACCOUNT "password-command =\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] password-command = : expected a shell command" },
  { "xoauth2 without oauth2", ACCOUNT "auth = xoauth2\n", BZ_CONFIG_ERROR_MISSING_KEY,
    "accounts.conf: [account work] oauth2: missing; auth = xoauth2 needs a token source" },
  { "oauthbearer without oauth2", ACCOUNT "auth = oauthbearer\n", BZ_CONFIG_ERROR_MISSING_KEY,
    "[account work] oauth2: missing; auth = oauthbearer needs a token source" },
  { "unknown provider", ACCOUNT "oauth2 = yahoo\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] oauth2 = yahoo: expected one of google, microsoft, custom, goa, command" },
  { "custom without urls", ACCOUNT "oauth2 = custom\noauth2-client-id = id\noauth2-scope = s\n",
    BZ_CONFIG_ERROR_MISSING_KEY,
    "[account work] oauth2-auth-url: missing; oauth2 = custom needs the provider's authorization "
    "endpoint" },
  { "custom without token url",
    ACCOUNT "oauth2 = custom\noauth2-client-id = id\noauth2-scope = s\n"
            "oauth2-auth-url = https://id.example/auth\n",
    BZ_CONFIG_ERROR_MISSING_KEY, "[account work] oauth2-token-url: missing" },
  { "http url off loopback",
    ACCOUNT "oauth2 = custom\noauth2-client-id = id\noauth2-scope = s\n"
            "oauth2-auth-url = http://id.example/auth\noauth2-token-url = https://id.example/t\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] oauth2-auth-url = http://id.example/auth: refused: http:// would send tokens "
    "unencrypted" },
  { "ftp url", ACCOUNT "oauth2 = google\noauth2-client-id = x\noauth2-token-url = ftp://h/t\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] oauth2-token-url = ftp://h/t: expected an https:// URL" },
  { "command without command", ACCOUNT "oauth2 = command\n", BZ_CONFIG_ERROR_MISSING_KEY,
    "[account work] oauth2-token-command: missing; oauth2 = command needs a command" },
  { "oauth2 with password auth", ACCOUNT "oauth2 = goa\nauth = user\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] auth: with oauth2 = goa expected auto, xoauth2 or oauthbearer" },
  { "oauth2 key without oauth2", ACCOUNT "oauth2-client-id = x\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] oauth2-client-id: only used with oauth2 = ...; set oauth2" },
  { "preset scope", ACCOUNT "oauth2 = microsoft\noauth2-client-id = x\noauth2-scope = y\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] oauth2-scope = y: oauth2 = microsoft has its scope built in" },
  { "token command elsewhere", ACCOUNT "oauth2 = goa\noauth2-token-command = x\n",
    BZ_CONFIG_ERROR_INVALID_VALUE,
    "[account work] oauth2-token-command: only used with oauth2 = command" },
};

/* errors that fail the whole load */
static const ErrorCase file_cases[] = {
  { "syntax", "[account work]\nhost = h\nthis is not a key\n", BZ_CONFIG_ERROR_SYNTAX,
    "accounts.conf: " },
  { "unknown group", "[acount work]\nhost = h\n", BZ_CONFIG_ERROR_UNKNOWN_GROUP,
    "accounts.conf: [acount work]: unknown group; expected [general] or [account NAME]" },
  { "general unknown key", "[general]\nmax-paralel = 3\n", BZ_CONFIG_ERROR_UNKNOWN_KEY,
    "accounts.conf: [general] max-paralel = 3: unknown key; expected one of data-dir, "
    "max-parallel, notify" },
  { "general max-parallel", "[general]\nmax-parallel = 0\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "accounts.conf: [general] max-parallel = 0: expected a whole number from 1 to 64" },
  { "general notify", "[general]\nnotify = on\n", BZ_CONFIG_ERROR_INVALID_VALUE,
    "accounts.conf: [general] notify = on: expected true or false" },
  { "general twice", "[general]\nnotify = true\n[general]\nnotify = false\n",
    BZ_CONFIG_ERROR_DUPLICATE, "accounts.conf: [general]: written twice (lines 1 and 3)" },
};

static void
test_config_account_error (gconstpointer user_data)
{
  const ErrorCase *tc = user_data;
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  BzConfigAccountError *item;

  config = load_text (tc->text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bz_config_get_accounts (config)->len, ==, 0);
  g_assert_cmpuint (bz_config_get_errors (config)->len, >=, 1);
  item = g_ptr_array_index (bz_config_get_errors (config), 0);
  g_assert_error (item->error, BZ_CONFIG_ERROR, tc->code);
  assert_contains (item->error->message, tc->message);
  g_assert_true (bz_config_account_has_errors (config, item->account));
  g_assert_nonnull (strstr (tc->text, item->account));
}

static void
test_config_file_error (gconstpointer user_data)
{
  const ErrorCase *tc = user_data;
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;

  config = load_text (tc->text, &error);
  g_assert_null (config);
  g_assert_error (error, BZ_CONFIG_ERROR, tc->code);
  assert_contains (error->message, tc->message);
}

static void
test_config_missing_file (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = home_path ("nope.conf");

  config = bz_config_load (path, &error);
  g_assert_null (config);
  g_assert_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_NOT_FOUND);
  assert_contains (error->message, path);
}

/* host = [::1] is the address ::1 everywhere (D-Bus Host, the TLS IP
 * check, the loopback check), and port stays what port says. */
static void
test_config_ipv6_host (void)
{
  const char *cases[][2] = {
    { "[::1]", "::1" },
    { "::1", "::1" },
    { "[2001:db8::5]", "2001:db8::5" },
    { "pop.example.com", "pop.example.com" },
    { "192.0.2.7", "192.0.2.7" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text =
          g_strdup_printf ("[account v6]\nhost = %s\nport = 2525\nuser = u\n", cases[i][0]);
      g_autoptr (GError) error = NULL;
      g_autoptr (BzConfig) config = load_text (text, &error);
      BzAccount *a;

      g_assert_no_error (error);
      g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 0);
      a = bz_config_find_account (config, "v6");
      g_assert_nonnull (a);
      g_assert_cmpstr (a->host, ==, cases[i][1]);
      g_assert_cmpuint (a->port, ==, 2525);
    }
}

/* The longest interval the config takes is one the timer can wait. */
static void
test_config_interval_max (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzConfig) config =
      load_text ("[account y]\nhost = h\nuser = u\ninterval = 525600\n", &error);
  BzAccount *a;

  g_assert_no_error (error);
  a = bz_config_find_account (config, "y");
  g_assert_nonnull (a);
  g_assert_cmpuint (a->interval_min, ==, 525600);
}

static void
test_config_plaintext (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  BzAccount *a;
  const char *loopback[] = { "localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]" };

  /* allow-plaintext accepts a remote host */
  config = load_text ("[account work]\nhost = pop.example.com\nuser = u\n"
                      "security = none\nallow-plaintext = true\n",
                      &error);
  g_assert_no_error (error);
  a = bz_config_find_account (config, "work");
  g_assert_nonnull (a);
  g_assert_true (bz_account_plaintext_allowed (a));
  g_clear_object (&config);

  for (guint i = 0; i < G_N_ELEMENTS (loopback); i++)
    {
      g_autofree char *text = g_strdup_printf ("[account l]\nhost = %s\nuser = u\n"
                                               "security = none\n",
                                               loopback[i]);
      config = load_text (text, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 0);
      g_assert_nonnull (bz_config_find_account (config, "l"));
      g_clear_object (&config);
    }

  g_assert_false (bz_host_is_loopback ("128.0.0.1"));
  g_assert_false (bz_host_is_loopback ("localhost.example.com"));
  g_assert_false (bz_host_is_loopback ("::2"));
  g_assert_false (bz_host_is_loopback (""));
}

static void
test_config_one_bad_one_good (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  BzConfigAccountError *item;

  config = load_text ("[account good]\nhost = a.example.com\nuser = u\n"
                      "[account bad]\nhost = b.example.com\nuser = u\n"
                      "security = tsl\nkeep = days:x\n"
                      "[account good2]\nhost = c.example.com\nuser = u\n",
                      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bz_config_get_accounts (config)->len, ==, 2);
  g_assert_nonnull (bz_config_find_account (config, "good"));
  g_assert_nonnull (bz_config_find_account (config, "good2"));
  g_assert_null (bz_config_find_account (config, "bad"));
  /* every problem of the bad account is listed, not just the first */
  g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 2);
  item = g_ptr_array_index (bz_config_get_errors (config), 0);
  g_assert_cmpstr (item->account, ==, "bad");
  assert_contains (item->error->message, "[account bad] security = tsl");
  item = g_ptr_array_index (bz_config_get_errors (config), 1);
  assert_contains (item->error->message, "[account bad] keep = days:x");
  g_assert_true (bz_config_account_has_errors (config, "bad"));
  g_assert_false (bz_config_account_has_errors (config, "good"));
}

static void
test_config_collisions (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  BzConfigAccountError *item;

  config = load_text ("[account a-]\nhost = h\nuser = u\n"
                      "[account a_2d]\nhost = h\nuser = u\n"
                      "[account m1]\nhost = h\nuser = u\nmaildir = ~/M\n"
                      "[account m2]\nhost = h\nuser = u\nmaildir = ~/M/\n",
                      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bz_config_get_accounts (config)->len, ==, 2);
  g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 2);
  item = g_ptr_array_index (bz_config_get_errors (config), 0);
  g_assert_cmpstr (item->account, ==, "a_2d");
  assert_contains (item->error->message, "same D-Bus object path as [account a-]");
  item = g_ptr_array_index (bz_config_get_errors (config), 1);
  g_assert_cmpstr (item->account, ==, "m2");
  assert_contains (item->error->message, "already used by [account m1]");
}

static void
test_config_object_path (void)
{
  struct
  {
    const char *name;
    const char *path;
  } cases[] = {
    { "work", "/org/buzon/Agent1/accounts/work" },
    { "my-work.acct", "/org/buzon/Agent1/accounts/my_2dwork_2eacct" },
    { "A_b9", "/org/buzon/Agent1/accounts/A_b9" },
    { "-", "/org/buzon/Agent1/accounts/_2d" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = bz_account_object_path (cases[i].name);
      g_assert_cmpstr (path, ==, cases[i].path);
      g_assert_true (g_variant_is_object_path (path));
    }
  g_assert_true (bz_account_name_is_valid ("a.b_c-9"));
  g_assert_false (bz_account_name_is_valid (""));
  g_assert_false (bz_account_name_is_valid ("a b"));
  g_assert_false (bz_account_name_is_valid ("a/b"));
}

static void
test_config_equal (void)
{
  const char *base = "[account a]\nhost = h\nuser = u\n[account b]\nhost = h\nuser = u\n";
  g_autoptr (BzConfig) c1 = NULL;
  g_autoptr (BzConfig) c2 = NULL;
  g_autoptr (BzConfig) c3 = NULL;
  g_autoptr (GError) error = NULL;

  c1 = load_text (base, &error);
  g_assert_no_error (error);
  c2 = load_text (base, &error);
  g_assert_no_error (error);
  c3 = load_text ("[account a]\nhost = h\nuser = u\n"
                  "[account b]\nhost = h\nuser = u\ninterval = 5\n",
                  &error);
  g_assert_no_error (error);

  g_assert_true (
      bz_account_equal (bz_config_find_account (c1, "a"), bz_config_find_account (c2, "a")));
  g_assert_true (
      bz_account_equal (bz_config_find_account (c1, "a"), bz_config_find_account (c3, "a")));
  g_assert_false (
      bz_account_equal (bz_config_find_account (c1, "b"), bz_config_find_account (c3, "b")));
  g_assert_false (
      bz_account_equal (bz_config_find_account (c1, "a"), bz_config_find_account (c1, "b")));
  g_assert_false (bz_account_equal (bz_config_find_account (c1, "a"), NULL));
  g_assert_true (bz_account_equal (NULL, NULL));
}

/* DESIGN.md's example, as written there: comments after group headers and
 * values. Only its two placeholders (a CA path and "<hex>") are made real. */
static void
test_config_design_example (void)
{
  g_autofree char *ca = home_path ("ca.pem");
  g_autofree char *text = NULL;
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  BzAccount *a;

  g_file_set_contents (ca, "not checked here\n", -1, &error);
  g_assert_no_error (error);
  text = g_strdup_printf (
      "[general]\n"
      "data-dir = ~/.local/share/buzon     # optional\n"
      "max-parallel = 2                    # accounts synced at once\n"
      "notify = false                      # desktop notification on new mail\n"
      "\n"
      "[account work]                      # name: [A-Za-z0-9._-]{1,64}\n"
      "host = pop.example.com\n"
      "port = 995                          # default: 995 for tls, 110 otherwise\n"
      "security = tls                      # tls (implicit, default) | starttls | none\n"
      "user = alice@example.com\n"
      "auth = auto                         # auto | sasl-plain | user | apop\n"
      "interval = 15                       # minutes between polls; 0 = on demand only\n"
      "keep = forever                      # forever | delete | days:N\n"
      "max-size = 0                        # bytes; larger messages are skipped, 0 = no limit\n"
      "maildir = ~/Mail/work               # optional\n"
      "tls-ca-file = %s           # optional extra trust anchor\n"
      "tls-pin-sha256 = %s              # optional: SHA-256 of the server certificate's public key "
      "(SPKI)\n"
      "password-command = pass show work   # optional; otherwise the keyring\n"
      "timeout = 60                        # seconds without progress before giving up\n"
      "enabled = true\n",
      ca, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  config = load_text (text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 0);
  a = bz_config_find_account (config, "work");
  g_assert_nonnull (a);
  g_assert_cmpstr (a->host, ==, "pop.example.com");
  g_assert_cmpuint (a->port, ==, 995);
  g_assert_cmpuint (a->interval_min, ==, 15);
  g_assert_cmpuint (a->timeout_s, ==, 60);
  g_assert_true (a->enabled);
  g_assert_cmpstr (a->tls_ca_file, ==, ca);
}

static void
test_config_oauth2 (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  BzAccount *a;

  config = load_text ("[account gmail]\nhost = pop.gmail.com\nuser = a@gmail.com\n"
                      "oauth2 = google\noauth2-client-id = 123.apps\n"
                      "oauth2-client-secret = s3\n"
                      "[account idp]\nhost = h\nuser = u\nauth = oauthbearer\noauth2 = custom\n"
                      "oauth2-client-id = c\noauth2-scope = pop offline\n"
                      "oauth2-auth-url = http://127.0.0.1:8080/authorize\n"
                      "oauth2-token-url = https://id.example/token\n"
                      "[account cmd]\nhost = h\nuser = u\nauth = xoauth2\noauth2 = command\n"
                      "oauth2-token-command = oama access u  # not a comment\n"
                      "[account goa]\nhost = h\nuser = u\noauth2 = goa\n",
                      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 0);
  a = bz_config_find_account (config, "gmail");
  g_assert_cmpint (a->oauth2, ==, BZ_OAUTH2_GOOGLE);
  g_assert_cmpint (a->auth, ==, BZ_AUTH_AUTO);
  g_assert_cmpstr (bz_account_get_oauth2_client_id (a), ==, "123.apps");
  g_assert_cmpstr (a->oauth2_client_secret, ==, "s3");
  a = bz_config_find_account (config, "idp");
  g_assert_cmpint (a->oauth2, ==, BZ_OAUTH2_CUSTOM);
  g_assert_cmpint (a->auth, ==, BZ_AUTH_OAUTHBEARER);
  g_assert_cmpstr (a->oauth2_scope, ==, "pop offline");
  g_assert_cmpstr (a->oauth2_auth_url, ==, "http://127.0.0.1:8080/authorize");
  a = bz_config_find_account (config, "cmd");
  g_assert_cmpint (a->oauth2, ==, BZ_OAUTH2_COMMAND);
  g_assert_cmpint (a->auth, ==, BZ_AUTH_XOAUTH2);
  g_assert_cmpstr (a->oauth2_token_command, ==, "oama access u  # not a comment");
  a = bz_config_find_account (config, "goa");
  g_assert_cmpint (a->oauth2, ==, BZ_OAUTH2_GOA);
}

/* google and microsoft take their client id from the config or the build
 * (meson -Dgoogle-client-id=...); with neither, the key is named. */
static void
test_config_oauth2_client_id_default (void)
{
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;

  config = load_text ("[account ms]\nhost = outlook.office365.com\nuser = u@example.com\n"
                      "oauth2 = microsoft\n",
                      &error);
  g_assert_no_error (error);
  if (*BZ_MICROSOFT_CLIENT_ID == '\0')
    {
      BzConfigAccountError *item;

      g_assert_cmpuint (bz_config_get_errors (config)->len, ==, 1);
      item = g_ptr_array_index (bz_config_get_errors (config), 0);
      g_assert_error (item->error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_MISSING_KEY);
      assert_contains (item->error->message,
                       "[account ms] oauth2-client-id: missing, and this build has no default "
                       "client id for microsoft");
    }
  else
    {
      BzAccount *a = bz_config_find_account (config, "ms");

      g_assert_nonnull (a);
      g_assert_cmpstr (bz_account_get_oauth2_client_id (a), ==, BZ_MICROSOFT_CLIENT_ID);
    }
}

/* A NUL byte would end the text early: the file is refused, not cut. */
static void
test_config_nul_byte (void)
{
  g_autofree char *path = bz_config_default_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  static const char text[] = "[account a]\nhost = h\nuser = u\n\0[account b]\n";

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, sizeof text - 1, &error);
  g_assert_no_error (error);
  config = bz_config_load (NULL, &error);
  g_assert_null (config);
  g_assert_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_SYNTAX);
  assert_contains (error->message, "NUL byte");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/config/full", test_config_full);
  g_test_add_func ("/config/defaults", test_config_defaults);
  g_test_add_func ("/config/data-dir-relative", test_config_data_dir_relative);
  g_test_add_func ("/config/missing-file", test_config_missing_file);
  g_test_add_func ("/config/plaintext", test_config_plaintext);
  g_test_add_func ("/config/ipv6-host", test_config_ipv6_host);
  g_test_add_func ("/config/interval-max", test_config_interval_max);
  g_test_add_func ("/config/one-bad-one-good", test_config_one_bad_one_good);
  g_test_add_func ("/config/collisions", test_config_collisions);
  g_test_add_func ("/config/object-path", test_config_object_path);
  g_test_add_func ("/config/equal", test_config_equal);
  g_test_add_func ("/config/design-example", test_config_design_example);
  g_test_add_func ("/config/nul-byte", test_config_nul_byte);
  g_test_add_func ("/config/oauth2", test_config_oauth2);
  g_test_add_func ("/config/oauth2-client-id-default", test_config_oauth2_client_id_default);
  for (guint i = 0; i < G_N_ELEMENTS (account_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/config/account-error/%s", account_cases[i].what);
      g_test_add_data_func (name, &account_cases[i], test_config_account_error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/config/file-error/%s", file_cases[i].what);
      g_test_add_data_func (name, &file_cases[i], test_config_file_error);
    }
  return g_test_run ();
}
