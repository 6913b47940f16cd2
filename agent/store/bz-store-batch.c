/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The exactly-once protocol of DESIGN.md, made durable per batch instead of
 * per message: fsyncing each message as it is written costs a flush of the
 * disk's cache (and a journal commit) per message; here the commit waits
 * for all the batch's files with one syncfs() (an fdatasync() of each
 * where syncfs() hides write errors), then pays for one more flush (of
 * new/) and two database commits. Files are made unnamed (O_TMPFILE) and
 * linked into new/ where the file system allows: one directory operation
 * per message instead of two, and nothing left in tmp/ by a crash. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bz-log.h"
#include "bz-store-batch.h"
#include "bz-store-headers.h"
#include "bz-store-maildir.h"
#include "bz-store-private.h"

#define BZ_STORE_BUFFER_SIZE (64 * 1024)
#define BZ_STORE_HEADER_CAP (256 * 1024)
/* Header blocks are indexed (parsed by GMime, ~10 us each) by the commit,
 * which runs in a thread of its own during a sync, so that parsing does
 * not slow the download. Only their indexed fields wait
 * (bz_store_headers_extract()), up to this many bytes per batch; past it,
 * a block is parsed at finish, to keep memory flat. */
#define BZ_STORE_DEFERRED_HEADERS_MAX (1024 * 1024)
/* With one syncfs() per batch, the commit starts writeback by hand only
 * for files at least this big: syncfs() starts it for every dirty file at
 * once anyway, and for a small message the call (one per message) cost
 * more than it bought. */
#define BZ_STORE_EARLY_WRITEBACK_MIN (256 * 1024)

typedef struct
{
  char *uidl;
  char *tmp_path;    /* its name in tmp/, or what it would be when unnamed */
  char *new_path;    /* final path in new/, known at finish */
  guint64 size;      /* server's size */
  guint64 file_size; /* bytes written */
  BzDbHeaders *headers;
  GBytes *header_block; /* not parsed yet: then headers is NULL */
  int fd;               /* the finished file, still open for the flush; or -1 */
  gboolean unnamed;     /* O_TMPFILE, not in tmp/: fd stays open until linked */
} BzStoreItem;

struct _BzStoreBatch
{
  GObject parent_instance;
  BzDb *db;
  char *account;
  char *tmp_dir;
  int tmp_dir_fd; /* for creating files, and for syncfs() */
  char *new_dir;
  int new_dir_fd;       /* where files are linked to; or -1 */
  gboolean unnamed;     /* files are made with O_TMPFILE (DESIGN.md: allowed) */
  GPtrArray *finished;  /* BzStoreItem */
  gsize deferred_bytes; /* of the finished items' header_block */
  /* the message in progress */
  BzStoreItem *current;
  int fd;
  guint8 *buf;
  gsize buf_len;
  guint64 file_size;
  GByteArray *header;
  gboolean header_done;
  gint64 now; /* fixed clock for tests; 0 = real time */
  BzStoreFlush flush;
};

G_DEFINE_TYPE (BzStoreBatch, bz_store_batch, G_TYPE_OBJECT)

static gint64
batch_now (BzStoreBatch *self)
{
  return self->now > 0 ? self->now : g_get_real_time () / G_USEC_PER_SEC;
}

void
bz_store_batch_set_now (BzStoreBatch *self, gint64 now)
{
  g_return_if_fail (BZ_IS_STORE_BATCH (self));
  self->now = now;
}

#ifdef BZ_TEST_HOOKS
/* Fault injection for the tests, compiled in with -Dtest-hooks=true only:
 * production writes take no lock. */
static gint64 fail_writes_after = -1;
G_LOCK_DEFINE_STATIC (fail_writes);

void
bz_store_test_fail_writes_after (gint64 bytes)
{
  G_LOCK (fail_writes);
  fail_writes_after = bytes;
  G_UNLOCK (fail_writes);
}

static gboolean fail_flush;
static gboolean refuse_tmpfile;
static gboolean refuse_empty_path;

void
bz_store_test_refuse_empty_path (gboolean refuse)
{
  G_LOCK (fail_writes);
  refuse_empty_path = refuse;
  G_UNLOCK (fail_writes);
}
static gboolean fail_link_flush;

void
bz_store_test_fail_link_flush (gboolean fail)
{
  G_LOCK (fail_writes);
  fail_link_flush = fail;
  G_UNLOCK (fail_writes);
}

static gboolean
link_flush_fails (void)
{
  gboolean fail;

  G_LOCK (fail_writes);
  fail = fail_link_flush;
  G_UNLOCK (fail_writes);
  if (fail)
    errno = EIO;
  return fail;
}

void
bz_store_test_refuse_tmpfile (gboolean refuse)
{
  G_LOCK (fail_writes);
  refuse_tmpfile = refuse;
  G_UNLOCK (fail_writes);
}

void
bz_store_test_fail_flush (gboolean fail)
{
  G_LOCK (fail_writes);
  fail_flush = fail;
  G_UNLOCK (fail_writes);
}
#endif

/* syncfs() of the file system of @fd, or fdatasync() of the file @fd. */
static int
flush_fd (int fd, BzStoreFlush flush)
{
#ifdef BZ_TEST_HOOKS
  gboolean fail;

  G_LOCK (fail_writes);
  fail = fail_flush;
  G_UNLOCK (fail_writes);
  if (fail)
    {
      errno = EIO;
      return -1;
    }
#endif
  return flush == BZ_STORE_FLUSH_SYNCFS ? syncfs (fd) : fdatasync (fd);
}

BzStoreFlush
bz_store_flush_for_release (const char *release)
{
  guint64 major = 0, minor = 0;
  char *end = NULL;

  g_return_val_if_fail (release != NULL, BZ_STORE_FLUSH_FDATASYNC);

  if (!g_ascii_isdigit (release[0]))
    return BZ_STORE_FLUSH_FDATASYNC;
  major = g_ascii_strtoull (release, &end, 10);
  if (end == NULL || *end != '.' || !g_ascii_isdigit (end[1]))
    return BZ_STORE_FLUSH_FDATASYNC;
  minor = g_ascii_strtoull (end + 1, NULL, 10);
  if (major > 5 || (major == 5 && minor >= 8))
    return BZ_STORE_FLUSH_SYNCFS;
  return BZ_STORE_FLUSH_FDATASYNC;
}

BzStoreFlush
bz_store_flush_default (void)
{
  static gsize once = 0;
  static BzStoreFlush flush = BZ_STORE_FLUSH_FDATASYNC;

  if (g_once_init_enter (&once))
    {
      struct utsname uts;

      if (uname (&uts) == 0 && g_str_equal (uts.sysname, "Linux"))
        flush = bz_store_flush_for_release (uts.release);
      g_debug ("kernel %s %s: durability by %s", uts.sysname, uts.release,
               flush == BZ_STORE_FLUSH_SYNCFS ? "one syncfs() per batch"
                                              : "fdatasync() of each message");
      g_once_init_leave (&once, 1);
    }
  return flush;
}

void
bz_store_batch_set_flush (BzStoreBatch *self, BzStoreFlush flush)
{
  g_return_if_fail (BZ_IS_STORE_BATCH (self));
  self->flush = flush;
}

gssize
bz_store_write (int fd, const void *data, gsize len)
{
#ifdef BZ_TEST_HOOKS
  gboolean fail = FALSE;

  G_LOCK (fail_writes);
  if (fail_writes_after >= 0)
    {
      if ((gint64) len > fail_writes_after)
        {
          fail = TRUE;
          fail_writes_after = 0;
        }
      else
        {
          fail_writes_after -= (gint64) len;
        }
    }
  G_UNLOCK (fail_writes);
  if (fail)
    {
      errno = ENOSPC;
      return -1;
    }
#endif
  return write (fd, data, len);
}

/* Finished files stay open until the commit flushes (and links) them, so
 * that the flush needs no second open() per file, and an unnamed file
 * lives at all. The sync fills one batch while it commits another, and
 * max-parallel accounts sync at once: the descriptors kept so are counted
 * for the whole process, against a budget of half of what RLIMIT_NOFILE
 * leaves (buzond raises it to the hard limit at start). Past it, a file
 * is closed at finish (an unnamed one gets its name in tmp/ first) and
 * the commit opens it again if it must. */
static gint kept_open;
#ifdef BZ_TEST_HOOKS
static gint test_budget;

void
bz_store_test_set_open_budget (guint budget)
{
  g_atomic_int_set (&test_budget, (gint) budget);
}
#endif

static gint
kept_budget (void)
{
  static gsize once = 0;
  static gint budget = 0;

  if (g_once_init_enter (&once))
    {
      struct rlimit limit;
      guint64 soft = 1024;

      if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
        soft = limit.rlim_cur == RLIM_INFINITY ? G_MAXINT : (guint64) limit.rlim_cur;
      budget = (gint) CLAMP (soft > 256 ? (soft - 128) / 2 : soft / 4, 16, 1 << 20);
      g_once_init_leave (&once, 1);
    }
#ifdef BZ_TEST_HOOKS
  if (g_atomic_int_get (&test_budget) > 0)
    return g_atomic_int_get (&test_budget);
#endif
  return budget;
}

/* TRUE when one more finished file may stay open (then it is counted). */
static gboolean
reserve_kept (void)
{
  gint budget = kept_budget ();
  gint n = g_atomic_int_get (&kept_open);

  while (n < budget)
    {
      if (g_atomic_int_compare_and_exchange_full (&kept_open, n, n + 1, &n))
        return TRUE;
    }
  return FALSE;
}

/* Closes the kept descriptor of @item; close()'s result. */
static int
close_kept (BzStoreItem *item)
{
  int fd = item->fd;

  item->fd = -1;
  g_atomic_int_add (&kept_open, -1);
  return close (fd);
}

static void
item_free (BzStoreItem *item)
{
  if (item->fd >= 0)
    close_kept (item);
  g_free (item->uidl);
  g_free (item->tmp_path);
  g_free (item->new_path);
  bz_db_headers_free (item->headers);
  g_clear_pointer (&item->header_block, g_bytes_unref);
  g_free (item);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzStoreItem, item_free)

/* Removes a tmp file we are abandoning; a failure is only logged, the
 * next recovery removes what is left. An unnamed file has nothing to
 * remove: it goes when its descriptor is closed (item_free()). */
static void
unlink_tmp (BzStoreItem *item)
{
  if (item->unnamed)
    return;
  if (g_unlink (item->tmp_path) != 0 && errno != ENOENT)
    bz_log_account (G_LOG_LEVEL_WARNING, NULL, "Cannot remove %s: %s", item->tmp_path,
                    g_strerror (errno));
}

/* Gives the unnamed file open as @fd the name @name in the folder
 * @dir_fd. linkat() with AT_EMPTY_PATH needs no /proc walk (which made
 * its dentries and inodes for every message), but before Linux 6.10 only
 * CAP_DAC_READ_SEARCH may use it (ENOENT otherwise); the descriptor's
 * link in /proc works for anyone. */
static int
link_unnamed (int fd, int dir_fd, const char *name)
{
  static gint empty_path_refused = FALSE;
  char proc_path[64];
  gboolean try_empty_path = !g_atomic_int_get (&empty_path_refused);

#ifdef BZ_TEST_HOOKS
  G_LOCK (fail_writes);
  try_empty_path = try_empty_path && !refuse_empty_path;
  G_UNLOCK (fail_writes);
#endif
  if (try_empty_path)
    {
      if (linkat (fd, "", dir_fd, name, AT_EMPTY_PATH) == 0)
        return 0;
      if (errno != ENOENT)
        return -1;
      g_atomic_int_set (&empty_path_refused, TRUE);
    }
  g_snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  return linkat (AT_FDCWD, proc_path, dir_fd, name, AT_SYMLINK_FOLLOW);
}

/* Whether this process can link an unnamed file (/proc is mounted). */
static gboolean
can_link_unnamed (void)
{
  static gsize once = 0;
  static gboolean ok = FALSE;

  if (g_once_init_enter (&once))
    {
      ok = access ("/proc/self/fd", X_OK) == 0;
      g_once_init_leave (&once, 1);
    }
  return ok;
}

void
bz_store_batch_take_finished (BzStoreBatch *self, BzStoreBatch *from)
{
  g_return_if_fail (BZ_IS_STORE_BATCH (self) && BZ_IS_STORE_BATCH (from));
  g_return_if_fail (self->finished->len == 0);

  g_ptr_array_extend_and_steal (self->finished, g_steal_pointer (&from->finished));
  from->finished = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  self->deferred_bytes = from->deferred_bytes;
  from->deferred_bytes = 0;
}

BzStoreBatch *
bz_store_batch_new (BzDb *db, const char *account, const char *maildir, GError **error)
{
  g_autoptr (BzStoreBatch) self = NULL;

  g_return_val_if_fail (BZ_IS_DB (db), NULL);
  g_return_val_if_fail (account != NULL && maildir != NULL, NULL);

  if (!bz_store_maildir_ensure (maildir, error))
    return NULL;
  self = g_object_new (BZ_TYPE_STORE_BATCH, NULL);
  self->db = g_object_ref (db);
  self->account = g_strdup (account);
  self->tmp_dir = g_build_filename (maildir, "tmp", NULL);
  self->new_dir = g_build_filename (maildir, "new", NULL);
  /* Opened before any of the batch's files: syncfs() on it reports every
   * write error since. */
  self->tmp_dir_fd = open (self->tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->tmp_dir_fd < 0)
    {
      bz_store_fail_errno (error, errno, "open folder", self->tmp_dir);
      return NULL;
    }
  self->new_dir_fd = open (self->new_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->new_dir_fd < 0)
    {
      bz_store_fail_errno (error, errno, "open folder", self->new_dir);
      return NULL;
    }
  self->unnamed = can_link_unnamed ();
  return g_steal_pointer (&self);
}

guint
bz_store_batch_get_n_finished (BzStoreBatch *self)
{
  g_return_val_if_fail (BZ_IS_STORE_BATCH (self), 0);
  return self->finished->len;
}

void
bz_store_batch_abort (BzStoreBatch *self)
{
  g_return_if_fail (BZ_IS_STORE_BATCH (self));

  if (self->current == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  unlink_tmp (self->current);
  g_clear_pointer (&self->current, item_free);
}

/* Creates the file of @item in tmp/ as self->fd: unnamed where the file
 * system and the flush allow it (the commit links it into new/: one
 * directory operation instead of a create and a rename, and nothing left
 * in tmp/ by a crash), else named @name. FALSE with errno. */
static gboolean
open_file (BzStoreBatch *self, BzStoreItem *item, const char *name)
{
  /* Only with syncfs(): its second call makes the links durable (see
   * link_files()); the fdatasync() of old kernels keeps the renames. */
  if (self->unnamed && self->flush == BZ_STORE_FLUSH_SYNCFS)
    {
      int errsv;

#ifdef BZ_TEST_HOOKS
      G_LOCK (fail_writes);
      self->fd = refuse_tmpfile
                     ? -1
                     : openat (self->tmp_dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
      errsv = refuse_tmpfile ? EOPNOTSUPP : errno;
      G_UNLOCK (fail_writes);
#else
      self->fd = openat (self->tmp_dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
      errsv = errno;
#endif
      if (self->fd >= 0)
        {
          item->unnamed = TRUE;
          return TRUE;
        }
      /* what file systems (and kernels before 3.11) without it answer */
      if (errsv != EOPNOTSUPP && errsv != EISDIR && errsv != EINVAL)
        {
          errno = errsv;
          return FALSE;
        }
      g_debug ("%s: no unnamed files (%s), renaming from tmp/ instead", self->tmp_dir,
               g_strerror (errsv));
      self->unnamed = FALSE;
    }
  self->fd = openat (self->tmp_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  return self->fd >= 0;
}

gboolean
bz_store_batch_begin (BzStoreBatch *self, const char *uidl, guint64 size, GError **error)
{
  g_autofree char *name = NULL;
  g_autoptr (BzStoreItem) item = g_new0 (BzStoreItem, 1);

  g_return_val_if_fail (BZ_IS_STORE_BATCH (self), FALSE);
  g_return_val_if_fail (uidl != NULL, FALSE);
  g_return_val_if_fail (self->current == NULL, FALSE);

  name = bz_store_maildir_unique_name (self->account, uidl);
  item->fd = -1;
  item->uidl = g_strdup (uidl);
  item->size = size;
  item->tmp_path = g_build_filename (self->tmp_dir, name, NULL);
  if (!open_file (self, item, name))
    return bz_store_fail_errno (error, errno, "create", item->tmp_path);
  self->current = g_steal_pointer (&item);
  self->buf_len = 0;
  self->file_size = 0;
  self->header_done = FALSE;
  g_byte_array_set_size (self->header, 0);
  return TRUE;
}

static gboolean
write_all (BzStoreBatch *self, const guint8 *data, gsize len, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = bz_store_write (self->fd, data + done, len - done);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return bz_store_fail_errno (error, errno, "write", self->current->tmp_path);
        }
      done += (gsize) n;
    }
  return TRUE;
}

static gboolean
flush_buffer (BzStoreBatch *self, GError **error)
{
  if (!write_all (self, self->buf, self->buf_len, error))
    return FALSE;
  self->buf_len = 0;
  return TRUE;
}

/* Keeps the header block (up to the first empty line) for the index. */
static void
capture_header (BzStoreBatch *self, const char *data, gsize len)
{
  guint old_len = self->header->len;
  gsize room = BZ_STORE_HEADER_CAP - old_len;
  const guint8 *hdr;

  if (self->header_done)
    return;
  g_byte_array_append (self->header, (const guint8 *) data, (guint) MIN (len, room));
  hdr = self->header->data;
  if (old_len == 0 && self->header->len > 0 && hdr[0] == '\n')
    {
      g_byte_array_set_size (self->header, 0);
      self->header_done = TRUE;
      return;
    }
  for (guint i = old_len > 0 ? old_len - 1 : 0; i + 1 < self->header->len; i++)
    {
      if (hdr[i] == '\n' &&
          (hdr[i + 1] == '\n' ||
           (hdr[i + 1] == '\r' && i + 2 < self->header->len && hdr[i + 2] == '\n')))
        {
          g_byte_array_set_size (self->header, i + 1);
          self->header_done = TRUE;
          return;
        }
    }
  if (self->header->len >= BZ_STORE_HEADER_CAP)
    self->header_done = TRUE;
}

gboolean
bz_store_batch_write (BzStoreBatch *self, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail (BZ_IS_STORE_BATCH (self), FALSE);
  g_return_val_if_fail (self->current != NULL, FALSE);

  capture_header (self, data, len);
  self->file_size += len;
  /* Large writes (the POP3 session hands over whole buffers of lines) go
   * to the file as they are: copying them first cost a memcpy of every
   * byte. Small ones are gathered. */
  if (len >= BZ_STORE_BUFFER_SIZE / 2)
    {
      if (!flush_buffer (self, error) || !write_all (self, (const guint8 *) data, len, error))
        {
          bz_store_batch_abort (self);
          return FALSE;
        }
      return TRUE;
    }
  while (len > 0)
    {
      gsize n = MIN (len, BZ_STORE_BUFFER_SIZE - self->buf_len);
      memcpy (self->buf + self->buf_len, data, n);
      self->buf_len += n;
      data += n;
      len -= n;
      if (self->buf_len == BZ_STORE_BUFFER_SIZE && !flush_buffer (self, error))
        {
          bz_store_batch_abort (self);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
bz_store_batch_finish (BzStoreBatch *self, GError **error)
{
  BzStoreItem *item = self->current;
  g_autofree char *base = NULL;
  g_autofree char *final_name = NULL;
  g_autoptr (GBytes) block = NULL;
  gboolean keep;
  int fd;

  g_return_val_if_fail (BZ_IS_STORE_BATCH (self), FALSE);
  g_return_val_if_fail (item != NULL, FALSE);

  if (!flush_buffer (self, error))
    {
      bz_store_batch_abort (self);
      return FALSE;
    }
  base = g_path_get_basename (item->tmp_path);
  keep = reserve_kept ();
  if (!keep && item->unnamed)
    {
      /* past the open files the process may hold, it gets its name in
       * tmp/ after all, so that it can be closed */
      if (link_unnamed (self->fd, self->tmp_dir_fd, base) != 0)
        {
          bz_store_fail_errno (error, errno, "create", item->tmp_path);
          bz_store_batch_abort (self);
          return FALSE;
        }
      item->unnamed = FALSE;
    }
  fd = self->fd;
  self->fd = -1;
  if (keep)
    item->fd = fd;
  else if (close (fd) != 0)
    {
      bz_store_fail_errno (error, errno, "close", item->tmp_path);
      bz_store_batch_abort (self);
      return FALSE;
    }
  final_name = g_strdup_printf ("%s,S=%" G_GUINT64_FORMAT, base, self->file_size);
  item->new_path = g_build_filename (self->new_dir, final_name, NULL);
  item->file_size = self->file_size;
  if (item->size == 0)
    item->size = self->file_size;
  block = bz_store_headers_extract ((const char *) self->header->data, self->header->len);
  if (self->deferred_bytes + g_bytes_get_size (block) <= BZ_STORE_DEFERRED_HEADERS_MAX)
    {
      self->deferred_bytes += g_bytes_get_size (block);
      item->header_block = g_steal_pointer (&block);
    }
  else
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (block, &len);

      item->headers = bz_store_headers_parse (data, len);
    }
  g_ptr_array_add (self->finished, g_steal_pointer (&self->current));
  return TRUE;
}

/* Keeps the first error for the caller and logs the others. */
static void
note_error (GError **first, GError *error)
{
  if (*first == NULL)
    {
      *first = error;
      return;
    }
  bz_log_account (G_LOG_LEVEL_WARNING, NULL, "%s", error->message);
  g_error_free (error);
}

/* Drops @items[i] after @error (its file goes; it is fetched again). */
static void
drop_item (GPtrArray *items, guint i, GError **first, GError *error)
{
  note_error (first, error);
  unlink_tmp (g_ptr_array_index (items, i));
  g_ptr_array_remove_index (items, i);
}

/* Step 1: the data of every file on disk, with one flush for the batch
 * (DESIGN.md): writeback of every big file starts, then one syncfs()
 * starts it for the rest, waits for all of it and flushes the disk's write
 * cache once, where an fdatasync() per file flushed it once per message.
 * syncfs() also writes back what other programs have pending on that file
 * system: a commit may wait for their data. It reports a write error of
 * any file since the batch was made (the errors of its tmp/ descriptor)
 * without saying which: the whole batch then fails, and is fetched again.
 * syncfs() reports writeback errors only from Linux 5.8: on older kernels
 * (BZ_STORE_FLUSH_FDATASYNC) each file is fdatasync()ed instead, after
 * writeback of all of them started, and a failure drops only its file.
 * Writeback starts here, in the committer's thread during a sync, not at
 * finish: starting it allocates the blocks (ext4 delayed allocation), CPU
 * time the download thread needs for reading. */
static void
sync_files (BzStoreBatch *self, GPtrArray *items, GError **first)
{
  for (guint i = 0; i < items->len;)
    {
      BzStoreItem *item = g_ptr_array_index (items, i);
      int fd;

      /* fdatasync() waits for each file in turn: writeback of all of them
       * must have started before, or the waits add up */
      if (self->flush == BZ_STORE_FLUSH_SYNCFS && item->file_size < BZ_STORE_EARLY_WRITEBACK_MIN)
        {
          i++;
          continue;
        }
      fd = item->fd >= 0 ? item->fd : open (item->tmp_path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          GError *error = NULL;

          bz_store_fail_errno (&error, errno, "open", item->tmp_path);
          drop_item (items, i, first, error);
          continue;
        }
      /* a file system without it is only slower */
      (void) sync_file_range (fd, 0, 0, SYNC_FILE_RANGE_WRITE);
      if (fd != item->fd)
        close (fd);
      i++;
    }
  if (self->flush == BZ_STORE_FLUSH_FDATASYNC)
    {
      GError *flush_error = NULL;
      guint n_failed = 0;

      for (guint i = 0; i < items->len;)
        {
          BzStoreItem *item = g_ptr_array_index (items, i);
          int fd = item->fd >= 0 ? item->fd : open (item->tmp_path, O_RDONLY | O_CLOEXEC);

          if (fd < 0 || flush_fd (fd, BZ_STORE_FLUSH_FDATASYNC) != 0)
            {
              /* one error for the batch, not one per file */
              if (n_failed++ == 0)
                bz_store_fail_errno (&flush_error, errno, "flush", item->tmp_path);
              if (fd >= 0 && fd != item->fd)
                close (fd);
              unlink_tmp (item);
              g_ptr_array_remove_index (items, i);
              continue;
            }
          if (fd != item->fd)
            close (fd);
          i++;
        }
      if (n_failed > 1)
        g_prefix_error (&flush_error, "%u messages not stored: ", n_failed);
      if (flush_error != NULL)
        note_error (first, flush_error);
    }
  else if (items->len > 0 && flush_fd (self->tmp_dir_fd, BZ_STORE_FLUSH_SYNCFS) != 0)
    {
      GError *error = NULL;

      bz_store_fail_errno (&error, errno, "flush the messages in", self->tmp_dir);
      note_error (first, error);
      for (guint i = 0; i < items->len; i++)
        unlink_tmp (g_ptr_array_index (items, i));
      g_ptr_array_set_size (items, 0);
    }
  for (guint i = 0; i < items->len;)
    {
      BzStoreItem *item = g_ptr_array_index (items, i);
      int fd = item->fd;

      /* an unnamed file lives as long as its descriptor: closed once
       * linked (link_files()) */
      if (item->unnamed)
        {
          i++;
          continue;
        }
      if (fd >= 0 && close_kept (item) != 0)
        {
          GError *error = NULL;

          bz_store_fail_errno (&error, errno, "close", item->tmp_path);
          drop_item (items, i, first, error);
          continue;
        }
      i++;
    }
}

/* The index entries that finish left for now. */
static void
parse_headers (GPtrArray *items)
{
  for (guint i = 0; i < items->len; i++)
    {
      BzStoreItem *item = g_ptr_array_index (items, i);
      gsize len = 0;
      const char *data;

      if (item->header_block == NULL)
        continue;
      data = g_bytes_get_data (item->header_block, &len);
      item->headers = bz_store_headers_parse (data, len);
      g_clear_pointer (&item->header_block, g_bytes_unref);
    }
}

/* Abandons the newest half of @items (at least one): their files go,
 * which gives back the room a full disk needs for the database's commit. */
static void
drop_newest_half (GPtrArray *items)
{
  guint keep = items->len / 2;

  for (guint i = keep; i < items->len; i++)
    unlink_tmp (g_ptr_array_index (items, i));
  g_ptr_array_set_size (items, keep);
}

/* Step 2: one transaction of pending rows. A UIDL already known drops only
 * its own message. When the disk is full (the database shares it with the
 * Maildir, and the message that filled it was abandoned already), the
 * newest half of the messages is given up to make room, again until the
 * rest fits: what was written completely is kept as far as it can be, so
 * that an account with room for fewer messages than a batch still
 * progresses. (The attempts that failed grew the -wal file, and a rolled
 * back transaction's frames are written over by the next: the half that
 * fits leaves room there for step 4's commit too.) Any other failure
 * drops the whole batch. */
static gboolean
add_pending_rows (BzStoreBatch *self, GPtrArray *items, GError **first)
{
  gint64 now = batch_now (self);
  GError *error = NULL;

retry:
  if (!bz_db_begin (self->db, &error))
    goto fail;
  for (guint i = 0; i < items->len;)
    {
      BzStoreItem *item = g_ptr_array_index (items, i);
      if (!bz_db_add_pending (self->db, self->account, item->uidl, item->new_path, item->size, now,
                              item->headers, &error))
        {
          if (!g_error_matches (error, BZ_DB_ERROR, BZ_DB_ERROR_CONFLICT))
            {
              bz_db_rollback (self->db);
              goto fail;
            }
          note_error (first,
                      g_error_new (BZ_STORE_ERROR, BZ_STORE_ERROR_DUPLICATE,
                                   "Not storing %s twice: %s", item->tmp_path, error->message));
          g_clear_error (&error);
          unlink_tmp (item);
          g_ptr_array_remove_index (items, i);
          continue;
        }
      i++;
    }
  if (!bz_db_commit (self->db, &error))
    {
      bz_db_rollback (self->db);
      goto fail;
    }
  return TRUE;

fail:
  if (g_error_matches (error, BZ_DB_ERROR, BZ_DB_ERROR_NO_SPACE) && items->len > 1)
    {
      note_error (first,
                  g_error_new (BZ_STORE_ERROR, BZ_STORE_ERROR_NO_SPACE,
                               "%s: %s (kept %u of %u messages; the others are "
                               "fetched again when there is room)",
                               g_strerror (ENOSPC), error->message, items->len / 2, items->len));
      g_clear_error (&error);
      drop_newest_half (items);
      goto retry;
    }
  if (g_error_matches (error, BZ_DB_ERROR, BZ_DB_ERROR_NO_SPACE))
    note_error (first, g_error_new (BZ_STORE_ERROR, BZ_STORE_ERROR_NO_SPACE, "%s: %s",
                                    g_strerror (ENOSPC), error->message));
  else
    note_error (first, g_error_new (BZ_STORE_ERROR, BZ_STORE_ERROR_DB, "%s", error->message));
  g_clear_error (&error);
  for (guint i = 0; i < items->len; i++)
    unlink_tmp (g_ptr_array_index (items, i));
  g_ptr_array_set_size (items, 0);
  return FALSE;
}

static BzDbMessage *
stored_message (BzStoreBatch *self, BzStoreItem *item, gint64 now)
{
  BzDbMessage *msg = g_new0 (BzDbMessage, 1);

  msg->account = g_strdup (self->account);
  msg->uidl = g_strdup (item->uidl);
  msg->state = BZ_DB_STATE_STORED;
  msg->path = g_strdup (item->new_path);
  msg->size = item->size;
  msg->fetched = now;
  msg->headers.message_id = g_strdup (item->headers->message_id);
  msg->headers.from = g_strdup (item->headers->from);
  msg->headers.subject = g_strdup (item->headers->subject);
  msg->headers.date = item->headers->date;
  return msg;
}

/* Step 3: every file into new/, by rename or, unnamed, by link. A failed
 * one leaves a pending row without a file: it moves to @unrenamed, and its
 * row is dropped in the same transaction as step 4.
 * Step 4: the new names made durable, so that a stored row never outlives
 * its file; when that fails, @items is emptied and the rows stay pending
 * for the next recovery. A renamed file's inode was written in step 1, so
 * a flush of new/ is enough; a link changed the inode too (its link count),
 * which the folder's fsync() does not write on every file system (ext4
 * without a journal): then one more syncfs() for the batch writes both. */
static void
link_files (BzStoreBatch *self, GPtrArray *items, GPtrArray *unrenamed, GError **first)
{
  gboolean linked = FALSE;
  GError *local = NULL;

  for (guint i = 0; i < items->len;)
    {
      BzStoreItem *item = g_ptr_array_index (items, i);
      const char *new_name = strrchr (item->new_path, '/') + 1;
      int rc;

      if (item->unnamed)
        rc = link_unnamed (item->fd, self->new_dir_fd, new_name);
      else
        rc = renameat (self->tmp_dir_fd, strrchr (item->tmp_path, '/') + 1, self->new_dir_fd,
                       new_name);
      if (rc != 0)
        {
          bz_store_fail_errno (&local, errno, "move into new/", item->tmp_path);
          note_error (first, g_steal_pointer (&local));
          unlink_tmp (item);
          g_ptr_array_add (unrenamed, g_ptr_array_steal_index (items, i));
          continue;
        }
      if (item->unnamed)
        {
          linked = TRUE;
          /* in new/ already, and its data flushed: its row stays pending
           * and the next recovery finds the file */
          if (close_kept (item) != 0)
            {
              bz_store_fail_errno (&local, errno, "close", item->new_path);
              note_error (first, g_steal_pointer (&local));
              g_ptr_array_remove_index (items, i);
              continue;
            }
        }
      i++;
    }
  if (items->len == 0)
    return;
  if (linked && (
#ifdef BZ_TEST_HOOKS
                    link_flush_fails () ||
#endif
                    flush_fd (self->tmp_dir_fd, BZ_STORE_FLUSH_SYNCFS) != 0))
    bz_store_fail_errno (&local, errno, "flush the messages in", self->new_dir);
  else if (!linked)
    bz_store_fsync_dir (self->new_dir, &local);
  if (local != NULL)
    {
      note_error (first, g_steal_pointer (&local));
      g_ptr_array_set_size (items, 0);
    }
}

gboolean
bz_store_batch_commit (BzStoreBatch *self, GPtrArray **stored, GError **error)
{
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_message_free);
  g_autoptr (GPtrArray) unrenamed = g_ptr_array_new ();
  GError *first = NULL;
  GError *local = NULL;
  gint64 now = batch_now (self);

  g_return_val_if_fail (BZ_IS_STORE_BATCH (self), FALSE);

  if (stored != NULL)
    *stored = NULL;
  bz_store_batch_abort (self);
  items = g_steal_pointer (&self->finished);
  self->finished = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  self->deferred_bytes = 0;

  parse_headers (items);
  sync_files (self, items, &first);
  if (items->len > 0 && add_pending_rows (self, items, &first))
    {
      /* Steps 3 and 4 */
      link_files (self, items, unrenamed, &first);
      if (items->len > 0 || unrenamed->len > 0)
        {
          gboolean ok = bz_db_begin (self->db, &local);
          for (guint i = 0; ok && i < items->len; i++)
            {
              BzStoreItem *item = g_ptr_array_index (items, i);
              ok = bz_db_set_stored (self->db, self->account, item->uidl, item->new_path, &local);
            }
          for (guint i = 0; ok && i < unrenamed->len; i++)
            {
              BzStoreItem *item = g_ptr_array_index (unrenamed, i);
              ok = bz_db_drop_pending (self->db, self->account, item->uidl, &local);
            }
          if (ok)
            ok = bz_db_commit (self->db, &local);
          if (ok)
            {
              for (guint i = 0; i < items->len; i++)
                g_ptr_array_add (out, stored_message (self, g_ptr_array_index (items, i), now));
            }
          else
            {
              bz_db_rollback (self->db);
              note_error (&first, g_error_new (BZ_STORE_ERROR, BZ_STORE_ERROR_DB,
                                               "%s (the messages stay pending until recovery)",
                                               local->message));
              g_clear_error (&local);
            }
        }
      for (guint i = 0; i < unrenamed->len; i++)
        item_free (g_ptr_array_index (unrenamed, i));
    }
  if (stored != NULL)
    *stored = g_steal_pointer (&out);
  if (first != NULL)
    {
      g_propagate_error (error, first);
      return FALSE;
    }
  return TRUE;
}

static void
bz_store_batch_finalize (GObject *object)
{
  BzStoreBatch *self = BZ_STORE_BATCH (object);

  bz_store_batch_abort (self);
  for (guint i = 0; i < self->finished->len; i++)
    unlink_tmp (g_ptr_array_index (self->finished, i));
  g_ptr_array_unref (self->finished);
  g_byte_array_unref (self->header);
  g_free (self->buf);
  g_free (self->account);
  g_free (self->tmp_dir);
  if (self->tmp_dir_fd >= 0)
    close (self->tmp_dir_fd);
  if (self->new_dir_fd >= 0)
    close (self->new_dir_fd);
  g_free (self->new_dir);
  g_clear_object (&self->db);
  G_OBJECT_CLASS (bz_store_batch_parent_class)->finalize (object);
}

static void
bz_store_batch_class_init (BzStoreBatchClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bz_store_batch_finalize;
}

static void
bz_store_batch_init (BzStoreBatch *self)
{
  self->fd = -1;
  self->tmp_dir_fd = -1;
  self->new_dir_fd = -1;
  self->flush = bz_store_flush_default ();
  self->buf = g_malloc (BZ_STORE_BUFFER_SIZE);
  self->header = g_byte_array_new ();
  self->finished = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
}
