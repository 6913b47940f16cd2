/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mpop's UIDL file: "#" comment lines at the top, then one list per
 * account, each a header " <n> <hostname> <user>" (leading space; the
 * user is the rest of the line) and n lines "<uid>" or, since mpop
 * 1.4.23, "<uid> <unix time>". One file may hold several lists when
 * accounts share a uidls_file. */
#include "config.h"

#include <string.h>

#include "bz-import-private.h"

/* Walks the whole file; calls back nothing but fills @owners with each
 * list's header and, when @want >= 0, adds the entries of list @want. */
static gboolean
walk (BzImportLines *lines, GArray *owners, gint want, BzImportState *state, GError **error)
{
  const char *line;
  gsize len;
  guint64 remaining = 0;
  guint header_line = 0;
  gint current = -1;
  g_autoptr (GError) local_error = NULL;

  while (bz_import_lines_next (lines, &line, &len, &local_error))
    {
      if (remaining > 0)
        {
          const char *space = memchr (line, ' ', len);
          gsize uid_len = space != NULL ? (gsize) (space - line) : len;
          gint64 when = 0;

          if (len > 0 && line[0] == ' ')
            return bz_import_lines_fail (lines, error,
                                         "a new list starts, but the list of line %u still "
                                         "lacks %" G_GUINT64_FORMAT " UIDs (truncated?)",
                                         header_line, remaining);
          if (!bz_import_uidl_is_valid (line, uid_len))
            return bz_import_lines_fail (lines, error, "not a UIDL");
          if (space != NULL && !bz_import_parse_time (space + 1, len - uid_len - 1, &when))
            return bz_import_lines_fail (lines, error,
                                         "a UIDL followed by something "
                                         "other than a time");
          if (current == want)
            bz_import_state_add (state, line, uid_len, when);
          else if (want >= 0)
            state->n_ignored++;
          remaining--;
          continue;
        }
      if (len > 0 && line[0] == '#' && owners->len == 0)
        continue;
      if (len > 0 && line[0] == ' ')
        {
          g_auto (GStrv) parts = NULL;
          g_autofree char *text = g_strndup (line + 1, len - 1);
          BzImportOwner owner = { 0 };
          gint64 n = 0;

          parts = g_strsplit (text, " ", 3);
          if (g_strv_length (parts) != 3 || !bz_import_parse_time (parts[0], strlen (parts[0]), &n))
            return bz_import_lines_fail (lines, error,
                                         "not a list header \" <count> <host> <user>\"");
          owner.host = g_strdup (parts[1]);
          owner.user = g_strdup (parts[2]);
          g_array_append_val (owners, owner);
          current = (gint) owners->len - 1;
          header_line = lines->lineno;
          remaining = (guint64) n;
          continue;
        }
      return bz_import_lines_fail (lines, error,
                                   owners->len == 0
                                       ? "not an mpop UIDL file (expected \"#\" comments, "
                                         "then a header \" <count> <host> <user>\")"
                                       : "more UIDs than the list's header announces");
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (remaining > 0)
    return bz_import_lines_fail (
        lines, error,
        "the file ends, but the list of line %u still lacks %" G_GUINT64_FORMAT
        " UIDs (truncated?); nothing was imported",
        header_line, remaining);
  if (owners->len == 0)
    return bz_import_lines_fail (lines, error,
                                 "no UIDL list: not an mpop UIDL file, or truncated; "
                                 "nothing was imported");
  return TRUE;
}

gboolean
bz_import_read_mpop (BzImportLines *lines, const BzImportTarget *target, gboolean force,
                     BzImportState *state, GError **error)
{
  g_autoptr (GArray) owners = g_array_new (FALSE, TRUE, sizeof (BzImportOwner));
  BzImportLines again = *lines;
  gint want;

  g_array_set_clear_func (owners, bz_import_owner_clear);
  if (!walk (lines, owners, -1, state, error))
    return FALSE;
  want = bz_import_pick_owner (lines->path, owners, target, force, error);
  if (want < 0)
    return FALSE;
  g_array_set_size (owners, 0);
  return walk (&again, owners, want, state, error);
}

/* --- where mpop keeps the file --------------------------------------- */

/* One "account" (or "defaults") of an mpop configuration file: only the
 * keys that decide the file. */
typedef struct
{
  char *name;
  char *host;
  char *user;
  char *uidls_file;
} MpopAccount;

static void
mpop_account_free (gpointer data)
{
  MpopAccount *a = data;

  g_free (a->name);
  g_free (a->host);
  g_free (a->user);
  g_free (a->uidls_file);
  g_free (a);
}

static void
set_str (char **to, const char *value)
{
  g_free (*to);
  *to = g_strdup (value);
}

static void
mpop_account_inherit (MpopAccount *to, const MpopAccount *from)
{
  if (from->host != NULL)
    set_str (&to->host, from->host);
  if (from->user != NULL)
    set_str (&to->user, from->user);
  if (from->uidls_file != NULL)
    set_str (&to->uidls_file, from->uidls_file);
}

/* mpop's argument: the rest of the line, without surrounding blanks; a
 * double-quoted argument loses its quotes and "\"" escapes. */
static char *
mpop_argument (const char *text)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  gsize n = strlen (trimmed);
  GString *out;

  if (n < 2 || trimmed[0] != '"' || trimmed[n - 1] != '"')
    return g_steal_pointer (&trimmed);
  out = g_string_new (NULL);
  for (gsize i = 1; i + 1 < n; i++)
    {
      if (trimmed[i] == '\\' && i + 2 < n)
        i++;
      g_string_append_c (out, trimmed[i]);
    }
  return g_string_free (out, FALSE);
}

/* The accounts of @text (defaults first, then each account with what it
 * inherits), as MpopAccount*. */
static GPtrArray *
mpop_parse_config (const char *text)
{
  g_autoptr (GPtrArray) accounts = g_ptr_array_new_with_free_func (mpop_account_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  MpopAccount *defaults = g_new0 (MpopAccount, 1);
  MpopAccount *current = defaults;

  g_ptr_array_add (accounts, defaults);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      char *arg;
      g_autofree char *value = NULL;

      if (line[0] == '\0' || line[0] == '#')
        continue;
      arg = line + strcspn (line, " \t");
      if (*arg != '\0')
        *arg++ = '\0';
      value = mpop_argument (arg);
      if (strcmp (line, "defaults") == 0)
        {
          current = defaults;
        }
      else if (strcmp (line, "account") == 0)
        {
          g_auto (GStrv) parents = NULL;
          char *colon = strchr (value, ':');

          current = g_new0 (MpopAccount, 1);
          mpop_account_inherit (current, defaults);
          if (colon != NULL)
            {
              *colon = '\0';
              parents = g_strsplit (colon + 1, ",", -1);
            }
          current->name = g_strstrip (g_strdup (value));
          for (guint p = 0; parents != NULL && parents[p] != NULL; p++)
            {
              g_strstrip (parents[p]);
              for (guint k = 1; k < accounts->len; k++)
                {
                  MpopAccount *a = g_ptr_array_index (accounts, k);
                  if (g_strcmp0 (a->name, parents[p]) == 0)
                    mpop_account_inherit (current, a);
                }
            }
          g_ptr_array_add (accounts, current);
        }
      else if (strcmp (line, "host") == 0)
        set_str (&current->host, value);
      else if (strcmp (line, "user") == 0)
        set_str (&current->user, value);
      else if (strcmp (line, "uidls_file") == 0)
        set_str (&current->uidls_file, value);
    }
  return g_steal_pointer (&accounts);
}

/* mpop expands "~" and, in uidls_file, %U (user) and %H (host). */
static char *
mpop_expand (const char *pattern, const BzImportTarget *target)
{
  GString *out = g_string_new (NULL);
  const char *p = pattern;

  if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
    {
      g_string_append (out, g_get_home_dir ());
      p++;
    }
  for (; *p != '\0'; p++)
    {
      if (p[0] == '%' && p[1] == 'U')
        {
          g_string_append (out, target->user);
          p++;
        }
      else if (p[0] == '%' && p[1] == 'H')
        {
          g_string_append (out, target->host);
          p++;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
bz_import_mpop_default_path (const BzImportTarget *target, GError **error)
{
  g_autofree char *rc = g_build_filename (g_get_home_dir (), ".mpoprc", NULL);
  g_autofree char *text = NULL;
  const char *pattern = "~/.mpop_uidls/%U_at_%H";

  /* mpop reads ~/.mpoprc, or $XDG_CONFIG_HOME/mpop/config without it */
  if (!g_file_test (rc, G_FILE_TEST_EXISTS))
    {
      g_free (rc);
      rc = g_build_filename (g_get_user_config_dir (), "mpop", "config", NULL);
    }
  if (g_file_get_contents (rc, &text, NULL, NULL))
    {
      g_autoptr (GPtrArray) accounts = mpop_parse_config (text);

      for (guint i = 1; i < accounts->len; i++)
        {
          MpopAccount *a = g_ptr_array_index (accounts, i);
          if (a->host != NULL && a->user != NULL && a->uidls_file != NULL &&
              bz_import_host_equal (a->host, target->host) && strcmp (a->user, target->user) == 0)
            return mpop_expand (a->uidls_file, target);
        }
      /* no account of that host and user: the file defaults still apply */
      if (((MpopAccount *) g_ptr_array_index (accounts, 0))->uidls_file != NULL)
        return mpop_expand (((MpopAccount *) g_ptr_array_index (accounts, 0))->uidls_file, target);
    }
  return mpop_expand (pattern, target);
}
