/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Gettext set-up shared by buzond's and buzonctl's main(). */
#pragma once

#include <glib.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "config.h"

/* The user's locale and our message catalogue (LOCALEDIR). A test build
 * may point at the catalogues in the build tree instead
 * (BUZON_TEST_LOCALEDIR). */
static inline void
bz_i18n_init (void)
{
  const char *dir = LOCALEDIR;

#ifdef BZ_TEST_HOOKS
  if (g_getenv ("BUZON_TEST_LOCALEDIR") != NULL)
    dir = g_getenv ("BUZON_TEST_LOCALEDIR");
#endif
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
