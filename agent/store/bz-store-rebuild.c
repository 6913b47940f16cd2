/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Rebuilding the state from the Maildir (DESIGN.md, "The state survives
 * its own loss"). Every name buzon gives a message carries a digest of
 * (account, UIDL) in its unique part, which mail readers keep when they
 * move the file to cur/ and add flags. When the database knows none of a
 * server's UIDLs (it was deleted, emptied, or moved aside as damaged), the
 * sync asks here which of them are already in the Maildir: those become
 * stored rows again instead of being downloaded a second time.
 *
 * Memory stays small whatever the Maildir holds: the first pass keeps 16
 * bytes per file of ours (sorted, for bsearch), the second pass walks the
 * folders again and records the matches as it finds them. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "bz-store-batch.h"
#include "bz-store-headers.h"
#include "bz-store-maildir.h"
#include "bz-store-private.h"

#define HEADER_READ_MAX (256 * 1024)
#define NO_MATCH G_MAXUINT

typedef struct
{
  guint8 digest[BZ_STORE_DIGEST_LEN / 2];
  guint candidate; /* position in the candidates array, or NO_MATCH */
} Entry;

static const char *const subdirs[] = { "new", "cur" };

static gint
compare_entry (gconstpointer a, gconstpointer b)
{
  return memcmp (((const Entry *) a)->digest, ((const Entry *) b)->digest,
                 sizeof ((const Entry *) a)->digest);
}

static void
digest_to_bytes (const char *hex, guint8 *out)
{
  for (guint i = 0; i < BZ_STORE_DIGEST_LEN / 2; i++)
    out[i] =
        (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
}

/* Pass 1: the digests of every file of ours in new/ and cur/. */
static gboolean
collect_digests (const char *maildir, GArray *entries, GError **error)
{
  for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
    {
      g_autofree char *dir_path = g_build_filename (maildir, subdirs[s], NULL);
      g_autoptr (GDir) dir = NULL;
      GError *local = NULL;
      const char *name;

      dir = g_dir_open (dir_path, 0, &local);
      if (dir == NULL)
        {
          if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            {
              g_error_free (local);
              continue;
            }
          g_set_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_IO, "%s", local->message);
          g_error_free (local);
          return FALSE;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          BzStoreMaildirName parsed = { 0 };
          Entry e = { { 0 }, NO_MATCH };

          if (!bz_store_maildir_parse_name (name, &parsed))
            continue;
          digest_to_bytes (parsed.digest, e.digest);
          bz_store_maildir_name_clear (&parsed);
          g_array_append_val (entries, e);
        }
    }
  g_array_sort (entries, compare_entry);
  return TRUE;
}

/* The header block of the file at @path for the index; NULL when it
 * cannot be read (the row is still recorded, without headers). */
static BzDbHeaders *
read_headers (const char *path)
{
  g_autoptr (GByteArray) block = g_byte_array_new ();
  guint8 buf[16 * 1024];
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return NULL;
  while (block->len < HEADER_READ_MAX)
    {
      gssize n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (block, buf, (guint) n);
      /* the body is not needed: stop once the empty line has arrived */
      if (g_strstr_len ((const char *) block->data, block->len, "\n\n") != NULL)
        break;
    }
  close (fd);
  return bz_store_headers_parse ((const char *) block->data, MIN (block->len, HEADER_READ_MAX));
}

/* The size the server's LIST gives the message in the file at @path:
 * RFC 1939 counts CRLF line ends, the Maildir file has LF ones. The keep
 * policy DELEs only while LIST agrees with the recorded size, so a
 * rebuilt row must record what a normal sync would have. Falls back to
 * @file_size when the file cannot be read. */
static guint64
list_octets (const char *path, guint64 file_size)
{
  guint8 buf[64 * 1024];
  guint64 octets = 0;
  gboolean after_cr = FALSE;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return file_size;
  for (;;)
    {
      gssize n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          close (fd);
          return file_size;
        }
      if (n == 0)
        break;
      for (gssize i = 0; i < n; i++)
        {
          octets += (buf[i] == '\n' && !after_cr) ? 2 : 1;
          after_cr = buf[i] == '\r';
        }
    }
  close (fd);
  return octets;
}

/* Pass 2: a stored row for every file of ours whose digest a candidate
 * has (the first file found, should a client have copied one). */
static gboolean
record_matches (BzDb *db, const char *account, const char *maildir, const char *const *uidls,
                GArray *candidates, GArray *entries, guint8 *matched, guint *n_rebuilt,
                GError **error)
{
  for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
    {
      g_autofree char *dir_path = g_build_filename (maildir, subdirs[s], NULL);
      g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
      const char *name;

      if (dir == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          BzStoreMaildirName parsed = { 0 };
          g_autofree char *path = NULL;
          g_autoptr (BzDbHeaders) headers = NULL;
          Entry key = { { 0 }, NO_MATCH };
          Entry *e;
          const char *uidl;
          GStatBuf st;
          gint64 fetched;

          if (!bz_store_maildir_parse_name (name, &parsed))
            continue;
          digest_to_bytes (parsed.digest, key.digest);
          fetched = parsed.time;
          bz_store_maildir_name_clear (&parsed);
          e = bsearch (&key, entries->data, entries->len, sizeof (Entry), compare_entry);
          if (e == NULL || e->candidate == NO_MATCH || matched[e->candidate])
            continue;
          path = g_build_filename (dir_path, name, NULL);
          if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
            continue;
          uidl = uidls[g_array_index (candidates, guint, e->candidate)];
          headers = read_headers (path);
          if (!bz_db_add_pending (db, account, uidl, path, list_octets (path, (guint64) st.st_size),
                                  fetched, headers, error) ||
              !bz_db_set_stored (db, account, uidl, path, error))
            return FALSE;
          matched[e->candidate] = 1;
          (*n_rebuilt)++;
          g_debug ("%s: %s is already in the Maildir as %s", account, uidl, path);
        }
    }
  return TRUE;
}

gboolean
bz_store_rebuild (BzDb *db, const char *account, const char *maildir, const char *const *uidls,
                  GArray *candidates, guint *n_rebuilt, GError **error)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autofree guint8 *matched = NULL;
  g_autoptr (GError) local = NULL;
  guint n = 0, n_matching = 0;

  g_return_val_if_fail (BZ_IS_DB (db), FALSE);
  g_return_val_if_fail (account != NULL && maildir != NULL && candidates != NULL, FALSE);

  if (n_rebuilt != NULL)
    *n_rebuilt = 0;
  if (candidates->len == 0)
    return TRUE;
  if (!collect_digests (maildir, entries, error))
    return FALSE;
  if (entries->len == 0)
    return TRUE;
  for (guint i = 0; i < candidates->len; i++)
    {
      g_autofree char *hex =
          bz_store_maildir_digest (account, uidls[g_array_index (candidates, guint, i)]);
      Entry key = { { 0 }, NO_MATCH };
      Entry *e;

      digest_to_bytes (hex, key.digest);
      e = bsearch (&key, entries->data, entries->len, sizeof (Entry), compare_entry);
      if (e == NULL)
        continue;
      /* bsearch may land on any of equal digests: mark them all */
      while (e > (Entry *) entries->data && compare_entry (e - 1, &key) == 0)
        e--;
      for (; e < (Entry *) entries->data + entries->len && compare_entry (e, &key) == 0; e++)
        e->candidate = i;
      n_matching++;
    }
  if (n_matching == 0)
    return TRUE;

  matched = g_new0 (guint8, candidates->len);
  if (!bz_db_begin (db, &local))
    goto fail;
  if (!record_matches (db, account, maildir, uidls, candidates, entries, matched, &n, &local) ||
      !bz_db_commit (db, &local))
    {
      bz_db_rollback (db);
      goto fail;
    }
  /* what is in the Maildir is no longer a candidate for fetching */
  {
    guint kept = 0;

    for (guint i = 0; i < candidates->len; i++)
      {
        if (!matched[i])
          g_array_index (candidates, guint, kept++) = g_array_index (candidates, guint, i);
      }
    g_array_set_size (candidates, kept);
  }
  if (n_rebuilt != NULL)
    *n_rebuilt = n;
  return TRUE;

fail:
  g_set_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_DB,
               "Rebuilding the state of account %s from its Maildir: %s", account, local->message);
  return FALSE;
}
