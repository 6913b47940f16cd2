/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Which failures are worth retrying soon, and which need the user. */
#include "config.h"

#include "bz-config.h"
#include "bz-net-connection.h"
#include "bz-pop3-error.h"
#include "bz-secrets.h"
#include "bz-store.h"
#include "bz-sync.h"

BzSyncFailure
bz_sync_classify_error (const GError *error)
{
  if (error == NULL)
    return BZ_SYNC_FAILURE_TEMPORARY;
  if (error->domain == BZ_POP3_ERROR)
    {
      switch (error->code)
        {
        case BZ_POP3_ERROR_IN_USE:
          return BZ_SYNC_FAILURE_IN_USE;
        case BZ_POP3_ERROR_LOGIN_DELAY:
          return BZ_SYNC_FAILURE_LOGIN_DELAY;
        case BZ_POP3_ERROR_LOGIN_REFUSED:
          return BZ_SYNC_FAILURE_LOGIN_REFUSED;
        case BZ_POP3_ERROR_AUTH:
        case BZ_POP3_ERROR_SYS_PERM:
        case BZ_POP3_ERROR_NO_STLS:
        case BZ_POP3_ERROR_NO_AUTH_METHOD:
          return BZ_SYNC_FAILURE_PERMANENT;
        default:
          return BZ_SYNC_FAILURE_TEMPORARY;
        }
    }
  if (error->domain == BZ_NET_ERROR)
    {
      switch (error->code)
        {
        case BZ_NET_ERROR_TLS_UNKNOWN_CA:
        case BZ_NET_ERROR_TLS_HOSTNAME:
        case BZ_NET_ERROR_TLS_EXPIRED:
        case BZ_NET_ERROR_TLS_PIN:
          /* The server's side may be fixed without us being told. */
          return BZ_SYNC_FAILURE_TLS_TRUST;
        case BZ_NET_ERROR_TLS_CONFIG:
          return BZ_SYNC_FAILURE_PERMANENT;
        default:
          return BZ_SYNC_FAILURE_TEMPORARY;
        }
    }
  if (error->domain == BZ_SYNC_ERROR && error->code == BZ_SYNC_ERROR_NO_UIDL)
    return BZ_SYNC_FAILURE_PERMANENT;
  if (error->domain == BZ_CONFIG_ERROR)
    return BZ_SYNC_FAILURE_PERMANENT;
  if (error->domain == BZ_SECRETS_ERROR &&
      (error->code == BZ_SECRETS_ERROR_NOT_FOUND || error->code == BZ_SECRETS_ERROR_INVALID))
    return BZ_SYNC_FAILURE_PERMANENT;
  /* A damaged database is moved aside at the next open (db/bz-db.c), so
   * that failure is temporary; a newer schema waits for the user. */
  if (error->domain == BZ_DB_ERROR && error->code == BZ_DB_ERROR_TOO_NEW)
    return BZ_SYNC_FAILURE_PERMANENT;
  return BZ_SYNC_FAILURE_TEMPORARY;
}

const char *
bz_sync_failure_to_string (BzSyncFailure failure)
{
  switch (failure)
    {
    case BZ_SYNC_FAILURE_TEMPORARY:
      return "temporary";
    case BZ_SYNC_FAILURE_PERMANENT:
      return "permanent";
    case BZ_SYNC_FAILURE_LOGIN_DELAY:
      return "login-delay";
    case BZ_SYNC_FAILURE_IN_USE:
      return "in-use";
    case BZ_SYNC_FAILURE_LOGIN_REFUSED:
      return "login-refused";
    case BZ_SYNC_FAILURE_TLS_TRUST:
      return "tls-trust";
    default:
      return "unknown";
    }
}
