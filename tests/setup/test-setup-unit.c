/* SPDX-License-Identifier: GPL-3.0-or-later */
/* agent/setup without the network: addresses, the autoconfig format, URL
 * rules, and accounts.conf editing (byte-exact round trips). */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bz-setup.h"

static void
test_address (void)
{
  g_autofree char *local = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *name = NULL;
  const char *bad[] = { "alice",
                        "@example.com",
                        "alice@",
                        "al ice@example.com",
                        "alice@exa/mple.com",
                        "alice@.example.com",
                        "a\tb@example.com" };

  g_assert_true (bz_setup_address_split ("Alice.B@Mail.Example.COM.", &local, &domain, NULL));
  g_assert_cmpstr (local, ==, "Alice.B");
  g_assert_cmpstr (domain, ==, "mail.example.com");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (bz_setup_address_split (bad[i], NULL, NULL, &error));
      g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_ADDRESS);
    }
  /* the last '@' separates: "a@b"@example.com has a quoted local part */
  g_clear_pointer (&domain, g_free);
  g_assert_true (bz_setup_address_split ("a@b@example.com", NULL, &domain, NULL));
  g_assert_cmpstr (domain, ==, "example.com");

  name = bz_setup_address_to_name ("alice+news@example.com");
  g_assert_cmpstr (name, ==, "alice-news-example.com");
  g_clear_pointer (&name, g_free);
  name = bz_setup_address_to_name ("a-very-long-local-part-that-goes-on-and-on@"
                                   "a-very-long-domain-name.example.com");
  g_assert_cmpuint (strlen (name), ==, 64);
}

static void
test_autoconfig_urls (void)
{
  g_auto (GStrv) urls = bz_setup_autoconfig_urls ("a+b@example.com", "example.com");

  g_assert_cmpuint (g_strv_length (urls), ==, 2);
  g_assert_cmpstr (urls[0], ==,
                   "https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=a%2Bb%40"
                   "example.com");
  g_assert_cmpstr (urls[1], ==, "https://example.com/.well-known/autoconfig/mail/config-v1.1.xml");
}

static BzSetupServer *
parse (const char *servers, GError **error)
{
  g_autofree char *xml = g_strdup_printf ("<?xml version=\"1.0\"?>\n"
                                          "<clientConfig version=\"1.1\">\n"
                                          " <emailProvider id=\"example.com\">\n"
                                          "  <domain>example.com</domain>\n%s"
                                          " </emailProvider>\n"
                                          "</clientConfig>\n",
                                          servers);
  return bz_setup_autoconfig_parse (xml, -1, "alice@example.com", error);
}

static void
test_autoconfig_parse (void)
{
  g_autoptr (BzSetupServer) s = NULL;
  g_autoptr (GError) error = NULL;

  /* SSL is preferred to STARTTLS whatever the order; placeholders filled;
   * the <pop3> block and the imap server are not mistaken for the server */
  s = parse ("<incomingServer type=\"imap\"><hostname>imap.example.com</hostname>"
             "<port>993</port><socketType>SSL</socketType></incomingServer>"
             "<incomingServer type=\"pop3\"><hostname>pop.%EMAILDOMAIN%</hostname>"
             "<port>110</port><socketType>STARTTLS</socketType>"
             "<username>%EMAILADDRESS%</username></incomingServer>"
             "<incomingServer type=\"pop3\"><hostname>pop3s.%EMAILDOMAIN%</hostname>"
             "<port>1995</port><socketType>SSL</socketType>"
             "<username>%EMAILLOCALPART%&amp;x</username>"
             "<authentication>password-cleartext</authentication>"
             "<pop3><leaveMessagesOnServer>true</leaveMessagesOnServer>"
             "<hostname>not.this</hostname></pop3></incomingServer>",
             &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->host, ==, "pop3s.example.com");
  g_assert_cmpuint (s->port, ==, 1995);
  g_assert_cmpint (s->security, ==, BZ_SECURITY_TLS);
  g_assert_cmpstr (s->user, ==, "alice&x");
  g_assert_null (s->oauth2);
  g_clear_pointer (&s, bz_setup_server_free);

  /* STARTTLS without a port: 110; no username: left to the caller */
  s = parse ("<incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
             "<socketType>STARTTLS</socketType></incomingServer>",
             &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->port, ==, 110);
  g_assert_cmpint (s->security, ==, BZ_SECURITY_STARTTLS);
  g_assert_null (s->user);
  g_clear_pointer (&s, bz_setup_server_free);

  /* OAuth2 at a provider buzon knows */
  s = parse ("<incomingServer type=\"pop3\"><hostname>pop.gmail.com</hostname>"
             "<port>995</port><socketType>SSL</socketType>"
             "<authentication>OAuth2</authentication></incomingServer>",
             &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->oauth2, ==, "google");
  g_clear_pointer (&s, bz_setup_server_free);

  /* OAuth2 only, at an unknown provider; a client certificate: unusable */
  s = parse ("<incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
             "<authentication>OAuth2</authentication></incomingServer>"
             "<incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
             "<authentication>TLS-certificate</authentication></incomingServer>",
             &error);
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_NOT_FOUND);
  g_assert_null (s);
  g_clear_error (&error);

  /* bad port, bad host name, unknown socket type */
  s = parse ("<incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
             "<port>99999</port></incomingServer>"
             "<incomingServer type=\"pop3\"><hostname>pop example.com</hostname>"
             "</incomingServer>"
             "<incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
             "<socketType>quantum</socketType></incomingServer>",
             &error);
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* no pop3 at all */
  s = parse ("<incomingServer type=\"imap\"><hostname>imap.example.com</hostname>"
             "</incomingServer>",
             &error);
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* plaintext only: found, the caller decides */
  s = parse ("<incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
             "<socketType>plain</socketType></incomingServer>",
             &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->security, ==, BZ_SECURITY_NONE);
  g_assert_cmpuint (s->port, ==, 110);
  g_clear_pointer (&s, bz_setup_server_free);

  /* not this format */
  g_assert_null (bz_setup_autoconfig_parse ("<html><body>hi</body></html>", -1, "a@b.c", &error));
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP);
  g_clear_error (&error);
  g_assert_null (bz_setup_autoconfig_parse ("<clientConfig><incomingServer", -1, "a@b.c", &error));
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP);
  g_clear_error (&error);
  g_assert_null (bz_setup_autoconfig_parse ("", 0, "a@b.c", &error));
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP);
}

static void
test_url_rules (void)
{
  const char *ok[] = { "https://autoconfig.example.com/x.xml", "http://localhost:8080/x",
                       "http://127.0.0.1/x", "http://[::1]:99/x" };
  const char *refused[] = { "http://example.com/x", "http://10.0.0.1/x", "ftp://localhost/x",
                            "file:///etc/passwd",   "not a url",         "https:///nohost" };

  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    g_assert_true (bz_setup_http_check_url (ok[i], TRUE, NULL));
  /* discovery's own URLs never take http://, even on loopback */
  g_assert_false (bz_setup_http_check_url ("http://localhost/x", FALSE, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (bz_setup_http_check_url (refused[i], TRUE, &error));
      g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_REFUSED);
    }
}

static void
test_presets (void)
{
  g_autoptr (BzSetupServer) s = NULL;

  g_assert_cmpstr (bz_setup_preset_for_domain ("googlemail.com", &s), ==, "google");
  g_assert_cmpstr (s->host, ==, "pop.gmail.com");
  g_assert_cmpuint (s->port, ==, 995);
  g_clear_pointer (&s, bz_setup_server_free);
  g_assert_cmpstr (bz_setup_preset_for_domain ("HOTMAIL.com", &s), ==, "microsoft");
  g_assert_cmpstr (s->host, ==, "outlook.office365.com");
  g_assert_cmpstr (s->oauth2, ==, "microsoft");
  g_assert_null (bz_setup_preset_for_domain ("example.com", NULL));
}

static const char *const kv[] = { "host", "pop.example.com", "user", "alice", NULL };

/* add then remove gives back the original, byte for byte */
static void
test_conf_round_trip (void)
{
  const char *originals[] = {
    "",
    "# only a comment",
    "[general]\nnotify = true\n",
    "[general]\nnotify = true\n\n\n",
    "[general]\r\nnotify = true\r\n",
    "# head\n\n[account a]   # note\nhost = h\nuser = u\n# trailing remark\n",
    "[account a]\nhost = h\nuser = u\n\n# about b\n[account b]\nhost = h\nuser = v\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (originals); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *added = bz_setup_conf_add_account (originals[i], "new", kv, &error);
      g_autofree char *removed = NULL;

      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (added, originals[i]));
      g_assert_true (bz_setup_conf_has_account (added, "new"));
      g_assert_false (bz_setup_conf_has_account (originals[i], "new"));
      removed = bz_setup_conf_remove_account (added, "new", &error);
      g_assert_no_error (error);
      /* a last line without its line end gets one: the only byte added */
      if (originals[i][0] != '\0' && !g_str_has_suffix (originals[i], "\n"))
        {
          g_autofree char *ended = g_strconcat (originals[i], "\n", NULL);
          g_assert_cmpstr (removed, ==, ended);
        }
      else
        {
          g_assert_cmpstr (removed, ==, originals[i]);
        }
    }
}

static void
test_conf_add (void)
{
  g_autofree char *a = bz_setup_conf_add_account ("", "x", kv, NULL);
  g_autofree char *b = bz_setup_conf_add_account ("[general]", "x", kv, NULL);
  g_autofree char *c = bz_setup_conf_add_account ("a = b\r\n", "x", kv, NULL);
  const char *const unsafe[][5] = {
    { "host", "a\nb", NULL },
    { "host", " lead", NULL },
    { "user", "alice #x", NULL },
    { "user", "", NULL },
  };

  g_assert_cmpstr (a, ==, "[account x]\nhost = pop.example.com\nuser = alice\n");
  g_assert_cmpstr (b, ==, "[general]\n\n[account x]\nhost = pop.example.com\nuser = alice\n");
  g_assert_cmpstr (c, ==, "a = b\r\n\r\n[account x]\r\nhost = pop.example.com\r\nuser = alice\r\n");
  for (gsize i = 0; i < G_N_ELEMENTS (unsafe); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (bz_setup_conf_add_account ("", "x", unsafe[i], &error));
      g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF);
    }
}

static void
test_conf_remove (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *middle = NULL;
  g_autofree char *last = NULL;
  g_autofree char *twice = NULL;
  const char *text = "# my accounts\n"
                     "[account a]  # first\n"
                     "host = h\n"
                     "user = u\n"
                     "\n"
                     "# b is the work one\n"
                     "[account b]\n"
                     "host = h\n"
                     "user = v\n"
                     "\n"
                     "[account c]\n"
                     "host = h\n"
                     "user = w\n";

  first = bz_setup_conf_remove_account (text, "a", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==,
                   "# my accounts\n\n# b is the work one\n[account b]\nhost = h\nuser = v\n\n"
                   "[account c]\nhost = h\nuser = w\n");
  middle = bz_setup_conf_remove_account (text, "b", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (middle, ==,
                   "# my accounts\n[account a]  # first\nhost = h\nuser = u\n\n"
                   "[account c]\nhost = h\nuser = w\n");
  last = bz_setup_conf_remove_account (text, "c", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (last, ==,
                   "# my accounts\n[account a]  # first\nhost = h\nuser = u\n\n"
                   "# b is the work one\n[account b]\nhost = h\nuser = v\n");

  /* a group written twice goes entirely; "[account bb]" is another one */
  twice = bz_setup_conf_remove_account ("[account b]\nx = 1\n\n[account bb]\nx = 2\n\n"
                                        "[account b]\nx = 3\n",
                                        "b", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (twice, ==, "[account bb]\nx = 2\n");

  g_assert_null (bz_setup_conf_remove_account (text, "d", &error));
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF);
}

static gboolean
refuse (const char *candidate, gpointer user_data, GError **error)
{
  char **seen = user_data;
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (candidate, &contents, NULL, NULL));
  *seen = g_strdup (contents);
  g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF, "refused");
  return FALSE;
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_conf_replace (void)
{
  g_autofree char *dir = g_dir_make_tmp ("bz-setup-XXXXXX", NULL);
  g_autofree char *real_dir = g_build_filename (dir, "dotfiles", NULL);
  g_autofree char *real = g_build_filename (real_dir, "accounts.conf", NULL);
  g_autofree char *link = g_build_filename (dir, "conf", "accounts.conf", NULL);
  g_autofree char *link_dir = g_path_get_dirname (link);
  g_autofree char *fresh = g_build_filename (dir, "new", "sub", "accounts.conf", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *seen = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (real_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (link_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (real, "old\n", -1, NULL));
  g_assert_cmpint (chmod (real, 0640), ==, 0);
  g_assert_cmpint (symlink (real, link), ==, 0);

  /* a refused candidate leaves the old file and no temporary file */
  g_assert_false (bz_setup_conf_replace (link, "new\n", refuse, &seen, &error));
  g_assert_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF);
  g_clear_error (&error);
  g_assert_cmpstr (seen, ==, "new\n");
  g_assert_true (g_file_get_contents (real, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old\n");
  g_clear_pointer (&contents, g_free);
  g_assert_cmpuint (count_entries (real_dir), ==, 1);

  /* through the symlink: the real file changes, keeps its mode, the link stays */
  g_assert_true (bz_setup_conf_replace (link, "new\n", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_get_contents (real, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "new\n");
  g_clear_pointer (&contents, g_free);
  g_assert_cmpint (stat (real, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
  g_assert_cmpuint (count_entries (real_dir), ==, 1);

  /* a new file in new folders: private */
  g_assert_true (bz_setup_conf_replace (fresh, "x\n", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stat (fresh, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  g_unlink (fresh);
  g_unlink (link);
  g_unlink (real);
  g_rmdir (real_dir);
  g_rmdir (link_dir);
  {
    g_autofree char *sub = g_path_get_dirname (fresh);
    g_autofree char *top = g_path_get_dirname (sub);
    g_rmdir (sub);
    g_rmdir (top);
  }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/setup/address", test_address);
  g_test_add_func ("/setup/autoconfig/urls", test_autoconfig_urls);
  g_test_add_func ("/setup/autoconfig/parse", test_autoconfig_parse);
  g_test_add_func ("/setup/url-rules", test_url_rules);
  g_test_add_func ("/setup/presets", test_presets);
  g_test_add_func ("/setup/conf/round-trip", test_conf_round_trip);
  g_test_add_func ("/setup/conf/add", test_conf_add);
  g_test_add_func ("/setup/conf/remove", test_conf_remove);
  g_test_add_func ("/setup/conf/replace", test_conf_replace);
  return g_test_run ();
}
