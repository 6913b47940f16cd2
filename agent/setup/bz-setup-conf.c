/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Editing accounts.conf as text. GKeyFile would regenerate the whole file
 * (moving comments, dropping the comments after group headers that the
 * loader accepts), so groups are added and taken out line by line and
 * everything else stays byte for byte. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bz-setup.h"

typedef struct
{
  const char *p;
  gsize len; /* with its line end */
} Line;

static GArray *
split_lines (const char *text)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (Line));
  const char *p = text;

  while (*p != '\0')
    {
      const char *nl = strchr (p, '\n');
      Line line = { p, nl != NULL ? (gsize) (nl - p) + 1 : strlen (p) };

      g_array_append_val (lines, line);
      p += line.len;
    }
  return lines;
}

static gboolean
line_is_blank (const Line *line)
{
  for (gsize i = 0; i < line->len; i++)
    {
      if (!g_ascii_isspace (line->p[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
line_is_comment (const Line *line)
{
  gsize i = 0;

  while (i < line->len && g_ascii_isspace (line->p[i]))
    i++;
  return i < line->len && line->p[i] == '#';
}

/* The group name of a header line ("[account work]   # x" -> "account
 * work"), or NULL when @line is no header. New string. */
static char *
line_group (const Line *line)
{
  gsize i = 0;
  const char *close;

  while (i < line->len && (line->p[i] == ' ' || line->p[i] == '\t'))
    i++;
  if (i >= line->len || line->p[i] != '[')
    return NULL;
  close = memchr (line->p + i, ']', line->len - i);
  if (close == NULL)
    return NULL;
  return g_strndup (line->p + i + 1, (gsize) (close - line->p) - i - 1);
}

static gboolean
line_is_account (const Line *line, const char *name)
{
  g_autofree char *group = line_group (line);

  return group != NULL && g_str_has_prefix (group, "account ") &&
         strcmp (group + strlen ("account "), name) == 0;
}

gboolean
bz_setup_conf_has_account (const char *text, const char *name)
{
  g_autoptr (GArray) lines = split_lines (text);

  for (guint i = 0; i < lines->len; i++)
    {
      if (line_is_account (&g_array_index (lines, Line, i), name))
        return TRUE;
    }
  return FALSE;
}

/* A value the loader reads back exactly as written: no control
 * characters, no blank at either end, no " #" (the start of a comment). */
static gboolean
value_is_safe (const char *value)
{
  gsize len = strlen (value);

  if (len == 0 || g_ascii_isspace (value[0]) || g_ascii_isspace (value[len - 1]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if ((guchar) value[i] < 0x20 || value[i] == 0x7f)
        return FALSE;
      if (value[i] == '#' && i > 0 && (value[i - 1] == ' ' || value[i - 1] == '\t'))
        return FALSE;
    }
  return g_utf8_validate (value, (gssize) len, NULL);
}

char *
bz_setup_conf_add_account (const char *text, const char *name, const char *const *keys_values,
                           GError **error)
{
  const char *nl = strstr (text, "\r\n") != NULL ? "\r\n" : "\n";
  g_autoptr (GString) out = g_string_new (text);
  g_autoptr (GArray) lines = split_lines (text);

  for (guint i = 0; keys_values[i] != NULL; i += 2)
    {
      if (keys_values[i + 1] == NULL || !value_is_safe (keys_values[i + 1]))
        {
          g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF,
                       "%s = \"%s\" cannot be written to accounts.conf (control "
                       "characters, blanks at an end, or \" #\")",
                       keys_values[i], keys_values[i + 1] != NULL ? keys_values[i + 1] : "");
          return NULL;
        }
    }
  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append (out, nl);
  /* always one blank line, even after blank lines: remove takes exactly
   * one away, so add then remove gives the file back as it was */
  if (lines->len > 0)
    g_string_append (out, nl);
  g_string_append_printf (out, "[account %s]%s", name, nl);
  for (guint i = 0; keys_values[i] != NULL; i += 2)
    g_string_append_printf (out, "%s = %s%s", keys_values[i], keys_values[i + 1], nl);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Takes one [account NAME] group out of @lines; FALSE when there is none. */
static gboolean
remove_one (GArray *lines, const char *name)
{
  guint n = lines->len, h, next, back, s, e, k;
  gboolean comment = FALSE;

  for (h = 0; h < n; h++)
    {
      if (line_is_account (&g_array_index (lines, Line, h), name))
        break;
    }
  if (h == n)
    return FALSE;
  for (next = h + 1; next < n; next++)
    {
      g_autofree char *group = line_group (&g_array_index (lines, Line, next));
      if (group != NULL)
        break;
    }
  /* comments and blank lines just above the next header introduce it */
  for (back = next; back > h + 1; back--)
    {
      const Line *line = &g_array_index (lines, Line, back - 1);
      if (line_is_comment (line))
        comment = TRUE;
      else if (!line_is_blank (line))
        break;
    }
  /* a comment block right above the header, set off by a blank line,
   * describes this group and goes with it; one at the top of the file
   * describes the file and stays */
  s = h;
  for (k = h; k > 0 && line_is_comment (&g_array_index (lines, Line, k - 1)); k--)
    ;
  if (k < h && k > 0 && line_is_blank (&g_array_index (lines, Line, k - 1)))
    s = k;
  if (s > 0 && line_is_blank (&g_array_index (lines, Line, s - 1)))
    s--;
  /* Only blank lines: keep them between two groups, drop them at either
   * end of the file. Comments are never dropped. */
  if (comment || (next < n && s > 0))
    e = back;
  else
    e = next;
  g_array_remove_range (lines, s, e - s);
  return TRUE;
}

char *
bz_setup_conf_remove_account (const char *text, const char *name, GError **error)
{
  g_autoptr (GArray) lines = split_lines (text);
  GString *out;

  if (!remove_one (lines, name))
    {
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_CONF, "no [account %s] group", name);
      return NULL;
    }
  /* a group written twice is one account to the user */
  while (remove_one (lines, name))
    ;
  out = g_string_new (NULL);
  for (guint i = 0; i < lines->len; i++)
    {
      const Line *line = &g_array_index (lines, Line, i);
      g_string_append_len (out, line->p, (gssize) line->len);
    }
  return g_string_free (out, FALSE);
}

static gboolean
set_errno_error (GError **error, int saved, const char *what, const char *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
write_all (int fd, const char *data, gsize len, const char *path, GError **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_errno_error (error, errno, "cannot write", path);
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
bz_setup_conf_replace (const char *path, const char *text, BzSetupConfCheck check,
                       gpointer user_data, GError **error)
{
  g_autofree char *real = realpath (path, NULL);
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  struct stat st;
  mode_t mode = 0600;
  int fd, dir_fd;

  /* a symlinked config (dotfile managers) is edited where it really is */
  if (real == NULL)
    real = g_strdup (path);
  dir = g_path_get_dirname (real);
  base = g_path_get_basename (real);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    return set_errno_error (error, errno, "cannot create the folder", dir);
  if (stat (real, &st) == 0)
    mode = st.st_mode & 07777;
  tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_errno_error (error, errno, "cannot create a file in", dir);
  if (fchmod (fd, mode) != 0 || !write_all (fd, text, strlen (text), tmp, error) || fsync (fd) != 0)
    {
      int saved = errno;
      close (fd);
      g_unlink (tmp);
      if (error != NULL && *error != NULL)
        return FALSE;
      return set_errno_error (error, saved, "cannot write", tmp);
    }
  if (close (fd) != 0)
    {
      int saved = errno;
      g_unlink (tmp);
      return set_errno_error (error, saved, "cannot write", tmp);
    }
  if (check != NULL && !check (tmp, user_data, error))
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (rename (tmp, real) != 0)
    {
      int saved = errno;
      g_unlink (tmp);
      return set_errno_error (error, saved, "cannot replace", real);
    }
  /* the rename is durable only once the folder is */
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || fsync (dir_fd) != 0)
    {
      int saved = errno;
      if (dir_fd >= 0)
        close (dir_fd);
      return set_errno_error (error, saved, "cannot flush the folder", dir);
    }
  close (dir_fd);
  return TRUE;
}
