/* SPDX-License-Identifier: GPL-3.0-or-later */
/* getmail6's oldmail file: one line "<uidl>\0<unix time>\n" per message
 * it delivered (or chose not to), the time being when it first saw it.
 * getmail writes '/' in a UIDL as '-' (it uses '/' for IMAP folders), so
 * the names are marked for the sync to match through that mapping. The
 * file holds one server, port and user: those of its name. */
#include "config.h"

#include <string.h>

#include "bz-import-private.h"

gboolean
bz_import_read_getmail (BzImportLines *lines, const BzImportTarget *target, gboolean force,
                        BzImportState *state, GError **error)
{
  g_autofree char *expected = bz_import_getmail_file_name (target);
  g_autofree char *base = g_path_get_basename (lines->path);
  g_autoptr (GError) local_error = NULL;
  const char *line;
  gsize len;

  if (strcmp (base, expected) != 0 && !force)
    {
      g_autofree char *shown = bz_import_display_path (lines->path);
      g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_MISMATCH,
                   "%s is not the getmail state of user %s on %s port %u, which getmail "
                   "names %s (--force imports it anyway)",
                   shown, target->user, target->host, target->port, expected);
      return FALSE;
    }
  state->getmail_form = TRUE;
  while (bz_import_lines_next (lines, &line, &len, &local_error))
    {
      const char *nul = memchr (line, '\0', len);
      gsize uid_len;
      gint64 when = 0;

      if (len == 0)
        continue; /* getmail skips blank lines too */
      if (nul == NULL)
        return bz_import_lines_fail (lines, error,
                                     "no NUL between UIDL and time: not a getmail oldmail "
                                     "file; nothing was imported");
      uid_len = (gsize) (nul - line);
      if (!bz_import_uidl_is_valid (line, uid_len))
        return bz_import_lines_fail (lines, error, "not a UIDL; nothing was imported");
      if (!bz_import_parse_time (nul + 1, len - uid_len - 1, &when))
        return bz_import_lines_fail (lines, error,
                                     "not a time after the UIDL; nothing was imported");
      bz_import_state_add (state, line, uid_len, when);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}
