/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A loadable module that is not this buzon's token module: the entry point
 * of another version. test-oauth2-module points buzon at it. */
#include <gmodule.h>

G_MODULE_EXPORT int bz_oauth2_http_post_v0 (void);

G_MODULE_EXPORT int
bz_oauth2_http_post_v0 (void)
{
  return 0;
}
