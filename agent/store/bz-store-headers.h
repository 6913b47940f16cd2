/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The header index of a message, decoded by GMime. */
#pragma once

#include "bz-db.h"

G_BEGIN_DECLS

/* Parses the header block @data (a message's start, "\n" line ends; the
 * body, if present, is ignored). Never fails: missing or undecodable
 * fields are NULL, a missing or malformed Date is 0; strings are valid
 * UTF-8. Transfer full. Thread-safe. */
BzDbHeaders *bz_store_headers_parse (const char *data, gsize len);

/* Only the lines of @data that bz_store_headers_parse() reads (Subject,
 * From, Message-ID, Date, with their continuation lines), for keeping a
 * header block until it is parsed: the same index from a tenth of the
 * bytes of real mail's headers. Transfer full. */
GBytes *bz_store_headers_extract (const char *data, gsize len);

G_END_DECLS
