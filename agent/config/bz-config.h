/* SPDX-License-Identifier: GPL-3.0-or-later */
/* accounts.conf: loading and validation (DESIGN.md "Config").
 *
 * Format notes beyond DESIGN.md:
 *  - values are taken literally (no GKeyFile escapes); surrounding
 *    whitespace is dropped, and so is a trailing comment that starts with
 *    whitespace and '#' ("interval = 5   # minutes"), except in
 *    password-command, which is passed verbatim to /bin/sh -c;
 *  - paths (data-dir, maildir, tls-ca-file) expand "~" and "~/..."; a
 *    relative path is relative to the folder of the config file;
 *  - max-size takes bytes with an optional K, M or G suffix (1024-based);
 *  - booleans are true or false (1 and 0 too);
 *  - tls-pin-sha256 is 64 hex digits, ':' separators allowed.
 *
 * Errors in [general], an unknown group or a syntax error fail the whole
 * load; an error inside one [account NAME] group drops only that account
 * and is listed by bz_config_get_errors(). Every message has the form
 * "<file>: [<group>] <key> = <value>: <what is allowed>". */
#pragma once

#include <glib-object.h>

#include "bz-account.h"

G_BEGIN_DECLS

#define BZ_CONFIG_ERROR (bz_config_error_quark ())
GQuark bz_config_error_quark (void);

typedef enum
{
  BZ_CONFIG_ERROR_NOT_FOUND,     /* the file does not exist */
  BZ_CONFIG_ERROR_READ,          /* the file cannot be read */
  BZ_CONFIG_ERROR_SYNTAX,        /* not a valid key file */
  BZ_CONFIG_ERROR_UNKNOWN_GROUP, /* neither [general] nor [account NAME] */
  BZ_CONFIG_ERROR_UNKNOWN_KEY,
  BZ_CONFIG_ERROR_INVALID_VALUE,
  BZ_CONFIG_ERROR_MISSING_KEY,  /* host or user */
  BZ_CONFIG_ERROR_INVALID_NAME, /* account name outside [A-Za-z0-9._-]{1,64} */
  BZ_CONFIG_ERROR_DUPLICATE,    /* a group or key written twice, or two
                                  * accounts sharing a maildir/object path */
  BZ_CONFIG_ERROR_PLAINTEXT,    /* security = none off loopback */
} BzConfigError;

/* One rejected account. */
typedef struct
{
  char *account; /* the name as written in the group header */
  GError *error; /* BZ_CONFIG_ERROR; message as described above */
} BzConfigAccountError;

#define BZ_TYPE_CONFIG (bz_config_get_type ())
G_DECLARE_FINAL_TYPE (BzConfig, bz_config, BZ, CONFIG, GObject)

/* The default config file: $XDG_CONFIG_HOME/buzon/accounts.conf.
 * Returns a new string (g_free). */
char *bz_config_default_path (void);

/* Reads and validates @path (NULL = bz_config_default_path()). Returns a
 * new config (transfer full) holding the valid accounts and the per-account
 * errors, or NULL with @error set in BZ_CONFIG_ERROR when the file is
 * missing, unreadable, not a key file, or [general] or a group name is
 * wrong. */
BzConfig *bz_config_load (const char *path, GError **error);

/* Borrowed; the file that was read. */
const char *bz_config_get_path (BzConfig *self);
/* Borrowed; [general] data-dir, default $XDG_DATA_HOME/buzon. */
const char *bz_config_get_data_dir (BzConfig *self);
/* Borrowed; <data-dir>/buzon.db. */
const char *bz_config_get_database_path (BzConfig *self);
/* [general] max-parallel (1..64), default 2. */
guint bz_config_get_max_parallel (BzConfig *self);
/* [general] notify, default FALSE. */
gboolean bz_config_get_notify (BzConfig *self);

/* Borrowed array of BzAccount*, in file order, only valid accounts. */
GPtrArray *bz_config_get_accounts (BzConfig *self);
/* Borrowed, or NULL when no valid account has that name. */
BzAccount *bz_config_find_account (BzConfig *self, const char *name);
/* Borrowed array of BzConfigAccountError*, in file order; may hold several
 * errors for one account. Empty when every account is valid. */
GPtrArray *bz_config_get_errors (BzConfig *self);
/* TRUE when @name appeared as an [account NAME] group but was rejected. */
gboolean bz_config_account_has_errors (BzConfig *self, const char *name);

G_END_DECLS
