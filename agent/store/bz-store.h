/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The local store: Maildir writer, exactly-once ingest and recovery. */
#pragma once

#include "bz-store-batch.h"
#include "bz-store-error.h"
#include "bz-store-headers.h"
#include "bz-store-maildir.h"
