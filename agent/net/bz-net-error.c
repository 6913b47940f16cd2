/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-net-connection.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - net - error - quark, bz_net_error)
/* clang-format on */
