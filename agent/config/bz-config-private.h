/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Value parsers shared by the [general] and [account NAME] loaders. Each
 * parser returns FALSE after adding one error to ctx->errors; the message
 * always names the file, the group, the key, the value and what is allowed. */
#pragma once

#include <glib.h>

#include "buzon-types.h"
#include "bz-account.h"

G_BEGIN_DECLS

typedef struct
{
  const char *path; /* the config file as the user named it */
  const char *group;
  GKeyFile *keyfile;
  const char *base_dir; /* relative paths resolve against this */
  GPtrArray *errors;    /* GError*, appended to */
} BzConfigGroupCtx;

/* Adds "<path>: [<group>] <key> = <value>: <message>" to ctx->errors;
 * @key and @value may be NULL. */
void bz_config_group_fail (BzConfigGroupCtx *ctx, int code, const char *key, const char *value,
                           const char *format, ...) G_GNUC_PRINTF (5, 6);

/* The value of @key, stripped, or NULL when absent. Unless @verbatim, a
 * trailing comment (whitespace, then '#') is removed. Returns a new string. */
char *bz_config_group_get_value (BzConfigGroupCtx *ctx, const char *key, gboolean verbatim);

gboolean bz_config_parse_uint (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               guint64 min, guint64 max, guint64 *out);
gboolean bz_config_parse_bool (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               gboolean *out);
gboolean bz_config_parse_enum (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               const char *const *names, guint *out);
gboolean bz_config_parse_size (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               guint64 *out);
gboolean bz_config_parse_keep (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               BzKeepPolicy *out, guint *out_days);
/* On success *out is 64 lowercase hex digits (new string). */
gboolean bz_config_parse_pin (BzConfigGroupCtx *ctx, const char *key, const char *value,
                              char **out);
/* On success *out is absolute and canonical (new string). */
gboolean bz_config_parse_path (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               char **out);
/* On success *out is the host name or IP address (new string); an IPv6
 * literal given as [addr] loses its brackets. "name:port" is refused. */
gboolean bz_config_parse_host (BzConfigGroupCtx *ctx, const char *key, const char *value,
                               char **out);
gboolean bz_config_parse_user (BzConfigGroupCtx *ctx, const char *key, const char *value);

/* The oauth2 keys (bz-config-oauth2.c); needs account->auth and
 * ->password_command parsed already. */
void bz_config_parse_oauth2 (BzConfigGroupCtx *ctx, BzAccount *account);

G_END_DECLS
