/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Opening the database: checks before any write, migrations, pragmas, the
 * statement cache and transactions.
 *
 * Why synchronous = FULL and not NORMAL, although we run in WAL mode:
 * with NORMAL a commit is not fsynced, so after a power cut the last
 * transactions may be missing while the database stays consistent. That is
 * harmless for the "stored" commit (step 4: the row stays pending and
 * recovery finds the file) but not for the "pending" commit (step 2): the
 * file may already be renamed into new/ (step 3) while its row is lost, and
 * the message would be fetched and stored a second time. A kill -9 alone
 * would not show it (the WAL is in the page cache), a power cut would. The
 * store commits once per batch, so FULL costs one WAL fsync per batch. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "bz-db-private.h"

#define BZ_DB_BUSY_TIMEOUT_MS 10000

struct _BzDb
{
  GObject parent_instance;
  char *path;
  sqlite3 *handle;
  gboolean read_only;   /* bz_db_open_read_only(): leaves no file behind */
  GHashTable *stmts;    /* SQL text -> sqlite3_stmt */
  GHashTable *accounts; /* name -> gint64 id, boxed */
};

G_DEFINE_TYPE (BzDb, bz_db, G_TYPE_OBJECT)
/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - db - error - quark, bz_db_error)
/* clang-format on */

static const char *state_names[] = {
  [BZ_DB_STATE_PENDING] = "pending", [BZ_DB_STATE_STORED] = "stored",
  [BZ_DB_STATE_SKIPPED] = "skipped", [BZ_DB_STATE_GONE] = "gone",
  [BZ_DB_STATE_DELETED] = "deleted", [BZ_DB_STATE_KNOWN] = "known",
};

const char *
bz_db_state_to_string (BzDbState state)
{
  g_return_val_if_fail (state < BZ_DB_STATE_LAST, NULL);
  return state_names[state];
}

BzDbHeaders *
bz_db_headers_copy (const BzDbHeaders *headers)
{
  BzDbHeaders *copy;

  if (headers == NULL)
    return NULL;
  copy = g_new0 (BzDbHeaders, 1);
  copy->message_id = g_strdup (headers->message_id);
  copy->from = g_strdup (headers->from);
  copy->subject = g_strdup (headers->subject);
  copy->date = headers->date;
  return copy;
}

void
bz_db_headers_free (BzDbHeaders *headers)
{
  if (headers == NULL)
    return;
  g_free (headers->message_id);
  g_free (headers->from);
  g_free (headers->subject);
  g_free (headers);
}

void
bz_db_message_free (BzDbMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->account);
  g_free (message->uidl);
  g_free (message->path);
  g_free (message->headers.message_id);
  g_free (message->headers.from);
  g_free (message->headers.subject);
  g_free (message);
}

sqlite3 *
bz_db_get_handle (BzDb *self)
{
  return self->handle;
}

const char *
bz_db_get_path (BzDb *self)
{
  g_return_val_if_fail (BZ_IS_DB (self), NULL);
  return self->path;
}

static gboolean
rc_is_corrupt (int rc)
{
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Damage found after the file was opened (a page that does not read):
 * the next open checks the whole file (PRAGMA quick_check, too slow for
 * every open) and moves it aside when it is damaged. */
static char *
check_marker_path (const char *path)
{
  return g_strconcat (path, ".check", NULL);
}

static void
set_corrupt_error (BzDb *self, GError **error, const char *why)
{
  g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_CORRUPT,
               "Database %s is damaged or not a buzon database (%s)", self->path, why);
}

gboolean
bz_db_fail (BzDb *self, GError **error, const char *what)
{
  int rc = sqlite3_extended_errcode (self->handle);

  if (rc_is_corrupt (rc))
    {
      g_autofree char *marker = check_marker_path (self->path);

      set_corrupt_error (self, error, sqlite3_errmsg (self->handle));
      if (!self->read_only && !g_file_set_contents (marker, "", 0, NULL))
        g_warning ("Cannot create %s", marker);
      return FALSE;
    }
  g_set_error (error, BZ_DB_ERROR,
               (rc & 0xff) == SQLITE_FULL ? BZ_DB_ERROR_NO_SPACE : BZ_DB_ERROR_FAILED,
               "Database %s: %s: %s", self->path, what, sqlite3_errmsg (self->handle));
  return FALSE;
}

gboolean
bz_db_check_bind (BzDb *self, int rc, GError **error)
{
  if (rc == SQLITE_OK)
    return TRUE;
  return bz_db_fail (self, error, "cannot bind a value");
}

gboolean
bz_db_exec (BzDb *self, const char *sql, GError **error)
{
  if (sqlite3_exec (self->handle, sql, NULL, NULL, NULL) != SQLITE_OK)
    return bz_db_fail (self, error, "cannot execute SQL");
  return TRUE;
}

BzDbCachedStmt *
bz_db_cached (BzDb *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->stmts, sql);

  if (stmt != NULL)
    return stmt;
  if (sqlite3_prepare_v3 (self->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
      SQLITE_OK)
    {
      bz_db_fail (self, error, "cannot prepare a query");
      return NULL;
    }
  g_hash_table_insert (self->stmts, g_strdup (sql), stmt);
  return stmt;
}

gboolean
bz_db_account_id (BzDb *self, const char *account, gboolean create, gint64 *id, GError **error)
{
  gint64 *cached = g_hash_table_lookup (self->accounts, account);
  int rc;

  if (cached != NULL)
    {
      *id = *cached;
      return TRUE;
    }
  *id = 0;
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self, "SELECT id FROM accounts WHERE name = ?1", error);
    if (stmt == NULL)
      return FALSE;
    if (!bz_db_check_bind (self, sqlite3_bind_text (stmt, 1, account, -1, SQLITE_TRANSIENT), error))
      return FALSE;
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
      *id = sqlite3_column_int64 (stmt, 0);
    else if (rc != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot look up an account");
  }
  if (*id == 0 && create)
    {
      g_autoptr (BzDbCachedStmt) stmt =
          bz_db_cached (self, "INSERT INTO accounts (name) VALUES (?1)", error);
      if (stmt == NULL)
        return FALSE;
      if (!bz_db_check_bind (self, sqlite3_bind_text (stmt, 1, account, -1, SQLITE_TRANSIENT),
                             error))
        return FALSE;
      if (sqlite3_step (stmt) != SQLITE_DONE)
        return bz_db_fail (self, error, "cannot add an account");
      *id = sqlite3_last_insert_rowid (self->handle);
    }
  /* Only cache ids that exist: a rolled-back insert must not be cached, so
   * inserted ids are cached by the next lookup, outside the transaction. */
  if (*id != 0 && sqlite3_get_autocommit (self->handle))
    g_hash_table_insert (self->accounts, g_strdup (account), g_memdup2 (id, sizeof *id));
  return TRUE;
}

gboolean
bz_db_begin (BzDb *self, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (self, "BEGIN IMMEDIATE", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot begin a transaction");
  return TRUE;
}

gboolean
bz_db_commit (BzDb *self, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (self, "COMMIT", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot commit");
  return TRUE;
}

void
bz_db_rollback (BzDb *self)
{
  if (sqlite3_get_autocommit (self->handle))
    return;
  if (sqlite3_exec (self->handle, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
    g_warning ("Database %s: rollback failed: %s", self->path, sqlite3_errmsg (self->handle));
}

gboolean
bz_db_account_has_messages (BzDb *self, const char *account, gboolean *has, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 id = 0;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  *has = FALSE;
  if (!bz_db_account_id (self, account, FALSE, &id, error))
    return FALSE;
  if (id == 0)
    return TRUE;
  /* one step on the (account_id, uidl) index, whatever the row count */
  stmt = bz_db_cached (self, "SELECT 1 FROM messages WHERE account_id = ?1 LIMIT 1", error);
  if (stmt == NULL || !bz_db_check_bind (self, sqlite3_bind_int64 (stmt, 1, id), error))
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot look up the account's messages");
  *has = rc == SQLITE_ROW;
  return TRUE;
}

/* Reads one integer pragma; the first read of a garbage file fails here. */
gboolean
bz_db_pragma_int (BzDb *self, const char *sql, gint64 *value, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (sqlite3_prepare_v2 (self->handle, sql, -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return bz_db_fail (self, error, "cannot read it (check that it is a readable file)");
  *value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* Everything here only reads: a file we refuse stays byte for byte as it
 * was (journal_mode = WAL would already rewrite the header). */
static gboolean
check_ours (BzDb *self, guint *version, GError **error)
{
  gint64 app_id = 0, user_version = 0, n_objects = 0;
  gboolean read;

  /* One read transaction, so that the three answers come from one state of
   * the file even while another connection is creating it. */
  if (!bz_db_exec (self, "BEGIN DEFERRED", error))
    return FALSE;
  read = bz_db_pragma_int (self, "PRAGMA application_id", &app_id, error) &&
         bz_db_pragma_int (self, "PRAGMA user_version", &user_version, error) &&
         bz_db_pragma_int (self, "SELECT count(*) FROM sqlite_schema", &n_objects, error);
  bz_db_rollback (self);
  if (!read)
    return FALSE;
  if (app_id == 0 && user_version == 0 && n_objects == 0)
    {
      *version = 0;
      return TRUE;
    }
  if (app_id != BZ_DB_APPLICATION_ID)
    {
      set_corrupt_error (self, error, "another program's database");
      return FALSE;
    }
  if (user_version > (gint64) bz_db_schema_version ())
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_TOO_NEW,
                   "Database %s has schema version %" G_GINT64_FORMAT
                   " from a newer buzon; this one (%s) knows up to %u. "
                   "Run the newer version, or move the file aside to start "
                   "over (every message still on the servers would then be "
                   "downloaded again)",
                   self->path, user_version, BZ_VERSION, bz_db_schema_version ());
      return FALSE;
    }
  *version = (guint) user_version;
  return TRUE;
}

/* When a query found damage (see bz_db_fail()), the whole file is checked
 * once before it is used again. */
static gboolean
check_marked (BzDb *self, GError **error)
{
  g_autofree char *marker = check_marker_path (self->path);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  const char *answer;

  if (!g_file_test (marker, G_FILE_TEST_EXISTS))
    return TRUE;
  if (sqlite3_prepare_v2 (self->handle, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return bz_db_fail (self, error, "cannot check it");
  answer = (const char *) sqlite3_column_text (stmt, 0);
  if (g_strcmp0 (answer, "ok") != 0)
    {
      set_corrupt_error (self, error, answer != NULL ? answer : "quick_check failed");
      return FALSE;
    }
  g_unlink (marker);
  return TRUE;
}

static gboolean
set_pragmas (BzDb *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 value = 0;
  const char *mode;

  gint64 deadline = g_get_monotonic_time () + BZ_DB_BUSY_TIMEOUT_MS * 1000;
  int rc;

  /* SQLite answers the mode it is really in (e.g. "delete" on a file
   * system without shared memory); we rely on WAL for concurrent readers.
   * Switching a new file to WAL needs it to ourselves, and SQLite reports
   * a concurrent first open as busy at once instead of calling the busy
   * handler: retry for as long as the busy timeout. */
  if (sqlite3_prepare_v2 (self->handle, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK)
    return bz_db_fail (self, error, "cannot set WAL mode");
  while (((rc = sqlite3_step (stmt)) & 0xff) == SQLITE_BUSY && g_get_monotonic_time () < deadline)
    {
      sqlite3_reset (stmt);
      g_usleep (5 * 1000);
    }
  if (rc != SQLITE_ROW)
    return bz_db_fail (self, error, "cannot set WAL mode");
  mode = (const char *) sqlite3_column_text (stmt, 0);
  if (g_strcmp0 (mode, "wal") != 0)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED,
                   "Database %s: SQLite refused WAL mode (answered %s)", self->path,
                   mode != NULL ? mode : "nothing");
      return FALSE;
    }
  /* cache_size: every pass over the messages is one sorted scan or a
   * lookup by key, which the OS page cache serves as well; SQLite's
   * default 2 MB per connection (a sync has two) was a fifth of buzond's
   * peak memory on a first sync of 50,000 messages. */
  if (!bz_db_exec (self, "PRAGMA foreign_keys = ON", error) ||
      !bz_db_exec (self, "PRAGMA synchronous = FULL", error) ||
      !bz_db_exec (self, "PRAGMA cache_size = -512", error))
    return FALSE;
  if (!bz_db_pragma_int (self, "PRAGMA foreign_keys", &value, error))
    return FALSE;
  if (value != 1)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED,
                   "Database %s: SQLite refused foreign keys", self->path);
      return FALSE;
    }
  return TRUE;
}

static BzDb *
open_once (const char *path, GError **error)
{
  g_autoptr (BzDb) self = g_object_new (BZ_TYPE_DB, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  guint version = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_strdup (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED,
                   "Cannot create the folder %s of database %s: %s", dir, path, g_strerror (errsv));
      return NULL;
    }
  rc = sqlite3_open_v2 (path, &self->handle,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED, "Cannot open database %s: %s", path,
                   self->handle != NULL ? sqlite3_errmsg (self->handle) : sqlite3_errstr (rc));
      return NULL;
    }
  if (sqlite3_busy_timeout (self->handle, BZ_DB_BUSY_TIMEOUT_MS) != SQLITE_OK)
    {
      bz_db_fail (self, error, "cannot set the busy timeout");
      return NULL;
    }
  /* Until the file is known to be ours and sound, closing must not write
   * to it: the last connection's close would checkpoint the -wal into a
   * damaged file and delete the -wal, which move_aside() keeps. */
  if (sqlite3_db_config (self->handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK)
    {
      bz_db_fail (self, error, "cannot configure the connection");
      return NULL;
    }
  if (!check_ours (self, &version, error) || !check_marked (self, error))
    return NULL;
  if (sqlite3_db_readonly (self->handle, "main") != 0)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED,
                   "Database %s is not writable: fix its permissions", path);
      return NULL;
    }
  if (!bz_db_exec (self, "PRAGMA foreign_keys = ON", error))
    return NULL;
  if (version < bz_db_schema_version () && !bz_db_migrate (self, version, error))
    return NULL;
  if (!set_pragmas (self, error))
    return NULL;
  if (!bz_db_rank_register (self->handle))
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED,
                   "Database %s: this SQLite has no full-text search (FTS5)", path);
      return NULL;
    }
  if (sqlite3_db_config (self->handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL) != SQLITE_OK)
    {
      bz_db_fail (self, error, "cannot configure the connection");
      return NULL;
    }
  return g_steal_pointer (&self);
}

/* A damaged database is moved aside, never deleted (DESIGN.md): the file
 * and its -wal and -shm become "PATH.damaged-<unix time>" (and -wal,
 * -shm), so that SQLite can still open the three together. The sync then
 * rebuilds the state from the Maildirs. Two processes may find the damage
 * at once: under a lock, the file is moved only if it is still the one
 * that was found damaged, else the other process moved it already. */
static gboolean
move_aside (const char *path, const GStatBuf *damaged, const char *why, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *lock_path = g_strconcat (path, ".lock", NULL);
  g_autofree char *aside = NULL;
  GStatBuf now;
  int lock_fd;
  int saved = 0;

  lock_fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX) != 0)
    {
      saved = errno;
      if (lock_fd >= 0)
        close (lock_fd);
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED, "%s, and cannot be moved aside: %s: %s",
                   why, lock_path, g_strerror (saved));
      return FALSE;
    }
  if (g_stat (path, &now) != 0 || now.st_dev != damaged->st_dev || now.st_ino != damaged->st_ino)
    {
      close (lock_fd);
      return TRUE;
    }
  for (gint64 t = g_get_real_time () / G_USEC_PER_SEC;; t++)
    {
      g_free (aside);
      aside = g_strdup_printf ("%s.damaged-%" G_GINT64_FORMAT, path, t);
      if (!g_file_test (aside, G_FILE_TEST_EXISTS))
        break;
    }
  if (g_rename (path, aside) != 0)
    saved = errno;
  for (guint i = 0; saved == 0 && i < 2; i++)
    {
      const char *suffix = i == 0 ? "-wal" : "-shm";
      g_autofree char *from = g_strconcat (path, suffix, NULL);
      g_autofree char *to = g_strconcat (aside, suffix, NULL);

      if (g_rename (from, to) != 0 && errno != ENOENT)
        saved = errno;
    }
  close (lock_fd);
  if (saved != 0)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED,
                   "%s, and cannot be moved aside as %s: %s", why, aside, g_strerror (saved));
      return FALSE;
    }
  {
    int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0)
      {
        (void) fsync (dir_fd);
        close (dir_fd);
      }
  }
  {
    g_autofree char *marker = check_marker_path (path);
    g_unlink (marker);
  }
  g_warning ("%s: moved it aside as %s and started a new one; each account's state is "
             "rebuilt from its Maildir at its next sync",
             why, aside);
  return TRUE;
}

BzDb *
bz_db_open (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  GStatBuf damaged;
  BzDb *db;

  g_return_val_if_fail (path != NULL, NULL);

  db = open_once (path, &local);
  if (db != NULL)
    return db;
  if (!g_error_matches (local, BZ_DB_ERROR, BZ_DB_ERROR_CORRUPT) || g_stat (path, &damaged) != 0 ||
      !S_ISREG (damaged.st_mode))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (!move_aside (path, &damaged, local->message, error))
    return NULL;
  return open_once (path, error);
}

BzDb *
bz_db_open_read_only (const char *path, guint *version, GError **error)
{
  g_autoptr (BzDb) self = g_object_new (BZ_TYPE_DB, NULL);
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_strdup (path);
  self->read_only = TRUE;
  rc = sqlite3_open_v2 (path, &self->handle,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED, "Cannot open database %s: %s", path,
                   self->handle != NULL ? sqlite3_errmsg (self->handle) : sqlite3_errstr (rc));
      return NULL;
    }
  if (sqlite3_busy_timeout (self->handle, BZ_DB_BUSY_TIMEOUT_MS) != SQLITE_OK)
    {
      bz_db_fail (self, error, "cannot set the busy timeout");
      return NULL;
    }
  if (!check_ours (self, version, error))
    return NULL;
  /* best effort: only a search needs it, and searches open read-write */
  bz_db_rank_register (self->handle);
  return g_steal_pointer (&self);
}

static void
bz_db_finalize (GObject *object)
{
  BzDb *self = BZ_DB (object);

  g_hash_table_unref (self->stmts);
  g_hash_table_unref (self->accounts);
  if (self->handle != NULL && sqlite3_close (self->handle) != SQLITE_OK)
    g_warning ("Database %s: close failed: %s", self->path, sqlite3_errmsg (self->handle));
  g_free (self->path);
  G_OBJECT_CLASS (bz_db_parent_class)->finalize (object);
}

static void
bz_db_class_init (BzDbClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bz_db_finalize;
}

static void
stmt_finalize (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
bz_db_init (BzDb *self)
{
  /* Statements go before the handle is closed (finalize order). */
  self->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stmt_finalize);
  self->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
