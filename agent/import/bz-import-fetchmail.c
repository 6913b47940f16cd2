/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fetchmail's .fetchids: one line "<remotename>@<queryname> <uid>" per
 * message seen, for every account of every server in one file; no times.
 * A UIDL has no space (RFC 1939) but a user name may, and may hold '@':
 * the UIDL is after the last space, the server after the last '@' before
 * it. */
#include "config.h"

#include <string.h>

#include "bz-import-private.h"

static gint
find_owner (GArray *owners, const char *user, const char *host)
{
  for (guint i = 0; i < owners->len; i++)
    {
      const BzImportOwner *o = &g_array_index (owners, BzImportOwner, i);
      if (strcmp (o->user, user) == 0 && bz_import_host_equal (o->host, host))
        return (gint) i;
    }
  return -1;
}

/* Fills @owners with each user@server of the file and, when @want >= 0,
 * adds the entries of that one. */
static gboolean
walk (BzImportLines *lines, GArray *owners, gint want, BzImportState *state, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *line;
  gsize len;

  while (bz_import_lines_next (lines, &line, &len, &local_error))
    {
      g_autofree char *text = NULL;
      char *space, *at;
      gint owner;

      if (len == 0)
        continue;
      text = g_strndup (line, len);
      space = strrchr (text, ' ');
      if (space == NULL || space == text)
        return bz_import_lines_fail (lines, error,
                                     "not \"<user>@<server> <uid>\": not a fetchmail "
                                     ".fetchids file; nothing was imported");
      *space = '\0';
      at = strrchr (text, '@');
      if (at == NULL || at == text || at[1] == '\0')
        return bz_import_lines_fail (lines, error,
                                     "no \"<user>@<server>\" before the UID; nothing was "
                                     "imported");
      *at = '\0';
      if (!bz_import_uidl_is_valid (space + 1, strlen (space + 1)))
        return bz_import_lines_fail (lines, error, "not a UIDL; nothing was imported");
      owner = find_owner (owners, text, at + 1);
      if (owner < 0)
        {
          BzImportOwner o = { g_strdup (at + 1), g_strdup (text) };
          g_array_append_val (owners, o);
          owner = (gint) owners->len - 1;
        }
      if (want >= 0 && owner == want)
        bz_import_state_add (state, space + 1, strlen (space + 1), 0);
      else if (want >= 0)
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
bz_import_read_fetchmail (BzImportLines *lines, const BzImportTarget *target, gboolean force,
                          BzImportState *state, GError **error)
{
  g_autoptr (GArray) owners = g_array_new (FALSE, TRUE, sizeof (BzImportOwner));
  BzImportLines again = *lines;
  gint want;

  g_array_set_clear_func (owners, bz_import_owner_clear);
  if (!walk (lines, owners, -1, state, error))
    return FALSE;
  /* an empty file (fetchmail saw nothing yet) imports nothing */
  if (owners->len == 0)
    return TRUE;
  want = bz_import_pick_owner (lines->path, owners, target, force, error);
  if (want < 0)
    return FALSE;
  /* the second pass numbers owners the same way */
  g_array_set_size (owners, 0);
  return walk (&again, owners, want, state, error);
}
