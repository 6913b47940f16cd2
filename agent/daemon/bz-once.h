/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "bz-config.h"

G_BEGIN_DECLS

/* Exit codes of DESIGN.md. */
#define BZ_EXIT_OK 0
#define BZ_EXIT_SYNC_FAILED 1
#define BZ_EXIT_USAGE 2

/* `buzond --once`: syncs every enabled account of @config (or only
 * @account_name), at most max-parallel at a time, printing one summary line
 * per account on stdout and progress on a terminal. Returns the exit code. */
int bz_once_run (BzConfig *config, const char *account_name);

G_END_DECLS
