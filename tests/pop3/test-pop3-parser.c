/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the POP3 response parser: no network. Events are recorded
 * as text with data fragments joined per line, so that any split of the
 * input must give the same transcript. */
#include "config.h"

#include <string.h>

#include "bz-pop3-digest.h"
#include "bz-pop3-error.h"
#include "bz-pop3-parser.h"

typedef struct
{
  GString *log;
  GString *line; /* data of the current line so far */
  gsize max_fragment;
  gsize total_data;
  gboolean keep_lines; /* FALSE for the huge tests: count, don't log */
  gboolean fail_in_data;
} Recorder;

static gboolean
rec_status (gpointer user_data, gboolean ok, gboolean continuation, const char *code,
            const char *text, GError **error)
{
  Recorder *rec = user_data;
  g_string_append_printf (rec->log, "S%s%s [%s] <%s>\n", ok ? "+" : "-", continuation ? "c" : "",
                          code != NULL ? code : "", text);
  return TRUE;
}

static gboolean
rec_data (gpointer user_data, const char *data, gsize len, gboolean eol, GError **error)
{
  Recorder *rec = user_data;

  if (rec->fail_in_data)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "sink says no");
      return FALSE;
    }
  rec->max_fragment = MAX (rec->max_fragment, len);
  rec->total_data += len;
  if (rec->keep_lines)
    g_string_append_len (rec->line, data, len);
  if (eol && rec->keep_lines)
    {
      g_string_append_printf (rec->log, "L<%s>\n", rec->line->str);
      g_string_truncate (rec->line, 0);
    }
  else if (eol)
    {
      g_string_append_printf (rec->log, "L%" G_GSIZE_FORMAT "\n", rec->total_data);
    }
  return TRUE;
}

static gboolean
rec_end (gpointer user_data, GError **error)
{
  Recorder *rec = user_data;
  g_assert_cmpuint (rec->line->len, ==, 0);
  g_string_append (rec->log, "E\n");
  return TRUE;
}

static const BzPop3ParserCallbacks rec_callbacks = {
  .status = rec_status,
  .data = rec_data,
  .end = rec_end,
};

static void
rec_init (Recorder *rec)
{
  memset (rec, 0, sizeof (*rec));
  rec->log = g_string_new (NULL);
  rec->line = g_string_new (NULL);
  rec->keep_lines = TRUE;
}

static void
rec_clear (Recorder *rec)
{
  g_string_free (rec->log, TRUE);
  g_string_free (rec->line, TRUE);
}

/* Parses @input (fed in two pieces at @split, or byte by byte when @split
 * is G_MAXSIZE) with @expects queued; returns the transcript. */
static char *
parse_split (const char *input, gsize len, const BzPop3Expect *expects, guint n_expects,
             gsize split, GError **error)
{
  Recorder rec;
  g_autoptr (BzPop3Parser) parser = NULL;
  gboolean ok = TRUE;
  char *result = NULL;

  rec_init (&rec);
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  for (guint i = 0; i < n_expects; i++)
    bz_pop3_parser_expect (parser, expects[i]);
  if (split == G_MAXSIZE)
    {
      for (gsize i = 0; i < len && ok; i++)
        ok = bz_pop3_parser_feed (parser, input + i, 1, error);
    }
  else
    {
      ok = bz_pop3_parser_feed (parser, input, split, error) &&
           bz_pop3_parser_feed (parser, input + split, len - split, error);
    }
  if (ok)
    {
      g_assert_cmpuint (bz_pop3_parser_pending (parser), ==, 0);
      result = g_strdup (rec.log->str);
    }
  rec_clear (&rec);
  return result;
}

static char *
parse (const char *input, const BzPop3Expect *expects, guint n_expects, GError **error)
{
  Recorder rec;
  g_autoptr (BzPop3Parser) parser = NULL;
  char *result;

  rec_init (&rec);
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  for (guint i = 0; i < n_expects; i++)
    bz_pop3_parser_expect (parser, expects[i]);
  if (!bz_pop3_parser_feed (parser, input, strlen (input), error))
    {
      rec_clear (&rec);
      return NULL;
    }
  result = g_strdup (rec.log->str);
  rec_clear (&rec);
  return result;
}

static void
test_parser_status (void)
{
  static const struct
  {
    const char *input;
    const char *expected;
  } cases[] = {
    { "+OK\r\n", "S+ [] <>\n" },
    { "+OK \r\n", "S+ [] <>\n" },
    { "+OK Dovecot ready. <1.2@x>\r\n", "S+ [] <Dovecot ready. <1.2@x>>\n" },
    { "-ERR\n", "S- [] <>\n" },
    { "-ERR no such message\r\n", "S- [] <no such message>\n" },
    { "-ERR [IN-USE] Mailbox locked\r\n", "S- [IN-USE] <Mailbox locked>\n" },
    { "-ERR [LOGIN-DELAY] wait\r\n", "S- [LOGIN-DELAY] <wait>\n" },
    { "-ERR [SYS/TEMP] try later\r\n", "S- [SYS/TEMP] <try later>\n" },
    { "-ERR [SYS/PERM] gone\r\n", "S- [SYS/PERM] <gone>\n" },
    { "-ERR [AUTH] Authentication failed.\r\n", "S- [AUTH] <Authentication failed.>\n" },
    { "-ERR [SYS/TEMP/DISK] nested\r\n", "S- [SYS/TEMP/DISK] <nested>\n" },
    { "-ERR [X-UNKNOWN] whatever\r\n", "S- [X-UNKNOWN] <whatever>\n" },
    { "-ERR [unterminated code\r\n", "S- [] <[unterminated code>\n" },
    { "-ERR [] empty\r\n", "S- [] <[] empty>\n" },
    { "+ok lower case\r\n", "S+ [] <lower case>\n" },
    { "+OK caf\xc3\xa9 \xe2\x9c\x93\r\n", "S+ [] <caf\xc3\xa9 \xe2\x9c\x93>\n" },
    { "+OK bare\rcr\r\n", "S+ [] <bare\rcr>\n" },
  };
  BzPop3Expect single = BZ_POP3_EXPECT_SINGLE;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *log = parse (cases[i].input, &single, 1, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (log, ==, cases[i].expected);
    }
}

static void
test_parser_multi (void)
{
  BzPop3Expect multi = BZ_POP3_EXPECT_MULTI;
  BzPop3Expect two[] = { BZ_POP3_EXPECT_MULTI, BZ_POP3_EXPECT_MULTI };
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_autofree char *log_err = NULL;
  g_autofree char *log_empty = NULL;

  log = parse ("+OK 5 octets\r\n"
               "..x\r\n"
               "...\r\n"
               "a.b.\r\n"
               "bare lf\n"
               "\r\n"
               "lone\rcr\r\n"
               ".\r\n",
               &multi, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log, ==,
                   "S+ [] <5 octets>\n"
                   "L<.x>\n"
                   "L<..>\n"
                   "L<a.b.>\n"
                   "L<bare lf>\n"
                   "L<>\n"
                   "L<lone\rcr>\n"
                   "E\n");

  /* -ERR to a multi-line command has no data; the next response follows. */
  log_err = parse ("-ERR [SYS/TEMP] busy\r\n+OK\r\nline\n.\n", two, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log_err, ==, "S- [SYS/TEMP] <busy>\nS+ [] <>\nL<line>\nE\n");

  log_empty = parse ("+OK\r\n.\r\n", &multi, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log_empty, ==, "S+ [] <>\nE\n");
}

static void
test_parser_continuation (void)
{
  BzPop3Expect cont[] = { BZ_POP3_EXPECT_CONTINUATION, BZ_POP3_EXPECT_CONTINUATION,
                          BZ_POP3_EXPECT_CONTINUATION };
  BzPop3Expect single = BZ_POP3_EXPECT_SINGLE;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_autofree char *bad = NULL;

  log = parse ("+ \r\n+\r\n-ERR [AUTH] no\r\n", cont, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log, ==, "S+c [] <>\nS+c [] <>\nS- [AUTH] <no>\n");

  /* "+ " only answers an AUTH step. */
  bad = parse ("+ \r\n", &single, 1, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  g_assert_null (bad);
}

static const char sample_session[] =
    "+OK Dovecot (Debian) ready. <12.34@host>\r\n"
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nSASL PLAIN\r\nUSER\r\n.\r\n"
    "+OK\r\n1 000000014f2a\r\n2 000000024f2a\n.\r\n"
    "+OK 64 octets\r\nSubject: hi\r\nFrom: a@b\n\r\n..leading dot\r\n.\r\r\n"
    "a . inside\r\nlone\rcr\r\n..\r\n.\r\n"
    "+OK 7 octets\nbody\n.\n"
    "+OK Marked to be deleted.\r\n"
    "+OK Logging out.\r\n";

static const BzPop3Expect sample_expects[] = {
  BZ_POP3_EXPECT_SINGLE, BZ_POP3_EXPECT_MULTI,  BZ_POP3_EXPECT_MULTI,  BZ_POP3_EXPECT_MULTI,
  BZ_POP3_EXPECT_MULTI,  BZ_POP3_EXPECT_SINGLE, BZ_POP3_EXPECT_SINGLE,
};

static void
test_parser_splits (void)
{
  gsize len = strlen (sample_session);
  g_autoptr (GError) error = NULL;
  g_autofree char *whole = NULL;
  g_autofree char *bytewise = NULL;

  whole =
      parse_split (sample_session, len, sample_expects, G_N_ELEMENTS (sample_expects), len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (whole, "L<.leading dot>\nL<\r>\nL<a . inside>\n"
                                   "L<lone\rcr>\nL<.>\nE\n"));
  g_assert_nonnull (strstr (whole, "L<2 000000024f2a>\nE\n"));
  g_assert_nonnull (strstr (whole, "S+ [] <Logging out.>\n"));

  for (gsize i = 0; i <= len; i++)
    {
      g_autofree char *log = parse_split (sample_session, len, sample_expects,
                                          G_N_ELEMENTS (sample_expects), i, &error);
      g_assert_no_error (error);
      if (g_strcmp0 (log, whole) != 0)
        g_error ("split at %" G_GSIZE_FORMAT " differs:\n%s\nvs\n%s", i, log, whole);
    }
  bytewise = parse_split (sample_session, len, sample_expects, G_N_ELEMENTS (sample_expects),
                          G_MAXSIZE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bytewise, ==, whole);
}

static void
test_parser_big_data_line (void)
{
  const gsize big = 1024 * 1024;
  const gsize chunk = 4096;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Parser) parser = NULL;
  g_autoptr (GString) input = g_string_new ("+OK\r\nfirst\r\n");
  Recorder rec;

  for (gsize i = 0; i < big; i++)
    g_string_append_c (input, 'a' + (i % 26));
  g_string_append (input, "\r\nlast\r\n.\r\n");

  rec_init (&rec);
  rec.keep_lines = FALSE;
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  bz_pop3_parser_expect (parser, BZ_POP3_EXPECT_MULTI);
  for (gsize off = 0; off < input->len; off += chunk)
    {
      gboolean ok =
          bz_pop3_parser_feed (parser, input->str + off, MIN (chunk, input->len - off), &error);
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  /* Streamed, not buffered: no fragment is bigger than one feed. */
  g_assert_cmpuint (rec.max_fragment, <=, chunk);
  g_assert_cmpuint (rec.total_data, ==, strlen ("first") + big + strlen ("last"));
  g_assert_cmpstr (rec.log->str, ==, "S+ [] <>\nL5\nL1048581\nL1048585\nE\n");
  g_assert_cmpuint (bz_pop3_parser_pending (parser), ==, 0);
  rec_clear (&rec);
}

static void
test_parser_long_status (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Parser) parser = NULL;
  g_autofree char *line = g_malloc (1024 * 1024);
  Recorder rec;
  gboolean ok;

  memcpy (line, "+OK ", 4);
  memset (line + 4, 'x', 1024 * 1024 - 4);
  rec_init (&rec);
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  bz_pop3_parser_expect (parser, BZ_POP3_EXPECT_SINGLE);
  ok = bz_pop3_parser_feed (parser, line, 1024 * 1024, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LINE_TOO_LONG);
  g_assert_false (ok);
  g_assert_cmpstr (rec.log->str, ==, "");
  rec_clear (&rec);
}

static void
test_parser_endless_data (void)
{
  const gsize chunk = 64 * 1024;
  const gsize total = 10 * 1024 * 1024;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Parser) parser = NULL;
  g_autofree char *buf = g_malloc (chunk);
  Recorder rec;
  gsize fed = 0;
  gboolean ok;

  memset (buf, 'y', chunk);
  rec_init (&rec);
  rec.keep_lines = FALSE;
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  bz_pop3_parser_expect (parser, BZ_POP3_EXPECT_MULTI);
  ok = bz_pop3_parser_feed (parser, "+OK\r\n", 5, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  while (ok && fed < total)
    {
      ok = bz_pop3_parser_feed (parser, buf, chunk, &error);
      fed += chunk;
    }
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LINE_TOO_LONG);
  g_assert_false (ok);
  g_assert_cmpuint (fed, <=, BZ_POP3_PARSER_MAX_DATA_LINE + chunk);
  g_assert_cmpuint (rec.max_fragment, <=, chunk);

  /* Once failed, the parser stays failed. */
  g_clear_error (&error);
  g_assert_false (bz_pop3_parser_feed (parser, "\r\n", 2, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  rec_clear (&rec);
}

static void
test_parser_limits (void)
{
  BzPop3Expect multi = BZ_POP3_EXPECT_MULTI;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Parser) parser = NULL;
  Recorder rec;

  rec_init (&rec);
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  bz_pop3_parser_set_limits (parser, 16, 8);
  bz_pop3_parser_expect (parser, multi);
  g_assert_true (bz_pop3_parser_feed (parser, "+OK\r\n12345678\r\n", 15, &error));
  g_assert_no_error (error);
  g_assert_false (bz_pop3_parser_feed (parser, "123456789\r\n", 11, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LINE_TOO_LONG);
  rec_clear (&rec);
}

static void
test_parser_garbage (void)
{
  static const char *const inputs[] = {
    "HTTP/1.1 200 OK\r\n", "* OK IMAP4rev1 ready\r\n",
    "220 smtp ESMTP\r\n",  "+OKAY\r\n",
    "-ERROR\r\n",          "\r\n",
  };
  BzPop3Expect single = BZ_POP3_EXPECT_SINGLE;

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *log = parse (inputs[i], &single, 1, &error);
      g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
      g_assert_null (log);
    }
}

static void
test_parser_unexpected (void)
{
  BzPop3Expect single = BZ_POP3_EXPECT_SINGLE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autofree char *log = NULL;
  g_autofree char *log2 = NULL;

  log = parse ("+OK hello\r\n", NULL, 0, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  g_assert_null (log);

  /* A second response nobody asked for (e.g. injected after STLS). */
  log2 = parse ("+OK begin TLS\r\n+OK injected\r\n", &single, 1, &error2);
  g_assert_error (error2, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  g_assert_null (log2);
}

static void
test_parser_nul (void)
{
  BzPop3Expect single = BZ_POP3_EXPECT_SINGLE;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Parser) parser = NULL;
  Recorder rec;

  rec_init (&rec);
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  bz_pop3_parser_expect (parser, single);
  g_assert_false (bz_pop3_parser_feed (parser, "+OK a\0b\r\n", 9, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  g_assert_cmpstr (rec.log->str, ==, "");
  rec_clear (&rec);
}

static void
test_parser_callback_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Parser) parser = NULL;
  Recorder rec;

  rec_init (&rec);
  rec.fail_in_data = TRUE;
  parser = bz_pop3_parser_new (&rec_callbacks, &rec);
  bz_pop3_parser_expect (parser, BZ_POP3_EXPECT_MULTI);
  g_assert_cmpuint (bz_pop3_parser_pending (parser), ==, 1);
  g_assert_false (bz_pop3_parser_feed (parser, "+OK\r\nline\r\n.\r\n", 14, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  rec_clear (&rec);
}

static guint64
digest_of_pieces (const guint8 *data, gsize len, const gsize *cuts, gsize n_cuts)
{
  BzPop3Digest digest;
  gsize at = 0;

  bz_pop3_digest_init (&digest);
  for (gsize i = 0; i < n_cuts; i++)
    {
      bz_pop3_digest_update (&digest, data + at, cuts[i] - at);
      at = cuts[i];
    }
  bz_pop3_digest_update (&digest, data + at, len - at);
  return bz_pop3_digest_finish (&digest);
}

/* The digest of an answer must not depend on how the network and the sink
 * buffer cut it into pieces, and must tell apart answers that differ in
 * one byte, in length only, or by words swapped between lanes. */
static void
test_digest (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (18);
  guint8 data[1000];
  guint8 other[sizeof data];
  guint64 whole;

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) g_rand_int (rand);
  whole = digest_of_pieces (data, sizeof data, NULL, 0);

  for (gsize cut = 0; cut <= sizeof data; cut++)
    g_assert_cmpuint (digest_of_pieces (data, sizeof data, &cut, 1), ==, whole);
  for (guint round = 0; round < 200; round++)
    {
      gsize cuts[40];
      gsize n = g_rand_int_range (rand, 1, G_N_ELEMENTS (cuts));

      for (gsize i = 0; i < n; i++)
        cuts[i] = g_rand_int_range (rand, 0, sizeof data + 1);
      for (gsize i = 1; i < n; i++)
        for (gsize j = i; j > 0 && cuts[j - 1] > cuts[j]; j--)
          {
            gsize t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
          }
      g_assert_cmpuint (digest_of_pieces (data, sizeof data, cuts, n), ==, whole);
    }

  for (gsize at = 0; at < sizeof data; at += 7)
    {
      memcpy (other, data, sizeof data);
      other[at] ^= 0x01;
      g_assert_cmpuint (digest_of_pieces (other, sizeof other, NULL, 0), !=, whole);
    }
  /* The first two 8-byte words of a block land in different lanes. */
  memcpy (other, data, sizeof data);
  memcpy (other, data + 8, 8);
  memcpy (other + 8, data, 8);
  g_assert_cmpuint (digest_of_pieces (other, sizeof other, NULL, 0), !=, whole);

  memset (other, 0, sizeof other);
  for (gsize len = 1; len < 70; len++)
    g_assert_cmpuint (digest_of_pieces (other, len, NULL, 0), !=,
                      digest_of_pieces (other, len - 1, NULL, 0));
  for (gsize len = 1; len < sizeof data; len++)
    g_assert_cmpuint (digest_of_pieces (data, len, NULL, 0), !=, whole);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pop3/parser/status", test_parser_status);
  g_test_add_func ("/pop3/parser/multi", test_parser_multi);
  g_test_add_func ("/pop3/parser/continuation", test_parser_continuation);
  g_test_add_func ("/pop3/parser/splits", test_parser_splits);
  g_test_add_func ("/pop3/parser/big-data-line", test_parser_big_data_line);
  g_test_add_func ("/pop3/parser/long-status", test_parser_long_status);
  g_test_add_func ("/pop3/parser/endless-data", test_parser_endless_data);
  g_test_add_func ("/pop3/parser/limits", test_parser_limits);
  g_test_add_func ("/pop3/parser/garbage", test_parser_garbage);
  g_test_add_func ("/pop3/parser/unexpected", test_parser_unexpected);
  g_test_add_func ("/pop3/parser/nul", test_parser_nul);
  g_test_add_func ("/pop3/parser/callback-error", test_parser_callback_error);
  g_test_add_func ("/pop3/digest", test_digest);
  return g_test_run ();
}
