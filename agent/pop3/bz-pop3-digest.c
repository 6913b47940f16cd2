/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Four independent lanes over 32-byte blocks: one lane's multiply chain
 * waits on the one before it, four keep the multiplier busy, so the hash
 * costs a fraction of what copying the bytes to disk does. */
#include "config.h"

#include <string.h>

#include "bz-pop3-digest.h"

#define BLOCK (BZ_POP3_DIGEST_LANES * 8)

static inline guint64
mix (guint64 h, guint64 word)
{
  h = (h ^ word) * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  return h ^ (h >> 29);
}

static inline void
block (guint64 *lane, const guint8 *p)
{
  for (guint i = 0; i < BZ_POP3_DIGEST_LANES; i++)
    {
      guint64 word;

      memcpy (&word, p + 8 * i, 8);
      lane[i] = mix (lane[i], GUINT64_FROM_LE (word));
    }
}

void
bz_pop3_digest_init (BzPop3Digest *digest)
{
  g_return_if_fail (digest != NULL);
  memset (digest, 0, sizeof *digest);
  /* Distinct seeds, so that equal words in different lanes differ. */
  for (guint i = 0; i < BZ_POP3_DIGEST_LANES; i++)
    digest->lane[i] = G_GUINT64_CONSTANT (0x243f6a8885a308d3) * (i + 1);
}

void
bz_pop3_digest_update (BzPop3Digest *digest, const void *data, gsize len)
{
  const guint8 *p = data;

  g_return_if_fail (digest != NULL);
  g_return_if_fail (data != NULL || len == 0);
  digest->length += len;
  if (digest->carry_len > 0)
    {
      gsize take = MIN (len, BLOCK - digest->carry_len);

      memcpy (digest->carry + digest->carry_len, p, take);
      digest->carry_len += take;
      p += take;
      len -= take;
      if (digest->carry_len < BLOCK)
        return;
      block (digest->lane, digest->carry);
      digest->carry_len = 0;
    }
  for (; len >= BLOCK; p += BLOCK, len -= BLOCK)
    block (digest->lane, p);
  memcpy (digest->carry, p, len);
  digest->carry_len = len;
}

guint64
bz_pop3_digest_finish (const BzPop3Digest *digest)
{
  guint8 tail[BLOCK] = { 0 };
  guint64 lane[BZ_POP3_DIGEST_LANES];
  guint64 h;

  g_return_val_if_fail (digest != NULL, 0);
  memcpy (lane, digest->lane, sizeof lane);
  /* The tail is zero-padded; the length tells "ab" from "ab\0". */
  memcpy (tail, digest->carry, digest->carry_len);
  block (lane, tail);
  h = digest->length;
  for (guint i = 0; i < BZ_POP3_DIGEST_LANES; i++)
    h = mix (h, lane[i]);
  return mix (h, digest->length);
}
