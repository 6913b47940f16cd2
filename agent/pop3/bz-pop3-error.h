/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BZ_POP3_ERROR (bz_pop3_error_quark ())
GQuark bz_pop3_error_quark (void);

/* The RFC 2449 response codes map to their own error codes so that callers
 * can tell a temporary failure from a permanent one. */
typedef enum
{
  BZ_POP3_ERROR_PROTOCOL,       /* garbage, unexpected response */
  BZ_POP3_ERROR_LINE_TOO_LONG,  /* a line over the parser's cap */
  BZ_POP3_ERROR_SERVER,         /* -ERR without a response code */
  BZ_POP3_ERROR_IN_USE,         /* [IN-USE] */
  BZ_POP3_ERROR_LOGIN_DELAY,    /* [LOGIN-DELAY] */
  BZ_POP3_ERROR_SYS_TEMP,       /* [SYS/TEMP] */
  BZ_POP3_ERROR_SYS_PERM,       /* [SYS/PERM] */
  BZ_POP3_ERROR_AUTH,           /* [AUTH]: the credentials are wrong */
  BZ_POP3_ERROR_NO_STLS,        /* security=starttls but no STLS in CAPA */
  BZ_POP3_ERROR_NO_AUTH_METHOD, /* no method usable on this channel */
  BZ_POP3_ERROR_NO_UIDL,        /* server does not implement UIDL */
  BZ_POP3_ERROR_CLOSED,         /* connection ended inside a response */
  /* A login -ERR without a response code, or with one we do not know: a
   * wrong password, or a refusal the server does not explain ("maildrop
   * locked, try later"). Only [AUTH] says the credentials are wrong. */
  BZ_POP3_ERROR_LOGIN_REFUSED,
  BZ_POP3_ERROR_MISFIT,    /* an answer does not fit its command (size, shape) */
  BZ_POP3_ERROR_TOO_LARGE, /* an answer far larger than LIST said, or max-size */
  BZ_POP3_ERROR_LIMIT,     /* a listing beyond sane bounds (UIDL length, count) */
} BzPop3Error;

G_END_DECLS
