/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bz_pop3_session_fetch_checked() against faultpop.py: each answer is
 * measured against LIST (octets as LIST counts them, a status line where
 * data should begin, a limit), nothing after an answer that does not fit
 * reaches the sink, and the digest tells "the same bytes again". */
#include "config.h"

#include <string.h>

#include "bz-pop3-test-sink.h"
#include "bz-test-util.h"

typedef struct
{
  BzTestSink *sink;
  GArray *facts;        /* BzPop3MessageFacts of each check() */
  gboolean accept_same; /* check() accepts a digest seen before */
} CheckSink;

static GHashTable *sinks; /* BzPop3MessageSink* -> CheckSink* */

static CheckSink *
check_sink_of (BzPop3MessageSink *parent)
{
  return g_hash_table_lookup (sinks, parent);
}

static gboolean
check_cb (BzPop3MessageSink *parent, guint msgno, const BzPop3MessageFacts *facts)
{
  CheckSink *c = check_sink_of (parent);

  for (guint i = 0; c->accept_same && i < c->facts->len; i++)
    {
      const BzPop3MessageFacts *seen = &g_array_index (c->facts, BzPop3MessageFacts, i);
      if (seen->digest == facts->digest && !facts->cut)
        {
          g_array_append_val (c->facts, *facts);
          return TRUE;
        }
    }
  g_array_append_val (c->facts, *facts);
  return FALSE;
}

static CheckSink *
check_sink_new (void)
{
  CheckSink *c = g_new0 (CheckSink, 1);

  c->sink = bz_test_sink_new ();
  c->sink->parent.check = check_cb;
  c->facts = g_array_new (FALSE, TRUE, sizeof (BzPop3MessageFacts));
  g_hash_table_insert (sinks, &c->sink->parent, c);
  return c;
}

static void
check_sink_free (CheckSink *c)
{
  g_hash_table_remove (sinks, &c->sink->parent);
  bz_test_sink_free (c->sink);
  g_array_unref (c->facts);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CheckSink, check_sink_free)

/* faultpop with the NULL-terminated arguments, logged in. */
static BzPop3Session *
session_new (GSubprocess **server, const char *first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  BzPop3SessionOptions options = { 0 };
  BzPop3Session *session;
  guint16 port = 0;
  va_list ap;

  g_ptr_array_add (args, (gpointer) "--lifetime");
  g_ptr_array_add (args, (gpointer) "60");
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  *server = bz_test_faultpop_startv ((const char *const *) args->pdata, &port, &error);
  g_assert_no_error (error);
  options.net.host = "127.0.0.1";
  options.net.port = port;
  options.net.connect_timeout_ms = 10000;
  options.net.io_timeout_ms = 10000;
  options.security = BZ_SECURITY_NONE;
  options.allow_plaintext = TRUE;
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_login (session, BZ_AUTH_USER, "test", "secret", NULL, &error));
  g_assert_no_error (error);
  return session;
}

static void
list_sizes (BzPop3Session *session, guint64 *sizes, guint n)
{
  g_autoptr (GArray) list = NULL;
  g_autoptr (GError) error = NULL;

  list = bz_pop3_session_list (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, n);
  for (guint i = 0; i < n; i++)
    sizes[i] = g_array_index (list, BzPop3ListEntry, i).size;
}

/* A correct server: every answer fits, check() is never asked, and the
 * octets counted are LIST's. */
static void
test_fit (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (BzPop3Session) session =
      session_new (&server, "--messages", "5", "--profile", "mixed", NULL);
  g_autoptr (CheckSink) c = check_sink_new ();
  g_autoptr (GError) error = NULL;
  guint msgnos[] = { 1, 2, 3, 4, 5 };
  guint64 sizes[5];
  BzPop3FetchOptions options = { sizes, 0, 0 };

  list_sizes (session, sizes, 5);
  g_assert_true (bz_pop3_session_fetch_checked (session, msgnos, 5, FALSE, 0, &options,
                                                &c->sink->parent, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->sink->n_end, ==, 5);
  g_assert_cmpuint (c->facts->len, ==, 0);
  g_assert_true (bz_pop3_session_quit (session, NULL, NULL));
}

/* One at a time, a size that disagrees fails that message only; the
 * stream stays in step, so it can be asked again at once, and the same
 * bytes come again (the same digest). */
static void
test_misfit_alone (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (BzPop3Session) session =
      session_new (&server, "--messages", "3", "--claim-size", "2", "100", NULL);
  g_autoptr (CheckSink) c = check_sink_new ();
  g_autoptr (GError) error = NULL;
  guint msgnos[] = { 1, 2, 3 };
  guint64 sizes[3];
  BzPop3FetchOptions options = { sizes, 0, 1 };
  BzPop3MessageFacts first;
  const BzPop3MessageFacts *f = &first;

  list_sizes (session, sizes, 3);
  g_assert_false (bz_pop3_session_fetch_checked (session, msgnos, 3, FALSE, 0, &options,
                                                 &c->sink->parent, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT);
  g_assert_true (bz_pop3_session_is_usable (session));
  g_assert_cmpuint (c->sink->n_end, ==, 1);
  g_assert_cmpuint (c->sink->n_begin, ==, 2); /* message 3 was never asked */
  g_assert_cmpuint (c->facts->len, ==, 1);
  /* a copy: the array grows below */
  first = g_array_index (c->facts, BzPop3MessageFacts, 0);
  g_assert_cmpuint (f->expected, ==, 100);
  g_assert_cmpuint (f->octets, >, 100);
  g_assert_false (f->status_first);
  g_assert_false (f->cut);

  g_clear_error (&error);
  c->accept_same = TRUE;
  options.sizes = sizes + 1;
  g_assert_true (bz_pop3_session_fetch_checked (session, msgnos + 1, 2, FALSE, 0, &options,
                                                &c->sink->parent, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->facts->len, ==, 2);
  g_assert_cmpuint (g_array_index (c->facts, BzPop3MessageFacts, 1).digest, ==, f->digest);
  g_assert_cmpuint (c->sink->n_end, ==, 3);
  g_assert_true (bz_pop3_session_quit (session, NULL, NULL));
}

/* Pipelined, an unsolicited +OK: the answer that takes it begins with a
 * status line; the answers after it never reach the sink and the session
 * is over. */
static void
test_misfit_pipelined (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (BzPop3Session) session =
      session_new (&server, "--messages", "6", "--extra-ok-before-retr", "3", NULL);
  g_autoptr (CheckSink) c = check_sink_new ();
  g_autoptr (GError) error = NULL;
  guint msgnos[] = { 1, 2, 3, 4, 5, 6 };
  guint64 sizes[6];
  BzPop3FetchOptions options = { sizes, 0, 0 };

  list_sizes (session, sizes, 6);
  g_assert_false (bz_pop3_session_fetch_checked (session, msgnos, 6, FALSE, 0, &options,
                                                 &c->sink->parent, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT);
  g_assert_false (bz_pop3_session_is_usable (session));
  g_assert_cmpuint (c->sink->n_end, ==, 2);
  g_assert_cmpuint (c->sink->n_begin, ==, 3);
  g_assert_nonnull (bz_test_sink_get (c->sink, 1));
  g_assert_nonnull (bz_test_sink_get (c->sink, 2));
  g_assert_null (bz_test_sink_get (c->sink, 3));
  g_assert_true (g_array_index (c->facts, BzPop3MessageFacts, 0).status_first);
  bz_pop3_session_abort (session);
}

/* Far more data than LIST said: cut off, check() told so. */
static void
test_cut (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (BzPop3Session) session = session_new (&server, "--messages", "2", "--claim-size", "1",
                                                   "10", "--pad", "1", "3000000", NULL);
  g_autoptr (CheckSink) c = check_sink_new ();
  g_autoptr (GError) error = NULL;
  guint msgnos[] = { 1, 2 };
  guint64 sizes[2];
  BzPop3FetchOptions options = { sizes, 0, 0 };
  const BzPop3MessageFacts *f;

  list_sizes (session, sizes, 2);
  g_assert_cmpuint (bz_pop3_fetch_limit (10, 0), ==, 20 + 64 * 1024);
  g_assert_cmpuint (bz_pop3_fetch_limit (10, 5), ==, 5);
  g_assert_cmpuint (bz_pop3_fetch_limit (0, 0), ==, 0);
  g_assert_cmpuint (bz_pop3_fetch_limit (G_MAXUINT64 / 2, 0), ==, G_MAXUINT64);
  g_assert_false (bz_pop3_session_fetch_checked (session, msgnos, 2, FALSE, 0, &options,
                                                 &c->sink->parent, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_TOO_LARGE);
  g_assert_cmpuint (c->facts->len, ==, 1);
  f = &g_array_index (c->facts, BzPop3MessageFacts, 0);
  g_assert_true (f->cut);
  g_assert_cmpuint (f->octets, >, bz_pop3_fetch_limit (10, 0));
  g_assert_cmpuint (f->octets, <, bz_pop3_fetch_limit (10, 0) + 128 * 1024);
  g_assert_cmpuint (c->sink->n_end, ==, 0);
  bz_pop3_session_abort (session);
}

/* A server counting LF line ends: the octets are LIST's plus one a line. */
static void
test_lf_sizes (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (BzPop3Session) session =
      session_new (&server, "--messages", "2", "--lf-sizes", "--no-pipelining", NULL);
  g_autoptr (CheckSink) c = check_sink_new ();
  g_autoptr (GError) error = NULL;
  guint msgnos[] = { 1, 2 };
  guint64 sizes[2];
  BzPop3FetchOptions options = { sizes, 0, 0 };
  const BzPop3MessageFacts *f;

  list_sizes (session, sizes, 2);
  g_assert_false (bz_pop3_session_fetch_checked (session, msgnos, 2, FALSE, 0, &options,
                                                 &c->sink->parent, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT);
  /* without PIPELINING nothing else was in flight */
  g_assert_true (bz_pop3_session_is_usable (session));
  f = &g_array_index (c->facts, BzPop3MessageFacts, 0);
  g_assert_cmpuint (f->octets, ==, f->expected + f->lines);
  g_assert_cmpuint (f->status_octets, ==, f->expected);
  g_assert_true (bz_pop3_session_quit (session, NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sinks = g_hash_table_new (NULL, NULL);
  g_test_add_func ("/pop3/wire/fit", test_fit);
  g_test_add_func ("/pop3/wire/misfit-alone", test_misfit_alone);
  g_test_add_func ("/pop3/wire/misfit-pipelined", test_misfit_pipelined);
  g_test_add_func ("/pop3/wire/cut", test_cut);
  g_test_add_func ("/pop3/wire/lf-sizes", test_lf_sizes);
  return g_test_run ();
}
