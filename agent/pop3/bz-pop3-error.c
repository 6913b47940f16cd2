/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-pop3-error.h"

G_DEFINE_QUARK (bz-pop3-error-quark, bz_pop3_error)
