/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl set-password ACCOUNT / forget-password ACCOUNT: straight to the
 * keyring through bz-secrets, so they work whether or not buzond runs. */
#include "config.h"

#include <glib/gi18n.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bz-config.h"
#include "bz-ctl.h"
#include "bz-secrets.h"

/* Longer than any real password; keeps the buffer on the stack, where it
 * is wiped before return. */
#define PASSWORD_MAX 1024

/* A signal while echo is off must not leave the user's terminal mute: the
 * handler needs the saved settings, hence file scope. */
static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void
restore_echo_handler (int signum)
{
  if (echo_off)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  signal (signum, SIG_DFL);
  raise (signum);
}

/* Reads one line from stdin into @buf without its line end. Returns the
 * length, or -1 with @error set. */
static gssize
read_line (char *buf, gsize size, GError **error)
{
  gsize len = 0;

  for (;;)
    {
      char c;
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _ ("cannot read the password: %s"), g_strerror (saved));
          return -1;
        }
      if (n == 0 || c == '\n')
        break;
      if (len + 1 >= size)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _ ("the password is longer than %d bytes"), PASSWORD_MAX - 1);
          return -1;
        }
      buf[len++] = c;
    }
  if (len > 0 && buf[len - 1] == '\r')
    len--;
  buf[len] = '\0';
  return (gssize) len;
}

/* Prompts on stderr and reads with echo off. */
static gssize
read_line_tty (const char *prompt, char *buf, gsize size, GError **error)
{
  struct termios quiet;
  struct sigaction action = { 0 }, old_int, old_term, old_hup;
  gssize len;

  if (tcgetattr (STDIN_FILENO, &saved_termios) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _ ("cannot read the terminal settings: %s"), g_strerror (saved));
      return -1;
    }
  action.sa_handler = restore_echo_handler;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, &old_int);
  sigaction (SIGTERM, &action, &old_term);
  sigaction (SIGHUP, &action, &old_hup);

  quiet = saved_termios;
  quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHOE | ECHOK | ECHONL);
  echo_off = 1;
  /* echo goes off before the prompt: what is typed after it is never shown */
  if (tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
    {
      int saved = errno;
      echo_off = 0;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("cannot turn off echo: %s"),
                   g_strerror (saved));
      len = -1;
    }
  else
    {
      fputs (prompt, stderr);
      fflush (stderr);
      len = read_line (buf, size, error);
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
      echo_off = 0;
      fputc ('\n', stderr);
    }
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  sigaction (SIGHUP, &old_hup, NULL);
  return len;
}

gssize
bz_ctl_password_read (const char *prompt, char *buf, gsize size, GError **error)
{
  if (!isatty (STDIN_FILENO))
    return read_line (buf, size, error);
  return read_line_tty (prompt, buf, size, error);
}

BzAccount *
bz_ctl_find_config_account (const char *config_path, const char *name, BzConfig **config_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzConfig) config = bz_config_load (config_path, &error);
  BzAccount *account;

  if (config == NULL)
    {
      g_printerr ("buzonctl: %s\n", error->message);
      return NULL;
    }
  account = bz_config_find_account (config, name);
  if (account != NULL)
    {
      if (config_out != NULL)
        *config_out = g_steal_pointer (&config);
      return bz_account_ref (account);
    }
  if (bz_config_account_has_errors (config, name))
    {
      GPtrArray *errors = bz_config_get_errors (config);

      for (guint i = 0; i < errors->len; i++)
        {
          BzConfigAccountError *e = g_ptr_array_index (errors, i);
          if (g_strcmp0 (e->account, name) == 0)
            g_printerr ("buzonctl: %s\n", e->error->message);
        }
      return NULL;
    }
  g_printerr (_ ("buzonctl: %s: no account named \"%s\"\n"), bz_config_get_path (config), name);
  return NULL;
}

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

/* Iterates the default context until the keyring answers. libsecret
 * has its own D-Bus timeouts, and an unlock prompt may take the user as
 * long as they like, so there is no timer of ours here. */
static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* A running buzond syncs the account now: its last sync may have failed
 * for want of this password (buzond(1) "Retries and requests"). Best
 * effort and quiet: the keyring is what was asked for, and without a
 * running daemon (none is started for this) the next sync reads it. */
static void
set_password_poke_daemon (BzAccount *account)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autofree char *path = bz_account_object_path (account->name);
  g_autoptr (GVariant) reply = NULL;

  if (bus == NULL)
    return;
  reply =
      g_dbus_connection_call_sync (bus, BZ_DBUS_NAME, path, "org.buzon.Agent1.Account", "Sync",
                                   NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, NULL);
}

static int
set_password_store (BzAccount *account, const char *password)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  bz_secrets_store_async (account, password, NULL, wait_cb, &result);
  wait_for (&result);
  if (!bz_secrets_store_finish (result, &error))
    {
      g_printerr ("buzonctl: %s\n", error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  g_print (_ ("password for account %s (%s@%s) stored in the keyring\n"), account->name,
           account->user, account->host);
  set_password_poke_daemon (account);
  if (account->password_command != NULL)
    g_printerr (_ ("buzonctl: note: account %s has a password-command, which is "
                   "used instead of the keyring\n"),
                account->name);
  if (account->oauth2 != BZ_OAUTH2_NONE)
    g_printerr (_ ("buzonctl: note: account %s signs in with OAuth2 (oauth2 is set), so "
                   "this password is not used; see buzonctl authorize\n"),
                account->name);
  return BZ_CTL_EXIT_OK;
}

static gssize
set_password_read (BzAccount *account, char *password, gsize size)
{
  g_autoptr (GError) error = NULL;
  gssize len;

  if (!isatty (STDIN_FILENO))
    {
      len = read_line (password, size, &error);
    }
  else
    {
      g_autofree char *prompt = g_strdup_printf (_ ("Password for %s (%s@%s): "), account->name,
                                                 account->user, account->host);
      char again[PASSWORD_MAX];

      len = read_line_tty (prompt, password, size, &error);
      if (len > 0)
        {
          gssize len2 = read_line_tty (_ ("Retype the password: "), again, sizeof again, &error);
          if (len2 >= 0 && (len2 != len || memcmp (again, password, (gsize) len) != 0))
            {
              g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _ ("the passwords do not match; nothing was stored"));
              len = -1;
            }
          else if (len2 < 0)
            {
              len = -1;
            }
          explicit_bzero (again, sizeof again);
        }
    }
  if (len == 0)
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("the password is empty; nothing was stored"));
      len = -1;
    }
  if (len > 0 && !g_utf8_validate (password, len, NULL))
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("the password is not valid UTF-8 text; nothing was stored"));
      len = -1;
    }
  if (len < 0)
    g_printerr ("buzonctl: %s\n", error->message);
  return len;
}

int
bz_ctl_set_password (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("Find ACCOUNT in FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf"), N_ ("FILE") },
    { NULL }
  };
  g_autoptr (BzAccount) account = NULL;
  char password[PASSWORD_MAX];
  int exit_code;

  if (!bz_ctl_parse ("set-password", N_ ("ACCOUNT"),
                     N_ ("Store the password of ACCOUNT in the keyring. On a terminal it "
                         "is asked for twice without echo; otherwise the first line of "
                         "standard input is the password."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc != 2)
    {
      g_printerr (_ ("buzonctl set-password: give exactly one ACCOUNT\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  account = bz_ctl_find_config_account (config_path, argv[1], NULL);
  if (account == NULL)
    return BZ_CTL_EXIT_USAGE;
  if (set_password_read (account, password, sizeof password) < 0)
    {
      explicit_bzero (password, sizeof password);
      return BZ_CTL_EXIT_FAILED;
    }
  exit_code = set_password_store (account, password);
  explicit_bzero (password, sizeof password);
  return exit_code;
}

int
bz_ctl_forget_password (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("Find ACCOUNT in FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf"), N_ ("FILE") },
    { NULL }
  };
  g_autoptr (BzAccount) account = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  if (!bz_ctl_parse ("forget-password", N_ ("ACCOUNT"),
                     N_ ("Remove the keyring password buzon stored for ACCOUNT "
                         "(an entry left by mpop is not touched)."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc != 2)
    {
      g_printerr (_ ("buzonctl forget-password: give exactly one ACCOUNT\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  account = bz_ctl_find_config_account (config_path, argv[1], NULL);
  if (account == NULL)
    return BZ_CTL_EXIT_USAGE;
  bz_secrets_clear_async (account, NULL, wait_cb, &result);
  wait_for (&result);
  if (!bz_secrets_clear_finish (result, &error))
    {
      if (g_error_matches (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND))
        g_printerr (_ ("buzonctl: no password of account %s is stored in the keyring\n"),
                    account->name);
      else
        g_printerr ("buzonctl: %s\n", error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  g_print (_ ("password for account %s removed from the keyring\n"), account->name);
  return BZ_CTL_EXIT_OK;
}
