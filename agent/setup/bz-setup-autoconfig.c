/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Thunderbird's autoconfig format (clientConfig, config-v1.1.xml), read
 * with GMarkup: the file is small and only a handful of elements matter,
 * so a full XML library would add a dependency for nothing. */

#include "config.h"

#include <string.h>

#include "bz-setup.h"

char **
bz_setup_autoconfig_urls (const char *address, const char *domain)
{
  g_autofree char *escaped = g_uri_escape_string (address, NULL, FALSE);
  char **urls = g_new0 (char *, 3);

  urls[0] = g_strdup_printf ("https://autoconfig.%s/mail/config-v1.1.xml?emailaddress=%s", domain,
                             escaped);
  urls[1] = g_strdup_printf ("https://%s/.well-known/autoconfig/mail/config-v1.1.xml", domain);
  return urls;
}

/* One <incomingServer type="pop3"> as written. */
typedef struct
{
  char *hostname;
  char *port;
  char *socket_type;
  char *username;
  GPtrArray *auth; /* <authentication> values */
} Candidate;

static void
candidate_free (Candidate *c)
{
  g_free (c->hostname);
  g_free (c->port);
  g_free (c->socket_type);
  g_free (c->username);
  g_ptr_array_unref (c->auth);
  g_free (c);
}

typedef struct
{
  gboolean seen_root;
  guint depth;           /* element depth */
  guint server_depth;    /* depth of the open pop3 incomingServer, 0 = none */
  Candidate *current;    /* the open pop3 server */
  GString *text;         /* text of the open child element */
  const char *child;     /* which child element is open, or NULL */
  GPtrArray *candidates; /* Candidate* */
} ParseState;

static void
on_start (GMarkupParseContext *context, const char *element, const char **names,
          const char **values, gpointer user_data, GError **error)
{
  ParseState *st = user_data;

  st->depth++;
  if (st->depth == 1)
    {
      if (strcmp (element, "clientConfig") != 0)
        {
          g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                       "not an autoconfig file: the root element is <%s>, not <clientConfig>",
                       element);
          return;
        }
      st->seen_root = TRUE;
      return;
    }
  if (st->current == NULL && strcmp (element, "incomingServer") == 0)
    {
      for (guint i = 0; names[i] != NULL; i++)
        {
          if (strcmp (names[i], "type") == 0 && g_ascii_strcasecmp (values[i], "pop3") == 0)
            {
              st->current = g_new0 (Candidate, 1);
              st->current->auth = g_ptr_array_new_with_free_func (g_free);
              st->server_depth = st->depth;
            }
        }
      return;
    }
  /* only the direct children of the server: <pop3> has its own elements */
  if (st->current != NULL && st->depth == st->server_depth + 1)
    {
      static const char *const wanted[] = { "hostname", "port",           "socketType",
                                            "username", "authentication", NULL };
      for (guint i = 0; wanted[i] != NULL; i++)
        {
          if (strcmp (element, wanted[i]) == 0)
            {
              st->child = wanted[i];
              g_string_truncate (st->text, 0);
            }
        }
    }
}

static void
set_once (char **slot, const char *value)
{
  if (*slot == NULL)
    *slot = g_strdup (value);
}

static void
on_end (GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
  ParseState *st = user_data;

  if (st->child != NULL && st->depth == st->server_depth + 1)
    {
      g_autofree char *value = g_strstrip (g_strdup (st->text->str));
      Candidate *c = st->current;

      if (strcmp (st->child, "hostname") == 0)
        set_once (&c->hostname, value);
      else if (strcmp (st->child, "port") == 0)
        set_once (&c->port, value);
      else if (strcmp (st->child, "socketType") == 0)
        set_once (&c->socket_type, value);
      else if (strcmp (st->child, "username") == 0)
        set_once (&c->username, value);
      else
        g_ptr_array_add (c->auth, g_steal_pointer (&value));
      st->child = NULL;
    }
  else if (st->current != NULL && st->depth == st->server_depth)
    {
      g_ptr_array_add (st->candidates, st->current);
      st->current = NULL;
      st->server_depth = 0;
    }
  st->depth--;
}

static void
on_text (GMarkupParseContext *context, const char *text, gsize len, gpointer user_data,
         GError **error)
{
  ParseState *st = user_data;

  if (st->child != NULL)
    g_string_append_len (st->text, text, (gssize) len);
}

static char *
expand (const char *value, const char *address)
{
  const char *at = strrchr (address, '@');
  g_autofree char *local = g_strndup (address, at - address);
  g_autoptr (GString) out = g_string_new (value);

  g_string_replace (out, "%EMAILADDRESS%", address, 0);
  g_string_replace (out, "%EMAILLOCALPART%", local, 0);
  g_string_replace (out, "%EMAILDOMAIN%", at + 1, 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
host_is_plausible (const char *host)
{
  gsize len = strlen (host);

  if (len == 0 || len > 253 || host[0] == '.' || host[0] == '-')
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
        return FALSE;
    }
  return TRUE;
}

/* The OAuth2 provider buzon knows for @host, or NULL. */
static const char *
oauth2_provider_for_host (const char *host)
{
  g_autofree char *h = g_ascii_strdown (host, -1);

  if (g_str_equal (h, "pop.gmail.com") || g_str_has_suffix (h, ".gmail.com") ||
      g_str_has_suffix (h, ".googlemail.com") || g_str_has_suffix (h, ".google.com"))
    return "google";
  if (g_str_equal (h, "outlook.office365.com") || g_str_has_suffix (h, ".office365.com") ||
      g_str_has_suffix (h, ".outlook.com"))
    return "microsoft";
  return NULL;
}

/* Rank of a candidate: lower is better, G_MAXUINT = unusable. Fills
 * @server when usable. */
static guint
judge (Candidate *c, const char *address, BzSetupServer **server)
{
  g_autoptr (BzSetupServer) s = g_new0 (BzSetupServer, 1);
  gboolean password = c->auth->len == 0, oauth2 = FALSE;
  guint64 port = 0;
  guint rank;

  if (c->hostname == NULL)
    return G_MAXUINT;
  s->host = expand (c->hostname, address);
  if (!host_is_plausible (s->host))
    return G_MAXUINT;
  if (c->socket_type == NULL || g_ascii_strcasecmp (c->socket_type, "SSL") == 0)
    s->security = BZ_SECURITY_TLS, rank = 0;
  else if (g_ascii_strcasecmp (c->socket_type, "STARTTLS") == 0)
    s->security = BZ_SECURITY_STARTTLS, rank = 1;
  else if (g_ascii_strcasecmp (c->socket_type, "plain") == 0)
    s->security = BZ_SECURITY_NONE, rank = 2;
  else
    return G_MAXUINT;
  if (c->port != NULL && !g_ascii_string_to_unsigned (c->port, 10, 1, G_MAXUINT16, &port, NULL))
    return G_MAXUINT;
  s->port = port != 0 ? (guint16) port : s->security == BZ_SECURITY_TLS ? 995 : 110;
  for (guint i = 0; i < c->auth->len; i++)
    {
      const char *a = g_ptr_array_index (c->auth, i);

      if (g_ascii_strcasecmp (a, "password-cleartext") == 0 ||
          g_ascii_strcasecmp (a, "plain") == 0 ||
          g_ascii_strcasecmp (a, "password-encrypted") == 0 ||
          g_ascii_strcasecmp (a, "secure") == 0)
        password = TRUE;
      else if (g_ascii_strcasecmp (a, "OAuth2") == 0)
        oauth2 = TRUE;
    }
  /* A provider that offers OAuth2 is usually about to turn passwords off
   * (Microsoft has); but OAuth2 needs an identity provider buzon knows. */
  if (oauth2 && oauth2_provider_for_host (s->host) != NULL)
    s->oauth2 = g_strdup (oauth2_provider_for_host (s->host));
  else if (!password)
    return G_MAXUINT;
  if (c->username != NULL && c->username[0] != '\0')
    s->user = expand (c->username, address);
  *server = g_steal_pointer (&s);
  return rank;
}

BzSetupServer *
bz_setup_autoconfig_parse (const char *xml, gssize len, const char *address, GError **error)
{
  static const GMarkupParser parser = { on_start, on_end, on_text, NULL, NULL };
  g_autoptr (GPtrArray) candidates =
      g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  g_autoptr (GString) text = g_string_new (NULL);
  ParseState st = { .text = text, .candidates = candidates };
  g_autoptr (GMarkupParseContext) context = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (BzSetupServer) best = NULL;
  guint best_rank = G_MAXUINT;

  context = g_markup_parse_context_new (&parser, G_MARKUP_PREFIX_ERROR_POSITION, &st, NULL);
  if (!g_markup_parse_context_parse (context, xml, len, &local_error) ||
      !g_markup_parse_context_end_parse (context, &local_error))
    {
      if (st.current != NULL)
        candidate_free (st.current);
      if (local_error->domain == BZ_SETUP_ERROR)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP, "not an autoconfig file: %s",
                     local_error->message);
      return NULL;
    }
  if (!st.seen_root)
    {
      g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                           "not an autoconfig file: empty");
      return NULL;
    }
  for (guint i = 0; i < candidates->len; i++)
    {
      BzSetupServer *s = NULL;
      guint rank = judge (g_ptr_array_index (candidates, i), address, &s);

      if (rank < best_rank)
        {
          g_clear_pointer (&best, bz_setup_server_free);
          best = s;
          best_rank = rank;
        }
      else if (s != NULL)
        {
          bz_setup_server_free (s);
        }
    }
  if (best == NULL)
    {
      if (candidates->len == 0)
        g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_NOT_FOUND,
                             "no POP3 server in it");
      else
        g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_NOT_FOUND,
                     "no POP3 server buzon can sign in to (%u listed)", candidates->len);
      return NULL;
    }
  return g_steal_pointer (&best);
}
