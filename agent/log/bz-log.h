/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Log lines about an account name it (README): the message starts with
 * "NAME: " and carries an ACCOUNT=NAME field (journalctl ACCOUNT=work).
 * Each folder logs in its own domain (G_LOG_DOMAIN "buzon-FOLDER", set by
 * its meson.build). Never pass a password. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Logs @format in @domain about @account; with @account NULL, about the
 * calling thread's account (bz_log_set_thread_account()), if it has one. */
void bz_log_account_full (const char *domain, GLogLevelFlags level, const char *account,
                          const char *format, ...) G_GNUC_PRINTF (4, 5);
void bz_log_account_valist (const char *domain, GLogLevelFlags level, const char *account,
                            const char *format, va_list args) G_GNUC_PRINTF (4, 0);

/* bz_log_account_full() in the caller's G_LOG_DOMAIN. */
#define bz_log_account(level, account, ...) \
  bz_log_account_full (G_LOG_DOMAIN, (level), (account), __VA_ARGS__)

/* The account the calling thread works for, until called again with NULL
 * (@name is copied). Lines the thread logs without naming an account (the
 * network, POP3, store and database code, GLib itself) get its name from
 * bz_log_writer(). */
void bz_log_set_thread_account (const char *name);
/* Borrowed; NULL when the thread works for no account. */
const char *bz_log_get_thread_account (void);

/* GLogWriterFunc for g_log_set_writer_func(): a line that names no account
 * gets the thread's account, if any (message prefix and ACCOUNT field);
 * then g_log_writer_default() writes it (journald or stderr). */
GLogWriterOutput bz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                gpointer user_data);

G_END_DECLS
