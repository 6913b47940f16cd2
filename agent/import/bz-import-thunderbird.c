/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Thunderbird's popstate.dat, in the local folder of a POP3 account:
 * "#" comments, a line "*<hostname> <username>" per account (deferred
 * accounts share one file), then "<status> <uidl> <unix time>" with
 * status k (kept on the server), d (to delete), b (too big: only the
 * headers were downloaded) or f (the body is still to fetch). Only k and
 * d were delivered in full, so only they are imported. */
#include "config.h"

#include <string.h>

#include "bz-import-private.h"

static gboolean
walk (BzImportLines *lines, GArray *owners, gint want, BzImportState *state, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *line;
  gsize len;

  while (bz_import_lines_next (lines, &line, &len, &local_error))
    {
      g_autofree char *text = NULL;
      g_auto (GStrv) parts = NULL;
      gint64 when = 0;
      char status;

      if (len == 0 || line[0] == '#')
        continue;
      text = g_strndup (line, len);
      if (text[0] == '*')
        {
          char *space = strchr (text, ' ');
          BzImportOwner o;

          if (space == NULL || space == text + 1 || space[1] == '\0')
            return bz_import_lines_fail (lines, error,
                                         "not \"*<server> <user>\"; nothing was imported");
          *space = '\0';
          o.host = g_strdup (text + 1);
          o.user = g_strdup (space + 1);
          g_array_append_val (owners, o);
          continue;
        }
      parts = g_strsplit (text, " ", -1);
      if (g_strv_length (parts) < 2 || g_strv_length (parts) > 3 || strlen (parts[0]) != 1 ||
          strchr ("kdbf", parts[0][0]) == NULL)
        return bz_import_lines_fail (lines, error,
                                     "not \"<k|d|b|f> <uidl> <time>\": not a Thunderbird "
                                     "popstate.dat; nothing was imported");
      if (owners->len == 0)
        return bz_import_lines_fail (lines, error,
                                     "a message before any \"*<server> <user>\" line; "
                                     "nothing was imported");
      if (!bz_import_uidl_is_valid (parts[1], strlen (parts[1])))
        return bz_import_lines_fail (lines, error, "not a UIDL; nothing was imported");
      if (parts[2] != NULL && !bz_import_parse_time (parts[2], strlen (parts[2]), &when))
        return bz_import_lines_fail (lines, error,
                                     "not a time after the UIDL; nothing was imported");
      if (want < 0)
        continue;
      status = parts[0][0];
      if ((gint) owners->len - 1 == want && (status == 'k' || status == 'd'))
        bz_import_state_add (state, parts[1], strlen (parts[1]), when);
      else
        state->n_ignored++;
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_import_read_thunderbird (BzImportLines *lines, const BzImportTarget *target, gboolean force,
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

/* The popstate.dat files of the usual Thunderbird homes (the Debian
 * package, the snap, the flatpak), one Mail/<server>/ folder deep. */
static void
collect_candidates (GPtrArray *out)
{
  const char *homes[] = {
    ".thunderbird",
    "snap/thunderbird/common/.thunderbird",
    ".var/app/org.mozilla.Thunderbird/.thunderbird",
  };

  for (guint h = 0; h < G_N_ELEMENTS (homes); h++)
    {
      g_autofree char *root = g_build_filename (g_get_home_dir (), homes[h], NULL);
      g_autoptr (GDir) profiles = g_dir_open (root, 0, NULL);
      const char *profile;

      while (profiles != NULL && (profile = g_dir_read_name (profiles)) != NULL)
        {
          g_autofree char *mail = g_build_filename (root, profile, "Mail", NULL);
          g_autoptr (GDir) servers = g_dir_open (mail, 0, NULL);
          const char *server;

          while (servers != NULL && (server = g_dir_read_name (servers)) != NULL)
            {
              g_autofree char *file = g_build_filename (mail, server, "popstate.dat", NULL);
              if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
                g_ptr_array_add (out, g_steal_pointer (&file));
            }
        }
    }
}

char *
bz_import_thunderbird_find (const BzImportTarget *target, GError **error)
{
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) matches = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *want = g_strdup_printf ("*%s %s", target->host, target->user);

  collect_candidates (candidates);
  for (guint i = 0; i < candidates->len; i++)
    {
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (candidates->pdata[i], &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint k = 0; lines[k] != NULL; k++)
        {
          g_strchomp (lines[k]);
          if (g_ascii_strcasecmp (lines[k], want) == 0)
            {
              g_ptr_array_add (matches, g_strdup (candidates->pdata[i]));
              break;
            }
        }
    }
  if (matches->len == 1)
    return g_strdup (matches->pdata[0]);
  if (matches->len == 0)
    g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_NOT_FOUND,
                 "no Thunderbird popstate.dat of user %s on %s under ~/.thunderbird; give "
                 "the file: <profile>/Mail/<server>/popstate.dat",
                 target->user, target->host);
  else
    g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_NOT_FOUND,
                 "%u Thunderbird profiles have a popstate.dat of user %s on %s (%s, ...); "
                 "give the one to import",
                 matches->len, target->user, target->host, (char *) matches->pdata[0]);
  return NULL;
}
