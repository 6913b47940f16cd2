/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "bz-pop3-session-private.h"
#include "bz-pop3-test-commands.h"

/* Sends @line and expects +OK; a -ERR becomes an error named @what. */
static BzPop3Cmd *
simple (BzPop3Session *self, const char *line, BzPop3Error fallback, const char *what,
        GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd =
      bz_pop3_session_call (self, BZ_POP3_CMD_SIMPLE, line, cancellable, error);

  if (cmd == NULL)
    return NULL;
  if (!cmd->ok)
    {
      bz_pop3_session_set_server_error (self, cmd, fallback, what, error);
      return NULL;
    }
  return g_steal_pointer (&cmd);
}

/* The @count numbers at the start of @text (after +OK), into @out. */
static gboolean
numbers (BzPop3Session *self, const char *text, guint count, guint64 *out, GError **error)
{
  g_auto (GStrv) words = g_strsplit (text != NULL ? text : "", " ", -1);

  if (g_strv_length (words) < count)
    goto bad;
  for (guint i = 0; i < count; i++)
    if (!g_ascii_string_to_unsigned (words[i], 10, 0, G_MAXUINT64, &out[i], NULL))
      goto bad;
  return TRUE;

bad:
  g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "%s: unexpected answer \"%.40s\"",
               self->host, text != NULL ? text : "");
  return FALSE;
}

gboolean
bz_pop3_test_stat (BzPop3Session *self, guint *count, guint64 *octets, GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (BzPop3Cmd) cmd =
      simple (self, "STAT", BZ_POP3_ERROR_SERVER, "STAT failed", cancellable, error);
  guint64 n[2];

  if (cmd == NULL || !numbers (self, cmd->text, 2, n, error))
    return FALSE;
  if (count != NULL)
    *count = (guint) n[0];
  if (octets != NULL)
    *octets = n[1];
  return TRUE;
}

gboolean
bz_pop3_test_list_one (BzPop3Session *self, guint msgno, guint64 *size, GCancellable *cancellable,
                       GError **error)
{
  g_autofree char *line = g_strdup_printf ("LIST %u", msgno);
  g_autoptr (BzPop3Cmd) cmd =
      simple (self, line, BZ_POP3_ERROR_SERVER, "LIST failed", cancellable, error);
  guint64 n[2];

  if (cmd == NULL || !numbers (self, cmd->text, 2, n, error))
    return FALSE;
  if (n[0] != msgno)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                   "%s: LIST %u answered for message %" G_GUINT64_FORMAT, self->host, msgno, n[0]);
      return FALSE;
    }
  if (size != NULL)
    *size = n[1];
  return TRUE;
}

char *
bz_pop3_test_uidl_one (BzPop3Session *self, guint msgno, GCancellable *cancellable, GError **error)
{
  g_autofree char *line = g_strdup_printf ("UIDL %u", msgno);
  g_autoptr (BzPop3Cmd) cmd =
      bz_pop3_session_call (self, BZ_POP3_CMD_SIMPLE, line, cancellable, error);
  g_auto (GStrv) words = NULL;

  if (cmd == NULL)
    return NULL;
  /* Without a response code, -ERR is either "no such message" or "no
   * UIDL at all"; CAPA tells which. */
  if (!cmd->ok)
    {
      BzPop3Error fallback = bz_pop3_session_has_capability (self, "UIDL") ? BZ_POP3_ERROR_SERVER
                                                                           : BZ_POP3_ERROR_NO_UIDL;
      bz_pop3_session_set_server_error (self, cmd, fallback, "UIDL failed", error);
      return NULL;
    }
  words = g_strsplit (cmd->text != NULL ? cmd->text : "", " ", 3);
  if (g_strv_length (words) < 2 || words[1][0] == '\0')
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "%s: unexpected answer \"%.40s\"",
                   self->host, cmd->text != NULL ? cmd->text : "");
      return NULL;
    }
  return g_strdup (words[1]);
}

gboolean
bz_pop3_test_rset (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd =
      simple (self, "RSET", BZ_POP3_ERROR_SERVER, "RSET failed", cancellable, error);

  return cmd != NULL;
}

gboolean
bz_pop3_test_noop (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd =
      simple (self, "NOOP", BZ_POP3_ERROR_SERVER, "NOOP failed", cancellable, error);

  return cmd != NULL;
}
