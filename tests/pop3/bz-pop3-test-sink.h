/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A message sink for the POP3 tests: keeps each retrieved message in
 * memory and checks the begin/write/end/fail protocol as it goes. */
#pragma once

#include "bz-pop3-session.h"

G_BEGIN_DECLS

typedef struct
{
  BzPop3MessageSink parent;
  GHashTable *messages; /* msgno -> GBytes of complete messages */
  GByteArray *current;  /* between begin and end */
  guint current_msgno;
  guint n_begin;
  guint n_end;
  guint n_fail;
  guint n_write;
  GArray *failed; /* of guint msgno */
  GError *last_fail;
  GArray *order; /* of guint msgno, in end() order */
} BzTestSink;

BzTestSink *bz_test_sink_new (void);
void bz_test_sink_free (BzTestSink *sink);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzTestSink, bz_test_sink_free)
/* Borrowed; the complete message @msgno or NULL. */
GBytes *bz_test_sink_get (BzTestSink *sink, guint msgno);
/* Returns the Message-ID of @data without brackets (transfer full) or NULL. */
char *bz_test_message_id (const char *data, gsize len);

G_END_DECLS
