/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the readers share: reading the file whole, checked lines, the
 * host/user check, and the default locations of getmail, fetchmail and
 * Thunderbird state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bz-import-private.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - import - error - quark, bz_import_error)
/* clang-format on */

/* A state file of a million messages is about 30 MB; anything far larger
 * is not one. */
#define MAX_FILE_SIZE (256 * 1024 * 1024)

static const char *format_names[] = {
  [BZ_IMPORT_MPOP] = "mpop",
  [BZ_IMPORT_GETMAIL] = "getmail",
  [BZ_IMPORT_FETCHMAIL] = "fetchmail",
  [BZ_IMPORT_THUNDERBIRD] = "thunderbird",
};

gboolean
bz_import_format_from_string (const char *name, BzImportFormat *format)
{
  for (guint i = 0; i < G_N_ELEMENTS (format_names); i++)
    {
      if (g_strcmp0 (name, format_names[i]) == 0)
        {
          *format = (BzImportFormat) i;
          return TRUE;
        }
    }
  return FALSE;
}

const char *
bz_import_format_to_string (BzImportFormat format)
{
  g_return_val_if_fail (format < G_N_ELEMENTS (format_names), NULL);
  return format_names[format];
}

void
bz_import_state_free (BzImportState *state)
{
  if (state == NULL)
    return;
  g_free (state->path);
  g_array_unref (state->entries);
  g_string_chunk_free (state->strings);
  g_clear_pointer (&state->seen, g_hash_table_unref);
  g_free (state);
}

void
bz_import_state_add (BzImportState *state, const char *uidl, gsize len, gint64 when)
{
  BzImportEntry entry;
  g_autofree char *key = g_strndup (uidl, len);

  if (g_hash_table_contains (state->seen, key))
    return;
  entry.uidl = g_string_chunk_insert_len (state->strings, uidl, (gssize) len);
  entry.seen = when;
  g_array_append_val (state->entries, entry);
  g_hash_table_add (state->seen, g_steal_pointer (&key));
}

gboolean
bz_import_lines_fail (BzImportLines *lines, GError **error, const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *shown = bz_import_display_path (lines->path);
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (lines->lineno == 0)
    g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_FORMAT, "%s is empty: %s", shown, what);
  else
    g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_FORMAT, "%s line %u: %s", shown,
                 lines->lineno, what);
  return FALSE;
}

gboolean
bz_import_lines_next (BzImportLines *lines, const char **line, gsize *line_len, GError **error)
{
  const char *start, *end;
  gsize len;
  guint nuls = 0;

  if (lines->pos >= lines->len)
    return FALSE;
  lines->lineno++;
  start = lines->data + lines->pos;
  end = memchr (start, '\n', lines->len - lines->pos);
  if (end == NULL)
    return bz_import_lines_fail (lines, error,
                                 "the file ends in the middle of a line (truncated?); "
                                 "nothing was imported");
  len = (gsize) (end - start);
  lines->pos += len + 1;
  if (len > 0 && start[len - 1] == '\r')
    len--;
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) start[i];

      if (c == '\0' && lines->nul_separator && nuls++ == 0)
        continue;
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return bz_import_lines_fail (lines, error,
                                     "binary data (byte 0x%02x at column %" G_GSIZE_FORMAT
                                     "): not a state file; nothing was imported",
                                     c, i + 1);
    }
  *line = start;
  *line_len = len;
  return TRUE;
}

gboolean
bz_import_uidl_is_valid (const char *uidl, gsize len)
{
  if (len == 0 || len > 512)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) uidl[i];
      if (c <= 0x20 || c == 0x7f)
        return FALSE;
    }
  return TRUE;
}

gboolean
bz_import_parse_time (const char *text, gsize len, gint64 *out)
{
  gint64 value = 0;

  if (len == 0 || len > 18)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (text[i] - '0');
    }
  *out = value;
  return TRUE;
}

gboolean
bz_import_host_equal (const char *a, const char *b)
{
  return g_ascii_strcasecmp (a, b) == 0;
}

void
bz_import_owner_clear (gpointer owner)
{
  BzImportOwner *o = owner;

  g_clear_pointer (&o->host, g_free);
  g_clear_pointer (&o->user, g_free);
}

gint
bz_import_pick_owner (const char *path, GArray *owners, const BzImportTarget *target,
                      gboolean force, GError **error)
{
  g_autoptr (GString) found = g_string_new (NULL);
  g_autofree char *shown = bz_import_display_path (path);

  for (guint i = 0; i < owners->len; i++)
    {
      const BzImportOwner *o = &g_array_index (owners, BzImportOwner, i);
      if (bz_import_host_equal (o->host, target->host) && g_strcmp0 (o->user, target->user) == 0)
        return (gint) i;
    }
  if (force && owners->len == 1)
    return 0;
  for (guint i = 0; i < owners->len && i < 5; i++)
    {
      const BzImportOwner *o = &g_array_index (owners, BzImportOwner, i);
      g_string_append_printf (found, "%suser %s on %s", i > 0 ? ", " : "", o->user, o->host);
    }
  if (owners->len > 5)
    g_string_append_printf (found, " and %u more", owners->len - 5);
  if (owners->len == 0)
    g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_MISMATCH,
                 "%s holds no messages of any user; the account is user %s on %s", shown,
                 target->user, target->host);
  else
    g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_MISMATCH,
                 "%s is the state of %s, but the account is user %s on %s%s", shown, found->str,
                 target->user, target->host,
                 owners->len == 1 ? " (--force imports it anyway)" : "");
  return -1;
}

char *
bz_import_display_path (const char *path)
{
  const char *home = g_get_home_dir ();
  gsize n = strlen (home);

  if (n > 1 && strncmp (path, home, n) == 0 && path[n] == '/')
    return g_strconcat ("~", path + n, NULL);
  return g_strdup (path);
}

BzImportState *
bz_import_read (BzImportFormat format, const char *path, const BzImportTarget *target,
                gboolean force, GError **error)
{
  g_autoptr (BzImportState) state = g_new0 (BzImportState, 1);
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *shown = bz_import_display_path (path);
  BzImportLines lines = { 0 };
  gboolean ok = FALSE;
  int fd;

  g_return_val_if_fail (format < G_N_ELEMENTS (format_names), NULL);

  state->format = format;
  state->path = g_strdup (path);
  state->entries = g_array_new (FALSE, FALSE, sizeof (BzImportEntry));
  state->strings = g_string_chunk_new (64 * 1024);
  state->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_READ, "cannot read %s: a folder", shown);
      return NULL;
    }
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_READ, "cannot read %s: %s", shown,
                   g_strerror (saved));
      return NULL;
    }
  file = g_mapped_file_new_from_fd (fd, FALSE, &local_error);
  close (fd);
  if (file == NULL)
    {
      g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_READ, "cannot read %s: %s", shown,
                   local_error->message);
      return NULL;
    }
  if (g_mapped_file_get_length (file) > MAX_FILE_SIZE)
    {
      g_set_error (error, BZ_IMPORT_ERROR, BZ_IMPORT_ERROR_FORMAT,
                   "%s is larger than %d MB: not a state file", shown,
                   MAX_FILE_SIZE / (1024 * 1024));
      return NULL;
    }
  lines.path = path;
  lines.data = g_mapped_file_get_contents (file);
  lines.len = g_mapped_file_get_length (file);
  lines.nul_separator = format == BZ_IMPORT_GETMAIL;
  switch (format)
    {
    case BZ_IMPORT_MPOP:
      ok = bz_import_read_mpop (&lines, target, force, state, error);
      break;
    case BZ_IMPORT_GETMAIL:
      ok = bz_import_read_getmail (&lines, target, force, state, error);
      break;
    case BZ_IMPORT_FETCHMAIL:
      ok = bz_import_read_fetchmail (&lines, target, force, state, error);
      break;
    case BZ_IMPORT_THUNDERBIRD:
    default:
      ok = bz_import_read_thunderbird (&lines, target, force, state, error);
      break;
    }
  if (!ok)
    return NULL;
  g_clear_pointer (&state->seen, g_hash_table_unref);
  return g_steal_pointer (&state);
}

/* $XDG_CONFIG_HOME/getmail when it exists, else ~/.getmail (getmail's
 * own choice of its folder). */
static char *
getmail_dir (void)
{
  g_autofree char *xdg = g_build_filename (g_get_user_config_dir (), "getmail", NULL);

  if (g_file_test (xdg, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&xdg);
  return g_build_filename (g_get_home_dir (), ".getmail", NULL);
}

/* getmail names the file 'oldmail-%(server)s-%(port)i-%(username)s' and
 * replaces every run of the regex class [/\:;<>|] by one '-'. In that
 * Python regex "\:" is an escaped ':', so a backslash stays as it is. */
#define GETMAIL_STRIP "/:;<>|"

char *
bz_import_getmail_file_name (const BzImportTarget *target)
{
  g_autofree char *raw =
      g_strdup_printf ("oldmail-%s-%u-%s", target->host, target->port, target->user);
  GString *out = g_string_new (NULL);

  for (const char *p = raw; *p != '\0'; p++)
    {
      if (strchr (GETMAIL_STRIP, *p) == NULL)
        g_string_append_c (out, *p);
      else if (p == raw || strchr (GETMAIL_STRIP, p[-1]) == NULL)
        g_string_append_c (out, '-');
    }
  return g_string_free (out, FALSE);
}

char *
bz_import_default_path (BzImportFormat format, const BzImportTarget *target, GError **error)
{
  switch (format)
    {
    case BZ_IMPORT_MPOP:
      return bz_import_mpop_default_path (target, error);
    case BZ_IMPORT_GETMAIL:
      {
        g_autofree char *dir = getmail_dir ();
        g_autofree char *name = bz_import_getmail_file_name (target);
        return g_build_filename (dir, name, NULL);
      }
    case BZ_IMPORT_FETCHMAIL:
      {
        const char *fmhome = g_getenv ("FETCHMAILHOME");
        if (fmhome != NULL && *fmhome != '\0')
          return g_build_filename (fmhome, ".fetchids", NULL);
        return g_build_filename (g_get_home_dir (), ".fetchids", NULL);
      }
    case BZ_IMPORT_THUNDERBIRD:
    default:
      return bz_import_thunderbird_find (target, error);
    }
}
