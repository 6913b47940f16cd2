/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One validated [account NAME] group of accounts.conf. A BzAccount is
 * immutable once bz_config_load() returns it, so it may be shared between
 * the main thread and sync workers by reference. */
#pragma once

#include <glib-object.h>

#include "buzon-types.h"

G_BEGIN_DECLS

#define BZ_ACCOUNT_NAME_MAX 64

typedef struct
{
  char *name; /* [A-Za-z0-9._-]{1,64} */
  char *host;
  guint16 port;        /* default 995 for tls, 110 otherwise */
  BzSecurity security; /* default tls */
  char *user;
  BzAuthMethod auth;        /* default auto */
  guint interval_min;       /* minutes between polls; 0 = on demand only */
  BzKeepPolicy keep;        /* default forever */
  guint keep_days;          /* N of days:N, 0 unless keep == BZ_KEEP_DAYS */
  guint64 max_size;         /* bytes; 0 = no limit */
  char *maildir;            /* absolute, ~ expanded, no trailing '/' */
  char *tls_ca_file;        /* nullable; absolute, exists when loaded */
  char *tls_pin_sha256;     /* nullable; 64 lowercase hex digits, no ':' */
  char *password_command;   /* nullable; run by /bin/sh -c, taken verbatim */
  guint timeout_s;          /* seconds without progress; default 60 */
  gboolean enabled;         /* default TRUE */
  gboolean allow_plaintext; /* the key as written; see bz_account_plaintext_allowed() */

  /* OAuth2 (bz-config-oauth2.c) */
  BzOAuth2Provider oauth2;    /* default none: a password account */
  char *oauth2_client_id;     /* nullable; google/microsoft fall back to the build's */
  char *oauth2_client_secret; /* nullable */
  char *oauth2_auth_url;      /* nullable; https, or http to loopback */
  char *oauth2_token_url;     /* nullable; same rule */
  char *oauth2_scope;         /* nullable; custom only */
  char *oauth2_token_command; /* nullable; command only, verbatim */

  /*< private >*/
  gint ref_count;
} BzAccount;

#define BZ_TYPE_ACCOUNT (bz_account_get_type ())
GType bz_account_get_type (void) G_GNUC_CONST;

/* A new account with every default of DESIGN.md and all strings NULL; only
 * the config loader and tests fill one in. Transfer full. */
BzAccount *bz_account_new (void);
BzAccount *bz_account_ref (BzAccount *self);
void bz_account_unref (BzAccount *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzAccount, bz_account_unref)

/* TRUE when every setting is the same, so a config reload can keep the
 * running state of an unchanged account. NULL equals only NULL. */
gboolean bz_account_equal (const BzAccount *a, const BzAccount *b);

/* TRUE when a password may cross this account's channel unencrypted:
 * security = none to a loopback host, or with allow-plaintext = true.
 * A validated account with security = none always answers TRUE. */
gboolean bz_account_plaintext_allowed (const BzAccount *self);

/* TRUE for "localhost" (any case, optional trailing dot), 127.0.0.0/8 and
 * ::1 (also written "[::1]"). Names other than localhost are not resolved. */
gboolean bz_host_is_loopback (const char *host);

/* TRUE when @name matches [A-Za-z0-9._-]{1,64} and is not only dots
 * ("." and ".." are paths, not names). */
gboolean bz_account_name_is_valid (const char *name);

/* The D-Bus object path of account @name:
 * "/org/buzon/Agent1/accounts/" followed by @name with every byte outside
 * [A-Za-z0-9_] written as "_" and two LOWERCASE hex digits (as systemd's
 * sd_bus_path_encode() does): "my-work.acct" -> "my_2dwork_2eacct".
 * Note "a-" and "a_2d" give the same path; bz_config_load() rejects the
 * second such account. Returns a new string (g_free). */
char *bz_account_object_path (const char *name);

/* Borrowed; oauth2-client-id, else the build's default for a preset
 * (meson -Dgoogle-client-id / -Dmicrosoft-client-id), else "". */
const char *bz_account_get_oauth2_client_id (const BzAccount *self);

G_END_DECLS
