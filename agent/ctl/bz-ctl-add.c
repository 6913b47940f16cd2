/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl add EMAIL: find the server, check it (TLS, CAPA, the login),
 * store the password, append the account to accounts.conf, reload buzond.
 * Nothing is written anywhere until the server has accepted the login. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bz-config.h"
#include "bz-ctl.h"
#include "bz-pop3-session.h"
#include "bz-secrets.h"
#include "bz-setup.h"

typedef struct
{
  char *address;
  char *name;
  char *config_path;
  char *host;
  int port;
  char *security;
  char *user;
  char *keep;
  char *autoconfig_url;
  gboolean no_discover;
} AddOptions;

static const char *const security_names[] = { "tls", "starttls", "none" };

static const char *
security_label (BzSecurity security)
{
  return security == BZ_SECURITY_TLS        ? "TLS"
         : security == BZ_SECURITY_STARTTLS ? "STARTTLS"
                                            : "no encryption";
}

static const char *
source_label (BzSetupSource source)
{
  switch (source)
    {
    case BZ_SETUP_SOURCE_AUTOCONFIG:
      return "the provider's autoconfig file";
    case BZ_SETUP_SOURCE_SRV:
      return "a DNS SRV record";
    case BZ_SETUP_SOURCE_PRESET:
      return "buzon's list of known providers";
    case BZ_SETUP_SOURCE_GUESS:
    default:
      return "a guess";
    }
}

/* forever, delete or days:N, as accounts.conf(5) says */
static gboolean
keep_is_valid (const char *keep)
{
  guint64 days;

  if (g_str_equal (keep, "forever") || g_str_equal (keep, "delete"))
    return TRUE;
  return g_str_has_prefix (keep, "days:") &&
         g_ascii_string_to_unsigned (keep + 5, 10, 1, 36500, &days, NULL);
}

static int
check_options (AddOptions *o, BzSecurity *security)
{
  g_autoptr (GError) error = NULL;

  if (!bz_setup_address_split (o->address, NULL, NULL, &error))
    {
      g_printerr ("buzonctl add: %s\n", error->message);
      return BZ_CTL_EXIT_USAGE;
    }
  if (o->name == NULL)
    o->name = bz_setup_address_to_name (o->address);
  if (!bz_account_name_is_valid (o->name))
    {
      g_printerr ("buzonctl add: account name \"%s\" is not allowed; expected 1 to %d "
                  "characters from A-Z a-z 0-9 . _ -, not only dots\n",
                  o->name, BZ_ACCOUNT_NAME_MAX);
      return BZ_CTL_EXIT_USAGE;
    }
  if (o->port != 0 && (o->port < 1 || o->port > G_MAXUINT16))
    {
      g_printerr ("buzonctl add: --port %d: expected 1 to 65535\n", o->port);
      return BZ_CTL_EXIT_USAGE;
    }
  if (o->security != NULL)
    {
      gsize i;
      for (i = 0; i < G_N_ELEMENTS (security_names); i++)
        {
          if (g_str_equal (o->security, security_names[i]))
            break;
        }
      if (i == G_N_ELEMENTS (security_names))
        {
          g_printerr ("buzonctl add: --security %s: expected tls, starttls or none\n", o->security);
          return BZ_CTL_EXIT_USAGE;
        }
      *security = (BzSecurity) i;
    }
  if (o->keep != NULL && !keep_is_valid (o->keep))
    {
      g_printerr ("buzonctl add: --keep %s: expected forever, delete or days:N (N from 1 "
                  "to 36500)\n",
                  o->keep);
      return BZ_CTL_EXIT_USAGE;
    }
  if (o->no_discover && o->host == NULL)
    {
      g_printerr ("buzonctl add: --no-discover needs --host\n");
      return BZ_CTL_EXIT_USAGE;
    }
  if (o->autoconfig_url != NULL &&
      (o->no_discover || !bz_setup_http_check_url (o->autoconfig_url, TRUE, &error)))
    {
      if (error != NULL)
        g_printerr ("buzonctl add: --autoconfig-url %s\n", error->message);
      else
        g_printerr ("buzonctl add: --autoconfig-url and --no-discover exclude each other\n");
      return BZ_CTL_EXIT_USAGE;
    }
  return BZ_CTL_EXIT_OK;
}

/* Reads a yes/no answer from the terminal (echo on). */
static gboolean
ask_yes (const char *question)
{
  char buf[16];
  gsize len = 0;

  fputs (question, stderr);
  fflush (stderr);
  for (;;)
    {
      char c;
      ssize_t n = read (STDIN_FILENO, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        break;
      if (len + 1 < sizeof buf)
        buf[len++] = c;
    }
  buf[len] = '\0';
  return g_ascii_strcasecmp (g_strstrip (buf), "y") == 0 || g_ascii_strcasecmp (buf, "yes") == 0;
}

/* Runs discovery and prints what it found, or (without --host) what it
 * tried. NULL when nothing was found. */
static BzSetupServer *
discover (AddOptions *o)
{
  g_autoptr (GPtrArray) tried = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  g_autoptr (GError) error = NULL;
  BzSetupServer *server;

  g_print ("looking for the POP3 server of %s...\n", o->address);
  server = bz_setup_discover (o->address, o->autoconfig_url, resolver, tried, NULL, &error);
  if (server == NULL && o->host != NULL)
    {
      g_print ("no server found by discovery; using %s\n", o->host);
      return NULL;
    }
  if (server == NULL)
    {
      g_printerr ("buzonctl: %s; tried:\n", error->message);
      for (guint i = 0; i < tried->len; i++)
        g_printerr ("  - %s\n", (const char *) g_ptr_array_index (tried, i));
      g_printerr ("give the server with --host (and --port, --security) to add the "
                  "account anyway; nothing was written\n");
      return NULL;
    }
  g_print ("found %s port %u (%s) through %s (%s)\n", server->host, server->port,
           security_label (server->security), source_label (server->source), server->source_detail);
  return server;
}

/* RFC 6186 section 6: an SRV target outside the domain is shown to the
 * user, who must confirm it. FALSE after printing why not. */
static gboolean
confirm (AddOptions *o, BzSetupServer *server)
{
  g_autofree char *question = NULL;

  g_print ("note: %s is outside the domain of %s; a forged DNS answer could send "
           "your password to such a server (RFC 6186)\n",
           server->host, o->address);
  if (!isatty (STDIN_FILENO))
    {
      g_printerr ("buzonctl: not confirmed (standard input is not a terminal); to use "
                  "it, run again with --host %s --port %u --security %s; nothing "
                  "was written\n",
                  server->host, server->port,
                  server->security == BZ_SECURITY_TLS ? "tls" : "starttls");
      return FALSE;
    }
  question = g_strdup_printf ("Use %s? [y/N] ", server->host);
  if (!ask_yes (question))
    {
      g_printerr ("buzonctl: not confirmed; nothing was written\n");
      return FALSE;
    }
  return TRUE;
}

/* The server to use: discovered, then overridden by the flags. NULL after
 * printing why; *exit_code says how to end. */
static BzSetupServer *
find_server (AddOptions *o, gboolean security_set, BzSecurity security, int *exit_code)
{
  g_autoptr (BzSetupServer) server = NULL;

  *exit_code = BZ_CTL_EXIT_FAILED;
  if (!o->no_discover)
    {
      server = discover (o);
      if (server == NULL && o->host == NULL)
        return NULL;
    }
  if (o->host != NULL && (server == NULL || g_ascii_strcasecmp (server->host, o->host) != 0))
    {
      /* Another server than the one found: its port, security and
       * sign-in do not carry over, the login name (the address's) does. */
      BzSetupServer *given = g_new0 (BzSetupServer, 1);

      given->host = g_strdup (o->host);
      given->security = BZ_SECURITY_TLS;
      if (server != NULL)
        given->user = g_steal_pointer (&server->user);
      g_clear_pointer (&server, bz_setup_server_free);
      server = given;
    }
  if (server == NULL) /* --no-discover without --host: refused earlier */
    return NULL;
  /* a server the user named needs no confirmation */
  if (server->needs_confirmation && o->host == NULL && !confirm (o, server))
    return NULL;
  if (security_set && security != server->security)
    {
      server->security = security;
      server->port = 0; /* a found port was for the other kind */
    }
  if (o->port != 0)
    server->port = (guint16) o->port;
  if (server->port == 0)
    server->port = server->security == BZ_SECURITY_TLS ? 995 : 110;
  if (o->user != NULL)
    {
      g_free (server->user);
      server->user = g_strdup (o->user);
    }
  if (server->user == NULL)
    server->user = g_strdup (o->address);
  *exit_code = BZ_CTL_EXIT_OK;
  return g_steal_pointer (&server);
}

static BzPop3Session *
connect_server (BzSetupServer *server, GError **error)
{
  BzPop3SessionOptions options = {
    .net = { .host = server->host, .port = server->port },
    .security = server->security,
    .allow_plaintext = server->security == BZ_SECURITY_NONE,
  };

  return bz_pop3_session_connect (&options, NULL, error);
}

/* Connect, TLS, CAPA; then the password and the login. Returns the
 * password (free with bz_secrets_password_free()) or NULL after printing
 * why. */
static char *
check_server (BzSetupServer *server)
{
  g_autoptr (BzPop3Session) probe = NULL;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *prompt = NULL;
  char buf[BZ_SECRETS_PASSWORD_MAX + 2];
  gssize len;
  char *password;
  const char *tls;

  g_print ("checking %s port %u...\n", server->host, server->port);
  /* a first connection: the certificate is judged before any password is
   * asked for, and the login below does not race a server's idle timer
   * while the user types */
  probe = connect_server (server, &error);
  if (probe == NULL)
    {
      g_printerr ("buzonctl: %s; nothing was written\n", error->message);
      return NULL;
    }
  tls = bz_net_connection_get_tls_description (bz_pop3_session_get_connection (probe));
  if (tls != NULL)
    g_print ("%s: certificate verified, %s\n", server->host, tls);
  if (!bz_pop3_session_has_capability (probe, "UIDL"))
    g_print ("note: %s does not offer UIDL; buzon can use it only with keep = delete\n",
             server->host);
  bz_pop3_session_quit (probe, NULL, NULL);

  prompt = g_strdup_printf ("Password for %s at %s: ", server->user, server->host);
  len = bz_ctl_password_read (prompt, buf, sizeof buf, &error);
  if (len <= 0)
    {
      explicit_bzero (buf, sizeof buf);
      g_printerr ("buzonctl: %s; nothing was written\n",
                  len < 0 ? error->message : "the password is empty");
      return NULL;
    }
  password = bz_secrets_password_from_data (buf, (gsize) len, server->user, &error);
  explicit_bzero (buf, sizeof buf);
  if (password == NULL)
    {
      g_printerr ("buzonctl: %s; nothing was written\n", error->message);
      return NULL;
    }
  session = connect_server (server, &error);
  if (session == NULL ||
      !bz_pop3_session_login (session, BZ_AUTH_AUTO, server->user, password, NULL, &error))
    {
      if (g_error_matches (error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH))
        g_printerr ("buzonctl: %s did not accept the password of %s: %s; nothing was "
                    "written\n",
                    server->host, server->user, error->message);
      else
        g_printerr ("buzonctl: %s; nothing was written\n", error->message);
      bz_secrets_password_free (password);
      return NULL;
    }
  g_print ("%s accepted the login of %s (%s)\n", server->host, server->user,
           bz_pop3_session_get_auth_used (session));
  bz_pop3_session_quit (session, NULL, NULL);
  return password;
}

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

static BzAccount *
account_for (AddOptions *o, BzSetupServer *server)
{
  BzAccount *account = bz_account_new ();

  account->name = g_strdup (o->name);
  account->host = g_strdup (server->host);
  account->user = g_strdup (server->user);
  account->port = server->port;
  account->security = server->security;
  return account;
}

static gboolean
store_password (BzAccount *account, const char *password)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  bz_secrets_store_async (account, password, NULL, wait_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!bz_secrets_store_finish (result, &error))
    {
      g_printerr ("buzonctl: %s; nothing was written\n", error->message);
      return FALSE;
    }
  g_print ("password stored in the keyring\n");
  return TRUE;
}

static void
clear_password (BzAccount *account)
{
  g_autoptr (GAsyncResult) result = NULL;

  bz_secrets_clear_async (account, NULL, wait_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  (void) bz_secrets_clear_finish (result, NULL);
}

typedef struct
{
  const char *name;
  const char *config_path;
  gboolean oauth2;
  char *maildir; /* out */
} CheckCtx;

/* The candidate file must load and hold the new account without error:
 * a config buzond would reject is never put in place. */
static gboolean
check_candidate (const char *candidate, gpointer user_data, GError **error)
{
  CheckCtx *ctx = user_data;
  g_autoptr (GError) local = NULL;
  g_autoptr (BzConfig) config = bz_config_load (candidate, &local);
  GPtrArray *errors;
  g_autoptr (GString) msg = g_string_new (NULL);

  if (config == NULL)
    {
      g_string_assign (msg, local->message);
      g_string_replace (msg, candidate, ctx->config_path, 0);
      g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF, msg->str);
      return FALSE;
    }
  errors = bz_config_get_errors (config);
  for (guint i = 0; i < errors->len; i++)
    {
      BzConfigAccountError *e = g_ptr_array_index (errors, i);

      if (g_strcmp0 (e->account, ctx->name) != 0)
        continue;
      g_string_append_printf (msg, "%s%s", msg->len > 0 ? "\n" : "", e->error->message);
    }
  if (msg->len > 0)
    {
      g_string_replace (msg, candidate, ctx->config_path, 0);
      g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF, msg->str);
      return FALSE;
    }
  if (bz_config_find_account (config, ctx->name) != NULL)
    ctx->maildir = g_strdup (bz_config_find_account (config, ctx->name)->maildir);
  else
    ctx->maildir = g_build_filename (bz_config_get_data_dir (config), "mail", ctx->name, NULL);
  return TRUE;
}

/* Appends the group: only keys that differ from the defaults. */
static int
write_account (AddOptions *o, BzSetupServer *server)
{
  g_autoptr (GPtrArray) kv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *new_text = NULL;
  guint16 default_port = server->security == BZ_SECURITY_TLS ? 995 : 110;
  CheckCtx ctx = { o->name, o->config_path, server->oauth2 != NULL, NULL };
  int exit_code = BZ_CTL_EXIT_OK;

  g_ptr_array_add (kv, g_strdup ("host"));
  g_ptr_array_add (kv, g_strdup (server->host));
  if (server->port != default_port)
    {
      g_ptr_array_add (kv, g_strdup ("port"));
      g_ptr_array_add (kv, g_strdup_printf ("%u", server->port));
    }
  if (server->security != BZ_SECURITY_TLS)
    {
      g_ptr_array_add (kv, g_strdup ("security"));
      g_ptr_array_add (kv, g_strdup (security_names[server->security]));
    }
  g_ptr_array_add (kv, g_strdup ("user"));
  g_ptr_array_add (kv, g_strdup (server->user));
  if (server->oauth2 != NULL)
    {
      g_ptr_array_add (kv, g_strdup ("oauth2"));
      g_ptr_array_add (kv, g_strdup (server->oauth2));
    }
  if (o->keep != NULL && !g_str_equal (o->keep, "forever"))
    {
      g_ptr_array_add (kv, g_strdup ("keep"));
      g_ptr_array_add (kv, g_strdup (o->keep));
    }
  g_ptr_array_add (kv, NULL);

  /* read again now: the file may have changed while the password was typed */
  if (!g_file_get_contents (o->config_path, &text, NULL, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_printerr ("buzonctl: %s; nothing was written\n", error->message);
          return BZ_CTL_EXIT_FAILED;
        }
      g_clear_error (&error);
      text = g_strdup ("");
    }
  if (bz_setup_conf_has_account (text, o->name))
    {
      g_printerr ("buzonctl: %s: an account named \"%s\" exists already; choose another "
                  "name with --name; nothing was written\n",
                  o->config_path, o->name);
      return BZ_CTL_EXIT_USAGE;
    }
  new_text = bz_setup_conf_add_account (text, o->name, (const char *const *) kv->pdata, &error);
  if (new_text == NULL ||
      !bz_setup_conf_replace (o->config_path, new_text, check_candidate, &ctx, &error))
    {
      g_printerr ("buzonctl: %s\nbuzonctl: nothing was written to %s\n", error->message,
                  o->config_path);
      g_free (ctx.maildir);
      return BZ_CTL_EXIT_FAILED;
    }
  g_print ("account %s added to %s\n", o->name, o->config_path);
  g_print ("its mail will be stored in %s\n", ctx.maildir);
  g_free (ctx.maildir);
  if (!bz_ctl_reload_if_running ())
    exit_code = BZ_CTL_EXIT_FAILED;
  return exit_code;
}

static int
add_run (AddOptions *o)
{
  g_autoptr (BzSetupServer) server = NULL;
  g_autoptr (BzAccount) account = NULL;
  g_autofree char *text = NULL;
  BzSecurity security = BZ_SECURITY_TLS;
  char *password;
  int exit_code;

  exit_code = check_options (o, &security);
  if (exit_code != BZ_CTL_EXIT_OK)
    return exit_code;
  if (o->config_path == NULL)
    o->config_path = bz_config_default_path ();
  if (g_file_get_contents (o->config_path, &text, NULL, NULL))
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BzConfig) config = NULL;

      if (bz_setup_conf_has_account (text, o->name))
        {
          g_printerr ("buzonctl: %s: an account named \"%s\" exists already; choose another "
                      "name with --name\n",
                      o->config_path, o->name);
          return BZ_CTL_EXIT_USAGE;
        }
      /* a file buzond cannot read is fixed first, before any password is
       * asked for */
      config = bz_config_load (o->config_path, &error);
      if (config == NULL)
        {
          g_printerr ("buzonctl: %s\nbuzonctl: fix the file first; nothing was written\n",
                      error->message);
          return BZ_CTL_EXIT_USAGE;
        }
    }
  server = find_server (o, o->security != NULL, security, &exit_code);
  if (server == NULL)
    return exit_code;
  if (server->security == BZ_SECURITY_NONE && !bz_host_is_loopback (server->host))
    {
      g_printerr ("buzonctl: %s port %u has no encryption; buzon does not send a password "
                  "or mail across the network in the clear, so the account was not added "
                  "(see allow-plaintext in accounts.conf(5))\n",
                  server->host, server->port);
      return BZ_CTL_EXIT_FAILED;
    }
  if (server->oauth2 != NULL)
    {
      /* the sign-in happens in the browser: `buzonctl authorize` */
      g_autofree char *now = NULL;

      exit_code = write_account (o, server);
      if (g_file_get_contents (o->config_path, &now, NULL, NULL) &&
          bz_setup_conf_has_account (now, o->name))
        g_print ("%s signs in with OAuth2 (%s); to finish, run: buzonctl authorize %s\n",
                 server->host, server->oauth2, o->name);
      return exit_code;
    }
  password = check_server (server);
  if (password == NULL)
    return BZ_CTL_EXIT_FAILED;
  account = account_for (o, server);
  if (!store_password (account, password))
    {
      bz_secrets_password_free (password);
      return BZ_CTL_EXIT_FAILED;
    }
  bz_secrets_password_free (password);
  exit_code = write_account (o, server);
  /* no account, no password: take back what this run stored */
  if (exit_code != BZ_CTL_EXIT_OK)
    {
      g_autofree char *now = NULL;
      if (!g_file_get_contents (o->config_path, &now, NULL, NULL) ||
          !bz_setup_conf_has_account (now, o->name))
        clear_password (account);
    }
  return exit_code;
}

int
bz_ctl_add (int argc, char **argv)
{
  AddOptions o = { 0 };
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &o.name,
      "Account name (default: made from EMAIL, e.g. alice-example.com)", "NAME" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &o.host, "POP3 server; skips discovery", "HOST" },
    { "port", 0, 0, G_OPTION_ARG_INT, &o.port, "Port (default 995 for tls, 110 otherwise)",
      "PORT" },
    { "security", 0, 0, G_OPTION_ARG_STRING, &o.security, "tls, starttls or none", "S" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &o.user,
      "Login name (default: what discovery found, "
      "else EMAIL)",
      "USER" },
    { "keep", 0, 0, G_OPTION_ARG_STRING, &o.keep, "forever, delete or days:N", "K" },
    { "autoconfig-url", 0, 0, G_OPTION_ARG_STRING, &o.autoconfig_url,
      "Read the autoconfig file from URL (https://, or http:// on loopback)", "URL" },
    { "no-discover", 0, 0, G_OPTION_ARG_NONE, &o.no_discover,
      "Do not look for the server; --host is then needed", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config_path,
      "Edit FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf", "FILE" },
    { NULL }
  };
  int exit_code;

  if (!bz_ctl_parse ("add", "EMAIL",
                     "Set up a POP3 account from an e-mail address: find its server "
                     "(autoconfig, DNS SRV records, known providers), check it and the "
                     "password, store the password in the keyring, add the account to "
                     "accounts.conf and tell buzond.",
                     entries, &argc, &argv))
    {
      exit_code = BZ_CTL_EXIT_USAGE;
    }
  else if (argc != 2)
    {
      g_printerr ("buzonctl add: give exactly one EMAIL\n");
      exit_code = BZ_CTL_EXIT_USAGE;
    }
  else
    {
      o.address = g_strdup (argv[1]);
      exit_code = add_run (&o);
    }
  g_free (o.address);
  g_free (o.name);
  g_free (o.config_path);
  g_free (o.host);
  g_free (o.security);
  g_free (o.user);
  g_free (o.keep);
  g_free (o.autoconfig_url);
  return exit_code;
}
