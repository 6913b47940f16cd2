/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Imported state (`buzonctl import`): UIDLs another client delivered are
 * recorded as known, and getmail's rewritten UIDLs are matched to the
 * server's names at the next sync. */

#include "config.h"

#include <string.h>

#include "bz-db-private.h"

static gboolean
bind_text (BzDb *self, sqlite3_stmt *stmt, int idx, const char *text, GError **error)
{
  return bz_db_check_bind (self, sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT), error);
}

static gboolean
bind_int64 (BzDb *self, sqlite3_stmt *stmt, int idx, gint64 value, GError **error)
{
  return bz_db_check_bind (self, sqlite3_bind_int64 (stmt, idx, value), error);
}

gboolean
bz_db_import_known (BzDb *self, const char *account, const BzDbKnownUidl *uidls, gsize n_uidls,
                    gboolean getmail_form, gint64 now, guint *n_added, guint *n_existing,
                    GError **error)
{
  gint64 account_id = 0;
  guint added = 0;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  if (!bz_db_begin (self, error))
    return FALSE;
  if (!bz_db_account_id (self, account, TRUE, &account_id, error))
    goto fail;
  for (gsize i = 0; i < n_uidls; i++)
    {
      /* DO NOTHING: a row in any state stays as it is, never downgraded */
      g_autoptr (BzDbCachedStmt) stmt =
          bz_db_cached (self,
                        "INSERT INTO messages (account_id, uidl, state, fetched, getmail_form) "
                        "VALUES (?1, ?2, 'known', ?3, ?4) "
                        "ON CONFLICT (account_id, uidl) DO NOTHING",
                        error);
      /* only UIDLs getmail may have changed carry the mark */
      gboolean form = getmail_form && strchr (uidls[i].uidl, '-') != NULL;

      if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
          !bind_text (self, stmt, 2, uidls[i].uidl, error) ||
          !bind_int64 (self, stmt, 3, uidls[i].seen > 0 ? uidls[i].seen : now, error) ||
          !bind_int64 (self, stmt, 4, form ? 1 : 0, error))
        goto fail;
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          bz_db_fail (self, error, "cannot record an imported UIDL");
          goto fail;
        }
      added += (guint) sqlite3_changes (bz_db_get_handle (self));
    }
  if (!bz_db_commit (self, error))
    goto fail;
  if (n_added != NULL)
    *n_added = added;
  if (n_existing != NULL)
    *n_existing = (guint) n_uidls - added;
  return TRUE;

fail:
  bz_db_rollback (self);
  return FALSE;
}

gboolean
bz_db_count_existing (BzDb *self, const char *account, const BzDbKnownUidl *uidls, gsize n_uidls,
                      guint *n_existing, GError **error)
{
  gint64 account_id = 0;
  guint existing = 0;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  *n_existing = 0;
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  for (gsize i = 0; i < n_uidls; i++)
    {
      g_autoptr (BzDbCachedStmt) stmt =
          bz_db_cached (self, "SELECT 1 FROM messages WHERE account_id = ?1 AND uidl = ?2", error);
      int rc;

      if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
          !bind_text (self, stmt, 2, uidls[i].uidl, error))
        return FALSE;
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        existing++;
      else if (rc != SQLITE_DONE)
        return bz_db_fail (self, error, "cannot look up a UIDL");
    }
  *n_existing = existing;
  return TRUE;
}

/* The known rows of @account still in getmail's form, as a set. */
static GHashTable *
load_getmail_rows (BzDb *self, gint64 account_id, GError **error)
{
  g_autoptr (GHashTable) rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (self,
                                                  "SELECT uidl FROM messages WHERE account_id = ?1 "
                                                  "AND getmail_form != 0 AND state = 'known'",
                                                  error);
  int rc;

  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error))
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (rows, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  if (rc != SQLITE_DONE)
    {
      bz_db_fail (self, error, "cannot list imported getmail UIDLs");
      return NULL;
    }
  return g_steal_pointer (&rows);
}

/* Runs @sql with ?1 account id, ?2 getmail's form, ?3 the server's UIDL. */
static gboolean
run_adopt (BzDb *self, const char *sql, gint64 account_id, const char *form, const char *uidl,
           GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (self, sql, error);

  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_text (self, stmt, 2, form, error) || !bind_text (self, stmt, 3, uidl, error))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot rename an imported UIDL");
  return TRUE;
}

gboolean
bz_db_adopt_getmail_uidls (BzDb *self, const char *account, const char *const *server_uidls,
                           gsize n_uidls, guint *n_adopted, GError **error)
{
  g_autoptr (GHashTable) rows = NULL;
  gint64 account_id = 0;
  guint adopted = 0;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  if (n_adopted != NULL)
    *n_adopted = 0;
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  rows = load_getmail_rows (self, account_id, error);
  if (rows == NULL)
    return FALSE;
  if (g_hash_table_size (rows) == 0)
    return TRUE;
  if (!bz_db_begin (self, error))
    return FALSE;
  for (gsize i = 0; i < n_uidls && g_hash_table_size (rows) > 0; i++)
    {
      const char *uidl = server_uidls[i];
      g_autofree char *form = g_strdelimit (g_strdup (uidl), "/", '-');
      gboolean ok;

      if (!g_hash_table_contains (rows, form))
        continue;
      if (strcmp (form, uidl) == 0)
        {
          /* the server's name is getmail's: nothing to rename, ever */
          ok = run_adopt (self,
                          "UPDATE messages SET getmail_form = 0 WHERE account_id = ?1 "
                          "AND uidl = ?2 AND ?3 IS NOT NULL",
                          account_id, form, uidl, error);
        }
      else
        {
          /* A row under the real name (stored before the import) wins;
           * otherwise the imported row takes the real name. */
          ok = run_adopt (self,
                          "DELETE FROM messages WHERE account_id = ?1 AND uidl = ?2 "
                          "AND getmail_form != 0 AND state = 'known' AND EXISTS "
                          "(SELECT 1 FROM messages WHERE account_id = ?1 AND uidl = ?3)",
                          account_id, form, uidl, error) &&
               run_adopt (self,
                          "UPDATE messages SET uidl = ?3, getmail_form = 0 "
                          "WHERE account_id = ?1 AND uidl = ?2 AND getmail_form != 0 "
                          "AND state = 'known'",
                          account_id, form, uidl, error);
          adopted += ok ? (guint) sqlite3_changes (bz_db_get_handle (self)) : 0;
        }
      if (!ok)
        {
          bz_db_rollback (self);
          return FALSE;
        }
      g_hash_table_remove (rows, form);
    }
  if (!bz_db_commit (self, error))
    {
      bz_db_rollback (self);
      return FALSE;
    }
  if (n_adopted != NULL)
    *n_adopted = adopted;
  return TRUE;
}
