/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Maildir folders and unique names, as the Maildir specification asks:
 * time, microseconds, pid, a per-process counter and the host name, so
 * that no two deliveries on one host, even at the same microsecond, ever
 * pick the same name. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bz-store-maildir.h"
#include "bz-store-private.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - store - error - quark, bz_store_error)
/* clang-format on */

gboolean
bz_store_fail_errno (GError **error, int errsv, const char *what, const char *path)
{
  BzStoreError code = BZ_STORE_ERROR_IO;

  if (errsv == ENOSPC || errsv == EDQUOT)
    code = BZ_STORE_ERROR_NO_SPACE;
  g_set_error (error, BZ_STORE_ERROR, code, "Cannot %s %s: %s", what, path, g_strerror (errsv));
  return FALSE;
}

#ifdef BZ_TEST_HOOKS
static gint dir_fsyncs;

guint
bz_store_test_count_dir_fsyncs (void)
{
  return (guint) g_atomic_int_get (&dir_fsyncs);
}
#endif

gboolean
bz_store_fsync_dir (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

#ifdef BZ_TEST_HOOKS
  g_atomic_int_inc (&dir_fsyncs);
#endif

  if (fd < 0)
    return bz_store_fail_errno (error, errno, "open folder", path);
  if (fsync (fd) != 0)
    {
      int errsv = errno;
      close (fd);
      return bz_store_fail_errno (error, errsv, "flush folder", path);
    }
  if (close (fd) != 0)
    return bz_store_fail_errno (error, errno, "close folder", path);
  return TRUE;
}

gboolean
bz_store_syncfs (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return bz_store_fail_errno (error, errno, "open folder", path);
  if (syncfs (fd) != 0)
    {
      int errsv = errno;
      close (fd);
      return bz_store_fail_errno (error, errsv, "flush the file system of", path);
    }
  close (fd);
  return TRUE;
}

gboolean
bz_store_maildir_ensure (const char *path, GError **error)
{
  const char *subdirs[] = { "tmp", "new", "cur" };

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      if (g_mkdir_with_parents (path, 0700) != 0)
        return bz_store_fail_errno (error, errno, "create Maildir", path);
    }
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (path, subdirs[i], NULL);
      if (g_mkdir (sub, 0700) != 0 && errno != EEXIST)
        return bz_store_fail_errno (error, errno, "create Maildir folder", sub);
      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        return bz_store_fail_errno (error, ENOTDIR, "use Maildir folder", sub);
    }
  /* The folders must outlast a power cut before files are renamed into
   * them: flush the Maildir and the folder holding it. Also when they
   * exist: a process killed between its mkdir() and this flush leaves
   * them in the page cache only, and nothing else flushes them (on a file
   * system without a journal). Two fsyncs of clean folders per batch. */
  {
    g_autofree char *parent = g_path_get_dirname (path);
    if (!bz_store_fsync_dir (path, error) || !bz_store_fsync_dir (parent, error))
      return FALSE;
  }
  return TRUE;
}

char *
bz_store_maildir_sanitize_host (const char *host)
{
  GString *out = g_string_new (NULL);

  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '/')
        g_string_append (out, "\\057");
      else if (*p == ':')
        g_string_append (out, "\\072");
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

const char *
bz_store_maildir_host (void)
{
  static gsize once = 0;
  static char *host = NULL;

  if (g_once_init_enter (&once))
    {
      host = bz_store_maildir_sanitize_host (g_get_host_name ());
      g_once_init_leave (&once, 1);
    }
  return host;
}

/* 0 until asked; a forked child starts over (pthread_atfork) */
static gint pid_cache;

static void
forget_pid (void)
{
  g_atomic_int_set (&pid_cache, 0);
}

int
bz_store_maildir_pid (void)
{
  static gsize once = 0;
  int pid = g_atomic_int_get (&pid_cache);

  if (G_LIKELY (pid != 0))
    return pid;
  if (g_once_init_enter (&once))
    {
      pthread_atfork (NULL, NULL, forget_pid);
      g_once_init_leave (&once, 1);
    }
  pid = (int) getpid ();
  g_atomic_int_set (&pid_cache, pid);
  return pid;
}

char *
bz_store_maildir_digest (const char *account, const char *uidl)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_return_val_if_fail (account != NULL && uidl != NULL, NULL);

  /* the NUL keeps ("ab", "c") and ("a", "bc") apart */
  g_checksum_update (sum, (const guchar *) account, (gssize) strlen (account) + 1);
  g_checksum_update (sum, (const guchar *) uidl, -1);
  return g_strndup (g_checksum_get_string (sum), BZ_STORE_DIGEST_LEN);
}

char *
bz_store_maildir_unique_name (const char *account, const char *uidl)
{
  static guint counter = 0;
  gint64 now = g_get_real_time ();
  guint q = (guint) g_atomic_int_add (&counter, 1);
  g_autofree char *digest = bz_store_maildir_digest (account, uidl);

  return g_strdup_printf ("%" G_GINT64_FORMAT ".M%06" G_GINT64_FORMAT "P%dQ%uB%s.%s",
                          now / G_USEC_PER_SEC, now % G_USEC_PER_SEC, bz_store_maildir_pid (), q,
                          digest, bz_store_maildir_host ());
}

/* "SECS.MUSECSPpidQnB<digest>.": what only buzon writes. The digest's 32
 * hex digits after "B" tell our names from other deliverers' (dovecot
 * also writes "SECS.MUSECSPpidQn.host"). */
static GRegex *
name_regex (void)
{
  static gsize once = 0;
  static GRegex *re = NULL;

  if (g_once_init_enter (&once))
    {
      re = g_regex_new ("^([0-9]+)\\.M[0-9]+P([0-9]+)Q[0-9]+B([0-9a-f]{32})\\.([^:]*)",
                        G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  return re;
}

gboolean
bz_store_maildir_parse_name (const char *name, BzStoreMaildirName *out)
{
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *secs = NULL;
  g_autofree char *pid = NULL;
  g_autofree char *digest = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  if (!g_regex_match (name_regex (), name, 0, &match))
    return FALSE;
  if (out == NULL)
    return TRUE;
  secs = g_match_info_fetch (match, 1);
  pid = g_match_info_fetch (match, 2);
  digest = g_match_info_fetch (match, 3);
  out->time = g_ascii_strtoll (secs, NULL, 10);
  out->pid = g_ascii_strtoll (pid, NULL, 10);
  memcpy (out->digest, digest, BZ_STORE_DIGEST_LEN + 1);
  out->host = g_match_info_fetch (match, 4);
  /* the host part ends where Maildir's ",S=" style fields begin */
  out->host[strcspn (out->host, ",")] = '\0';
  return TRUE;
}

void
bz_store_maildir_name_clear (BzStoreMaildirName *name)
{
  g_clear_pointer (&name->host, g_free);
}

struct _BzStoreMaildirIndex
{
  GHashTable *maildirs; /* Maildir path -> (unique name -> current path) */
};

BzStoreMaildirIndex *
bz_store_maildir_index_new (void)
{
  BzStoreMaildirIndex *index = g_new0 (BzStoreMaildirIndex, 1);

  index->maildirs =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  return index;
}

void
bz_store_maildir_index_free (BzStoreMaildirIndex *index)
{
  if (index == NULL)
    return;
  g_hash_table_unref (index->maildirs);
  g_free (index);
}

/* Unique name (the part before ":2,flags") -> current path, for new/ and
 * cur/ of @maildir; cur/ wins (a client moved it there). */
static GHashTable *
scan_maildir (const char *maildir)
{
  const char *subdirs[] = { "new", "cur" };
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (maildir, subdirs[i], NULL);
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          const char *colon = strchr (name, ':');
          char *key = colon != NULL ? g_strndup (name, colon - name) : g_strdup (name);

          g_hash_table_replace (names, key, g_build_filename (path, name, NULL));
        }
    }
  return names;
}

const char *
bz_store_maildir_index_locate (BzStoreMaildirIndex *index, const char *path)
{
  g_autofree char *dir = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *base = NULL;
  GHashTable *names;
  char *colon;

  g_return_val_if_fail (index != NULL && path != NULL, NULL);

  dir = g_path_get_dirname (path);
  maildir = g_path_get_dirname (dir);
  base = g_path_get_basename (path);
  names = g_hash_table_lookup (index->maildirs, maildir);
  if (names == NULL)
    {
      names = scan_maildir (maildir);
      g_hash_table_insert (index->maildirs, g_steal_pointer (&maildir), names);
    }
  /* a recorded path may itself carry flags (cur/BASE:2,S) */
  colon = strchr (base, ':');
  if (colon != NULL)
    *colon = '\0';
  return g_hash_table_lookup (names, base);
}
