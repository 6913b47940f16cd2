/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Deterministic generated mail for the store's tests and benchmark. */
#pragma once

#include <glib.h>

/* Message @i: a UIDL "uidl-<i>" carried in an X-Bz-Uidl header, RFC 2047
 * subject, and a body that brings it to about @approx_size bytes. */
static inline char *
bz_test_message_new (guint i, gsize approx_size, char **uidl_out)
{
  GString *msg = g_string_new (NULL);
  g_autofree char *uidl = g_strdup_printf ("uidl-%05u", i);
  GRand *rand = g_rand_new_with_seed (i);

  g_string_append_printf (msg,
                          "Return-Path: <sender%u@example.org>\n"
                          "Message-ID: <msg%u@example.org>\n"
                          "From: =?UTF-8?B?Wm/Dqw==?= <sender%u@example.org>\n"
                          "To: alice@example.com\n"
                          "Subject: =?UTF-8?Q?Caf=C3=A9_number_?=%u\n"
                          "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
                          "X-Bz-Uidl: %s\n"
                          "\n",
                          i, i, i, i, uidl);
  while (msg->len < approx_size)
    {
      for (guint k = 0; k < 72; k++)
        g_string_append_c (msg, (char) ('a' + g_rand_int_range (rand, 0, 26)));
      g_string_append_c (msg, '\n');
    }
  g_rand_free (rand);
  if (uidl_out != NULL)
    *uidl_out = g_steal_pointer (&uidl);
  return g_string_free (msg, FALSE);
}

/* The value of X-Bz-Uidl in the file at @path (transfer full) or NULL. */
static inline char *
bz_test_message_read_uidl (const char *path)
{
  g_autofree char *data = NULL;
  const char *p;
  const char *end;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  p = strstr (data, "\nX-Bz-Uidl: ");
  if (p == NULL)
    return NULL;
  p += strlen ("\nX-Bz-Uidl: ");
  end = strchr (p, '\n');
  return end != NULL ? g_strndup (p, (gsize) (end - p)) : NULL;
}
