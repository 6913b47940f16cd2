/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Which failures are worth retrying soon, and which need the user. */
#include "config.h"

#include "bz-config.h"
#include "bz-net-connection.h"
#include "bz-oauth2.h"
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
  if (error->domain == BZ_OAUTH2_ERROR)
    {
      switch (error->code)
        {
        case BZ_OAUTH2_ERROR_NOT_AUTHORIZED:
        case BZ_OAUTH2_ERROR_INVALID_GRANT:
        case BZ_OAUTH2_ERROR_GOA_NOT_FOUND:
        case BZ_OAUTH2_ERROR_CONFIG:
          return BZ_SYNC_FAILURE_PERMANENT;
        default:
          return BZ_SYNC_FAILURE_TEMPORARY;
        }
    }
  /* A damaged database is moved aside at the next open (db/bz-db.c), so
   * that failure is temporary; a newer schema waits for the user. */
  if (error->domain == BZ_DB_ERROR && error->code == BZ_DB_ERROR_TOO_NEW)
    return BZ_SYNC_FAILURE_PERMANENT;
  return BZ_SYNC_FAILURE_TEMPORARY;
}

const char *
bz_sync_attention_for_error (BzAccount *account, const GError *error)
{
  gboolean oauth2 = account->oauth2 != BZ_OAUTH2_NONE;

  if (error == NULL)
    return "";
  if (g_error_matches (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_INVALID_GRANT))
    return "authorize";
  /* refused even after a fresh token: the grant itself is wrong (scope,
   * another user); only a new sign-in can fix it */
  if (g_error_matches (error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH))
    return oauth2 && account->oauth2 != BZ_OAUTH2_COMMAND && account->oauth2 != BZ_OAUTH2_GOA
               ? "authorize"
           : oauth2 ? ""
                    : "password";
  if (!oauth2 && g_error_matches (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND))
    return "password";
  if (error->domain == BZ_NET_ERROR &&
      (error->code == BZ_NET_ERROR_TLS_UNKNOWN_CA || error->code == BZ_NET_ERROR_TLS_HOSTNAME ||
       error->code == BZ_NET_ERROR_TLS_EXPIRED || error->code == BZ_NET_ERROR_TLS_PIN))
    return "certificate";
  return "";
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
