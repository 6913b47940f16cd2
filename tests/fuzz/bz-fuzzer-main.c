/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Replays files through LLVMFuzzerTestOneInput() so that the corpus runs as
 * a plain test without clang (as fwupd's fu-fuzzer-main.c does). Arguments
 * are files or folders; each file of a folder is one input. */
#include "config.h"

#include <gio/gio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static gboolean
bz_fuzzer_replay_file (const char *path, guint *count, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  g_print ("%s: %" G_GSIZE_FORMAT " bytes\n", path, len);
  LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
  (*count)++;
  return TRUE;
}

static gboolean
bz_fuzzer_replay (const char *path, guint *count, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return bz_fuzzer_replay_file (path, count, error);
  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (!bz_fuzzer_replay_file (child, count, error))
        return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint count = 0;

  if (argc < 2)
    {
      g_printerr ("usage: %s FILE|DIR...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      if (!bz_fuzzer_replay (argv[i], &count, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  /* An empty corpus would make the test pass without testing anything. */
  if (count == 0)
    {
      g_printerr ("no input files\n");
      return 1;
    }
  g_print ("replayed %u inputs\n", count);
  return 0;
}
