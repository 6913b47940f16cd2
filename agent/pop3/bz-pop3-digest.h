/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A 64-bit hash of a RETR answer's data, the same however the data is
 * split into pieces: enough to tell "the same bytes again" from "other
 * bytes" when a server's sizes disagree (not a defence against the server,
 * which chooses the bytes anyway), and cheap enough to run on every byte
 * of every message. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BZ_POP3_DIGEST_LANES 4

typedef struct
{
  guint64 lane[BZ_POP3_DIGEST_LANES];
  guint8 carry[BZ_POP3_DIGEST_LANES * 8]; /* bytes short of a whole block */
  guint carry_len;
  guint64 length;
} BzPop3Digest;

/* Starts @digest afresh (caller-owned storage, nothing to free). */
void bz_pop3_digest_init (BzPop3Digest *digest);
void bz_pop3_digest_update (BzPop3Digest *digest, const void *data, gsize len);
/* The hash of everything given to update() since init(). */
guint64 bz_pop3_digest_finish (const BzPop3Digest *digest);

G_END_DECLS
