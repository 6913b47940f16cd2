/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-pop3-error.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - pop3 - error - quark, bz_pop3_error)
/* clang-format on */
