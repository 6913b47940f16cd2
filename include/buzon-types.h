/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Enumerations shared by config, the POP3 engine and the sync: they are the
 * parsed form of the accounts.conf keys of the same names. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* accounts.conf `security` */
typedef enum
{
  BZ_SECURITY_TLS,      /* implicit TLS, default port 995 */
  BZ_SECURITY_STARTTLS, /* STLS (RFC 2595) on a plaintext port, never a fall-back */
  BZ_SECURITY_NONE,     /* plaintext; refused off loopback unless allow-plaintext */
} BzSecurity;

/* accounts.conf `auth` */
typedef enum
{
  BZ_AUTH_AUTO,        /* strongest the server offers that the channel permits */
  BZ_AUTH_SASL_PLAIN,  /* AUTH PLAIN, RFC 5034 */
  BZ_AUTH_USER,        /* USER/PASS */
  BZ_AUTH_APOP,        /* APOP, needs a timestamp in the greeting */
  BZ_AUTH_XOAUTH2,     /* AUTH XOAUTH2 (Google, Microsoft), needs oauth2 */
  BZ_AUTH_OAUTHBEARER, /* AUTH OAUTHBEARER, RFC 7628, needs oauth2 */
} BzAuthMethod;

/* accounts.conf `oauth2`: where an OAuth2 access token comes from */
typedef enum
{
  BZ_OAUTH2_NONE,      /* a password account */
  BZ_OAUTH2_GOOGLE,    /* preset endpoints and scope, refresh token in the keyring */
  BZ_OAUTH2_MICROSOFT, /* the same for Microsoft 365 / Outlook */
  BZ_OAUTH2_CUSTOM,    /* endpoints and scope from the config */
  BZ_OAUTH2_GOA,       /* GNOME Online Accounts on the session bus */
  BZ_OAUTH2_COMMAND,   /* oauth2-token-command prints the token */
} BzOAuth2Provider;

/* accounts.conf `keep` */
typedef enum
{
  BZ_KEEP_FOREVER,
  BZ_KEEP_DELETE,
  BZ_KEEP_DAYS,
} BzKeepPolicy;

G_END_DECLS
