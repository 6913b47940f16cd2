/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The account's cross-process lock, shared by the sync, start-up recovery
 * and `buzonctl import`. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bz-sync.h"

/* One sync of an account at a time across processes (the daemon and a
 * `buzond --once` may run together): recovery removes every stray tmp/
 * file, which would be the live files of a concurrent sync. The lock is
 * flock() on a file beside the database, released when the fd closes,
 * also when the process is killed. A holder that only recovers is done in
 * milliseconds, so we wait a little before calling the account busy.
 * Returns the fd, or -1 with @error. */
int
bz_sync_lock_account (const char *db_path, const char *account, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (db_path);
  g_autofree char *lock_dir = g_build_filename (dir, "locks", NULL);
  g_autofree char *name = g_strconcat (account, ".lock", NULL);
  g_autofree char *path = g_build_filename (lock_dir, name, NULL);
  gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  int fd;

  if (g_mkdir_with_parents (lock_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_FAILED, "cannot create %s: %s", lock_dir,
                   g_strerror (saved));
      return -1;
    }
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_FAILED, "cannot open %s: %s", path,
                   g_strerror (saved));
      return -1;
    }
  while (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      if (saved == EWOULDBLOCK && g_get_monotonic_time () < deadline)
        {
          g_usleep (20 * 1000);
          continue;
        }
      close (fd);
      if (saved == EWOULDBLOCK)
        g_set_error (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_BUSY,
                     "another buzon process is syncing this account right now");
      else
        g_set_error (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_FAILED, "cannot lock %s: %s", path,
                     g_strerror (saved));
      return -1;
    }
  return fd;
}
