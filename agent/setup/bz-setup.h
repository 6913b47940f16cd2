/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Setting an account up from an e-mail address (buzonctl add/remove):
 * finding the POP3 server (Thunderbird autoconfig, RFC 6186 SRV, known
 * providers, a guess) and editing accounts.conf in place.
 *
 * Everything here blocks the calling thread: it is meant for buzonctl,
 * which has nothing else to do meanwhile. */
#pragma once

#include <gio/gio.h>

#include "buzon-types.h"

G_BEGIN_DECLS

#define BZ_SETUP_ERROR (bz_setup_error_quark ())
GQuark bz_setup_error_quark (void);

typedef enum
{
  BZ_SETUP_ERROR_ADDRESS,   /* not an e-mail address */
  BZ_SETUP_ERROR_NOT_FOUND, /* no usable POP3 server in what was looked at */
  BZ_SETUP_ERROR_HTTP,      /* an autoconfig fetch failed (status, size, format) */
  BZ_SETUP_ERROR_REFUSED,   /* a URL or redirect we will not follow */
  BZ_SETUP_ERROR_CONF,      /* accounts.conf cannot be edited as asked */
} BzSetupError;

/* Where a server came from. */
typedef enum
{
  BZ_SETUP_SOURCE_AUTOCONFIG,
  BZ_SETUP_SOURCE_SRV,
  BZ_SETUP_SOURCE_PRESET,
  BZ_SETUP_SOURCE_GUESS,
} BzSetupSource;

/* A POP3 server found for an address. */
typedef struct
{
  char *host;
  guint16 port;
  BzSecurity security;
  char *user;   /* nullable: the login name the source gave */
  char *oauth2; /* nullable: "google" or "microsoft" when the server wants OAuth2 */
  BzSetupSource source;
  char *source_detail; /* the URL, SRV name or provider it came from */
  /* An SRV target outside the address's domain: RFC 6186 section 6 says
   * the user must confirm it, since a forged DNS answer could send the
   * password anywhere. */
  gboolean needs_confirmation;
} BzSetupServer;

void bz_setup_server_free (BzSetupServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzSetupServer, bz_setup_server_free)

/* --- bz-setup-address.c -------------------------------------------------- */

/* Splits @address at its last '@' into a new local part and a new
 * lowercase domain. FALSE with BZ_SETUP_ERROR_ADDRESS when either is empty
 * or the address holds blanks or control characters. */
gboolean bz_setup_address_split (const char *address, char **local_part, char **domain,
                                 GError **error);

/* An account name ([A-Za-z0-9._-]{1,64}) made from @address: every other
 * byte becomes '-' ("alice@example.com" -> "alice-example.com"), cut at 64.
 * Returns a new string. */
char *bz_setup_address_to_name (const char *address);

/* --- bz-setup-autoconfig.c ----------------------------------------------- */

/* The two standard autoconfig URLs of @address, in the order to try
 * (NULL-terminated, g_strfreev). */
char **bz_setup_autoconfig_urls (const char *address, const char *domain);

/* Reads a Thunderbird clientConfig file (config-v1.1.xml) and returns its
 * first usable incomingServer of type pop3 (transfer full), with the
 * %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% placeholders
 * replaced; SSL is preferred to STARTTLS, and plaintext servers are only
 * used when nothing else is offered. NULL with BZ_SETUP_ERROR_NOT_FOUND
 * when there is no usable POP3 server, BZ_SETUP_ERROR_HTTP when the text
 * is not such a file. source and source_detail are left for the caller. */
BzSetupServer *bz_setup_autoconfig_parse (const char *xml, gssize len, const char *address,
                                          GError **error);

/* --- bz-setup-http.c ----------------------------------------------------- */

/* GETs @url and returns the body (at most @max_size bytes; transfer full).
 * https:// only, verified by OpenSSL as syncs are; http:// only when
 * @allow_loopback_http and the host is a loopback address. Up to five
 * redirects are followed under the same rules. Errors: BZ_NET_ERROR (with
 * the certificate problem in words), BZ_SETUP_ERROR_HTTP (a status other
 * than 200, too large, malformed), BZ_SETUP_ERROR_REFUSED. */
GBytes *bz_setup_http_get (const char *url, gboolean allow_loopback_http, gsize max_size,
                           GCancellable *cancellable, GError **error);

/* TRUE when @url may be fetched: https://, or http:// to a loopback host
 * when @allow_loopback_http. FALSE with BZ_SETUP_ERROR_REFUSED otherwise. */
gboolean bz_setup_http_check_url (const char *url, gboolean allow_loopback_http, GError **error);

/* --- bz-setup-discover.c ------------------------------------------------- */

/* Finds the POP3 server of @address: the autoconfig file (at
 * @autoconfig_url when given, else the two standard URLs), then SRV
 * records _pop3s._tcp and _pop3._tcp, then the built-in providers (by
 * domain, or by the domain's MX for Google Workspace and Microsoft 365),
 * then pop.<domain> on 995 when that name resolves. Stops at the first
 * that gives a server. Each step tried is appended to @tried as one line
 * of text (the caller prints them when nothing is found). Names are
 * resolved with @resolver (g_resolver_get_default() normally). Returns a
 * new server, or NULL with BZ_SETUP_ERROR_NOT_FOUND (or, for a bad
 * @autoconfig_url, BZ_SETUP_ERROR_REFUSED). */
BzSetupServer *bz_setup_discover (const char *address, const char *autoconfig_url,
                                  GResolver *resolver, GPtrArray *tried, GCancellable *cancellable,
                                  GError **error);

/* The built-in provider of @domain ("google", "microsoft") or NULL; fills a
 * new server for it when @server is not NULL. */
const char *bz_setup_preset_for_domain (const char *domain, BzSetupServer **server);

/* --- bz-setup-conf.c ----------------------------------------------------- */

/* TRUE when @text has an [account NAME] group header (valid or not). */
gboolean bz_setup_conf_has_account (const char *text, const char *name);

/* Returns a new text: @text unchanged (plus a line end when its last line
 * has none), a blank line unless @text is empty, then "[account NAME]" and one "key = value" line per pair of @keys_values
 * (key, value, key, value, ..., NULL). Line ends follow @text's (CRLF when
 * it uses them). FALSE-like NULL with BZ_SETUP_ERROR_CONF when a value
 * holds a control character or cannot be read back as written. */
char *bz_setup_conf_add_account (const char *text, const char *name, const char *const *keys_values,
                                 GError **error);

/* Returns a new text without the [account NAME] group(s): the header, a
 * comment block right above it that a blank line sets off, one blank line
 * before them, and its lines up to the next group, less the comments and
 * blank lines just before that next header (they introduce it).
 * Everything else stays byte for byte, so adding a group and removing it
 * gives the text back. NULL with
 * BZ_SETUP_ERROR_CONF when there is no such group. */
char *bz_setup_conf_remove_account (const char *text, const char *name, GError **error);

/* Checks a candidate file before it replaces the config; returns FALSE with
 * @error set to refuse it. */
typedef gboolean (*BzSetupConfCheck) (const char *candidate_path, gpointer user_data,
                                      GError **error);

/* Replaces the file at @path (following a symlink to the real file) by
 * @text safely: a temporary file beside it with the same permissions
 * (0600 for a new file), written and fsynced, handed to @check (nullable),
 * renamed over the old one, and the folder fsynced. On failure the old
 * file is untouched and the temporary file removed. */
gboolean bz_setup_conf_replace (const char *path, const char *text, BzSetupConfCheck check,
                                gpointer user_data, GError **error);

G_END_DECLS
