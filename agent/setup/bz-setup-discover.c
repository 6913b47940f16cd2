/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Finding the POP3 server of an address, in the order of issue 16:
 * autoconfig, RFC 6186 SRV records, the built-in providers, a guess. */

#include "config.h"

#include <string.h>

#include "bz-setup.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - setup - error - quark, bz_setup_error)
/* clang-format on */

/* a real clientConfig file is a few KiB */
#define BZ_SETUP_AUTOCONFIG_MAX (256 * 1024)

void
bz_setup_server_free (BzSetupServer *server)
{
  if (server == NULL)
    return;
  g_free (server->host);
  g_free (server->user);
  g_free (server->oauth2);
  g_free (server->source_detail);
  g_free (server);
}

G_GNUC_PRINTF (2, 3)
static void
tried_add (GPtrArray *tried, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (tried, g_strdup_vprintf (format, args));
  va_end (args);
}

static BzSetupServer *
try_autoconfig (const char *url, const char *address, gboolean allow_http, GPtrArray *tried,
                GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  BzSetupServer *server;
  gsize len;
  const char *data;

  body = bz_setup_http_get (url, allow_http, BZ_SETUP_AUTOCONFIG_MAX, cancellable, &error);
  if (body == NULL)
    {
      tried_add (tried, "autoconfig %s: %s", url, error->message);
      return NULL;
    }
  data = g_bytes_get_data (body, &len);
  server = bz_setup_autoconfig_parse (data, (gssize) len, address, &error);
  if (server == NULL)
    {
      tried_add (tried, "autoconfig %s: %s", url, error->message);
      return NULL;
    }
  server->source = BZ_SETUP_SOURCE_AUTOCONFIG;
  server->source_detail = g_strdup (url);
  return server;
}

static gboolean
host_in_domain (const char *host, const char *domain)
{
  gsize hl = strlen (host), dl = strlen (domain);

  if (g_ascii_strcasecmp (host, domain) == 0)
    return TRUE;
  return hl > dl && host[hl - dl - 1] == '.' && g_ascii_strcasecmp (host + hl - dl, domain) == 0;
}

static BzSetupServer *
try_srv (GResolver *resolver, const char *service, const char *domain, GPtrArray *tried,
         GCancellable *cancellable)
{
  g_autofree char *name = g_strdup_printf ("_%s._tcp.%s", service, domain);
  g_autoptr (GError) error = NULL;
  GList *targets;
  g_autoptr (BzSetupServer) server = NULL;
  g_autofree char *host = NULL;
  GSrvTarget *first;

  targets = g_resolver_lookup_service (resolver, service, "tcp", domain, cancellable, &error);
  if (targets == NULL)
    {
      if (error == NULL || g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
        tried_add (tried, "SRV %s: no record", name);
      else
        tried_add (tried, "SRV %s: %s", name, error->message);
      return NULL;
    }
  /* the list is in RFC 2782 order: lowest priority, then by weight */
  first = targets->data;
  host = g_strdup (g_srv_target_get_hostname (first));
  if (host[0] != '\0' && host[strlen (host) - 1] == '.')
    host[strlen (host) - 1] = '\0';
  if (host[0] == '\0' || g_srv_target_get_port (first) == 0)
    {
      /* RFC 2782: a target of "." means the service is decidedly not there */
      tried_add (tried, "SRV %s: target \".\" (no such service)", name);
      g_list_free_full (targets, (GDestroyNotify) g_srv_target_free);
      return NULL;
    }
  server = g_new0 (BzSetupServer, 1);
  server->host = g_steal_pointer (&host);
  server->port = g_srv_target_get_port (first);
  /* RFC 6186: _pop3s is implicit TLS; _pop3 is the port where STLS is
   * expected, and buzon never falls back to plaintext there */
  server->security = strcmp (service, "pop3s") == 0 ? BZ_SECURITY_TLS : BZ_SECURITY_STARTTLS;
  server->source = BZ_SETUP_SOURCE_SRV;
  server->source_detail = g_steal_pointer (&name);
  server->needs_confirmation = !host_in_domain (server->host, domain);
  g_list_free_full (targets, (GDestroyNotify) g_srv_target_free);
  return g_steal_pointer (&server);
}

static BzSetupServer *
preset_server (const char *provider)
{
  BzSetupServer *server = g_new0 (BzSetupServer, 1);

  server->host =
      g_strdup (strcmp (provider, "google") == 0 ? "pop.gmail.com" : "outlook.office365.com");
  server->port = 995;
  server->security = BZ_SECURITY_TLS;
  server->oauth2 = g_strdup (provider);
  server->source = BZ_SETUP_SOURCE_PRESET;
  return server;
}

const char *
bz_setup_preset_for_domain (const char *domain, BzSetupServer **server)
{
  static const struct
  {
    const char *domain;
    const char *provider;
  } presets[] = {
    { "gmail.com", "google" },      { "googlemail.com", "google" }, { "outlook.com", "microsoft" },
    { "hotmail.com", "microsoft" }, { "live.com", "microsoft" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      if (g_ascii_strcasecmp (domain, presets[i].domain) == 0)
        {
          if (server != NULL)
            *server = preset_server (presets[i].provider);
          return presets[i].provider;
        }
    }
  return NULL;
}

/* Google Workspace and Microsoft 365 host mail for domains of their
 * customers; their MX records give them away. */
static const char *
preset_for_mx (const char *mx)
{
  if (host_in_domain (mx, "google.com") || host_in_domain (mx, "googlemail.com"))
    return "google";
  if (host_in_domain (mx, "mail.protection.outlook.com"))
    return "microsoft";
  return NULL;
}

static BzSetupServer *
try_preset (GResolver *resolver, const char *domain, GPtrArray *tried, GCancellable *cancellable)
{
  BzSetupServer *server = NULL;
  g_autoptr (GError) error = NULL;
  GList *records;
  g_autoptr (GString) seen = g_string_new (NULL);

  if (bz_setup_preset_for_domain (domain, &server) != NULL)
    {
      server->source_detail = g_strdup_printf ("known provider for %s", domain);
      return server;
    }
  records = g_resolver_lookup_records (resolver, domain, G_RESOLVER_RECORD_MX, cancellable, &error);
  for (GList *l = records; l != NULL && server == NULL; l = l->next)
    {
      guint16 preference;
      const char *mx;
      g_autofree char *host = NULL;
      const char *provider;

      g_variant_get (l->data, "(q&s)", &preference, &mx);
      host = g_strdup (mx);
      if (host[0] != '\0' && host[strlen (host) - 1] == '.')
        host[strlen (host) - 1] = '\0';
      g_string_append_printf (seen, "%s%s", seen->len > 0 ? ", " : "", host);
      provider = preset_for_mx (host);
      if (provider != NULL)
        {
          server = preset_server (provider);
          server->source_detail = g_strdup_printf ("known provider for mail exchanger %s", host);
        }
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  if (server == NULL)
    tried_add (tried, "known providers: %s is none of them (mail exchangers: %s)", domain,
               seen->len > 0 ? seen->str : "none found");
  return server;
}

static BzSetupServer *
try_guess (GResolver *resolver, const char *domain, GPtrArray *tried, GCancellable *cancellable)
{
  g_autofree char *host = g_strdup_printf ("pop.%s", domain);
  g_autoptr (GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name (resolver, host, cancellable, &error);
  BzSetupServer *server;

  if (addresses == NULL)
    {
      tried_add (tried, "guess %s:995: %s", host,
                 error != NULL ? error->message : "the name does not resolve");
      return NULL;
    }
  g_resolver_free_addresses (addresses);
  server = g_new0 (BzSetupServer, 1);
  server->host = g_steal_pointer (&host);
  server->port = 995;
  server->security = BZ_SECURITY_TLS;
  server->source = BZ_SETUP_SOURCE_GUESS;
  server->source_detail = g_strdup ("a guess from the domain name");
  return server;
}

BzSetupServer *
bz_setup_discover (const char *address, const char *autoconfig_url, GResolver *resolver,
                   GPtrArray *tried, GCancellable *cancellable, GError **error)
{
  g_autofree char *domain = NULL;
  BzSetupServer *server = NULL;

  if (!bz_setup_address_split (address, NULL, &domain, error))
    return NULL;
  if (autoconfig_url != NULL)
    {
      if (!bz_setup_http_check_url (autoconfig_url, TRUE, error))
        return NULL;
      server = try_autoconfig (autoconfig_url, address, TRUE, tried, cancellable);
    }
  else
    {
      g_auto (GStrv) urls = bz_setup_autoconfig_urls (address, domain);
      for (guint i = 0; urls[i] != NULL && server == NULL; i++)
        server = try_autoconfig (urls[i], address, FALSE, tried, cancellable);
    }
  if (server == NULL)
    server = try_srv (resolver, "pop3s", domain, tried, cancellable);
  if (server == NULL)
    server = try_srv (resolver, "pop3", domain, tried, cancellable);
  if (server == NULL)
    server = try_preset (resolver, domain, tried, cancellable);
  if (server == NULL)
    server = try_guess (resolver, domain, tried, cancellable);
  if (server == NULL)
    g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_NOT_FOUND, "no POP3 server found for %s",
                 address);
  return server;
}
