/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RFC 5322 headers to the index: GMime decodes RFC 2047 words, charsets,
 * addresses and dates; we only make sure that what reaches SQLite and
 * D-Bus is valid UTF-8 without terminal controls. */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "bz-common-text.h"
#include "bz-store-headers.h"

/* GMime 3.2 declares no autoptr cleanups for its types */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

static void
ensure_gmime (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_mime_init ();
      g_once_init_leave (&once, 1);
    }
}

/* Decoded header text is a stranger's: an RFC 2047 word may carry ESC or
 * C1 bytes, and the index feeds the bus, notifications and buzonctl. */
static char *
valid_or_null (const char *text)
{
  if (text == NULL || *text == '\0')
    return NULL;
  return bz_common_text_sanitize (text, -1);
}

typedef enum
{
  FIELD_SUBJECT,
  FIELD_FROM,
  FIELD_MESSAGE_ID,
  FIELD_DATE,
  FIELD_NONE,
} Field;

/* Which indexed field the line @line starts, if any: "Name:" or, in the
 * obsolete syntax GMime also reads, "Name :". */
static Field
indexed_field (const char *line, gsize len, gsize *colon)
{
  static const char *const names[] = { "subject", "from", "message-id", "date" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      gsize n = strlen (names[i]);

      if (len <= n || g_ascii_strncasecmp (line, names[i], n) != 0)
        continue;
      while (n < len && (line[n] == ' ' || line[n] == '\t'))
        n++;
      if (n < len && line[n] == ':')
        {
          *colon = n;
          return (Field) i;
        }
    }
  return FIELD_NONE;
}

/* The next indexed field in the header block from *@p to @end: it starts
 * at *@start, its colon is at *@start + *@colon, and *@p moves past its
 * continuation lines. FIELD_NONE at the end of the header block (the
 * first empty line; a TOP answer goes on) or of the data. */
static Field
next_field (const char **p, const char *end, const char **start, gsize *colon)
{
  while (*p < end)
    {
      const char *line = *p;
      const char *nl = memchr (line, '\n', end - line);
      const char *next = nl != NULL ? nl + 1 : end;
      Field field;

      if (*line == '\n' || (*line == '\r' && line + 1 < end && line[1] == '\n'))
        break;
      field =
          (*line == ' ' || *line == '\t') ? FIELD_NONE : indexed_field (line, next - line, colon);
      if (field != FIELD_NONE)
        {
          /* the value goes on over its continuation lines */
          while (next < end && (*next == ' ' || *next == '\t'))
            {
              nl = memchr (next, '\n', end - next);
              next = nl != NULL ? nl + 1 : end;
            }
        }
      *p = next;
      if (field != FIELD_NONE)
        {
          *start = line;
          return field;
        }
    }
  *p = end;
  return FIELD_NONE;
}

GBytes *
bz_store_headers_extract (const char *data, gsize len)
{
  g_autoptr (GByteArray) out = g_byte_array_sized_new (256);
  const char *p = data;
  const char *end = data + len;
  const char *start;
  gsize colon = 0;

  while (next_field (&p, end, &start, &colon) != FIELD_NONE)
    g_byte_array_append (out, (const guint8 *) start, (guint) (p - start));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* What GMimeMessage does with a From field: the addresses read before a
 * syntax error are kept. The function is in GMime's ABI from 3.2.13 on,
 * in its header from 3.2.14. */
#if GMIME_CHECK_VERSION(3, 2, 13) && !GMIME_CHECK_VERSION(3, 2, 14)
void internet_address_list_append_parse (InternetAddressList *list, GMimeParserOptions *options,
                                         const char *str);
#endif

static void
append_addresses (InternetAddressList *list, const char *raw)
{
#if GMIME_CHECK_VERSION(3, 2, 13)
  internet_address_list_append_parse (list, NULL, raw);
#else
  g_autoptr (InternetAddressList) parsed = internet_address_list_parse (NULL, raw);

  if (parsed != NULL)
    internet_address_list_append (list, parsed);
#endif
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if ((guchar) *p >= 0x80)
        return FALSE;
    }
  return TRUE;
}

static void append_address_list (GString *out, InternetAddressList *list);

/* internet_address_to_string (@address, NULL, FALSE), but an address in
 * ASCII is written as it is: GMime puts every domain through libidn2
 * (then keeps it when only its case changed), which cost as much as the
 * rest of the header and brought half a megabyte of libunistring into
 * memory, for the rare domain not in ASCII. */
static void
append_address (GString *out, InternetAddress *address)
{
  const char *name = internet_address_get_name (address);

  if (INTERNET_ADDRESS_IS_GROUP (address))
    {
      if (name != NULL)
        {
          g_autofree char *quoted = g_mime_utils_quote_string (name);
          g_string_append (out, quoted);
        }
      g_string_append (out, ": ");
      append_address_list (out,
                           internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)));
      g_string_append_c (out, ';');
    }
  else if (INTERNET_ADDRESS_IS_MAILBOX (address))
    {
      InternetAddressMailbox *mailbox = INTERNET_ADDRESS_MAILBOX (address);
      const char *addr = internet_address_mailbox_get_addr (mailbox);

      if (!is_ascii (addr))
        addr = internet_address_mailbox_get_idn_addr (mailbox);
      if (name != NULL && *name != '\0')
        {
          g_autofree char *quoted = g_mime_utils_quote_string (name);
          g_string_append_printf (out, "%s <%s>", quoted, addr);
        }
      else
        {
          g_string_append (out, addr);
        }
    }
}

/* internet_address_list_to_string (@list, NULL, FALSE), see above. */
static void
append_address_list (GString *out, InternetAddressList *list)
{
  int n = internet_address_list_length (list);

  for (int i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      append_address (out, internet_address_list_get_address (list, i));
    }
}

/* The decoded text of a raw field value, as GMime's header list gives it
 * (unfolded, RFC 2047 words and charsets decoded). */
static char *
decode_value (const char *raw)
{
  g_autofree char *unfolded = g_mime_utils_header_unfold (raw);

  return g_mime_utils_header_decode_text (NULL, unfolded);
}

/* Reads the four fields the index needs from the header block at the start
 * of @data with GMime's field decoders, as a GMimeMessage would (the last
 * Subject, Message-ID and Date count, every From adds its addresses), but
 * without building a message: no stream, parser or part objects, and the
 * other 20-60 fields of real mail (Received, DKIM-Signature, ARC-...) are
 * skipped at once. */
BzDbHeaders *
bz_store_headers_parse (const char *data, gsize len)
{
  g_autoptr (InternetAddressList) from = NULL;
  char *raw[FIELD_NONE] = { NULL };
  BzDbHeaders *headers = g_new0 (BzDbHeaders, 1);
  const char *p = data;
  const char *end = data + len;
  const char *start;
  gsize colon = 0;
  Field field;

  ensure_gmime ();

  while ((field = next_field (&p, end, &start, &colon)) != FIELD_NONE)
    {
      g_free (raw[field]);
      raw[field] = g_strndup (start + colon + 1, p - (start + colon + 1));
      if (field == FIELD_FROM)
        {
          if (from == NULL)
            from = internet_address_list_new ();
          append_addresses (from, raw[field]);
        }
    }

  if (raw[FIELD_SUBJECT] != NULL)
    {
      g_autofree char *text = decode_value (raw[FIELD_SUBJECT]);
      headers->subject = valid_or_null (text);
    }
  if (raw[FIELD_MESSAGE_ID] != NULL)
    {
      g_autofree char *text = decode_value (raw[FIELD_MESSAGE_ID]);
      g_autofree char *id = text != NULL ? g_mime_utils_decode_message_id (text) : NULL;
      headers->message_id = valid_or_null (id);
    }
  if (from != NULL && internet_address_list_length (from) > 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);

      append_address_list (text, from);
      headers->from = valid_or_null (text->str);
    }
  if (raw[FIELD_DATE] != NULL)
    {
      g_autofree char *text = decode_value (raw[FIELD_DATE]);
      GDateTime *date = text != NULL ? g_mime_utils_header_decode_date (text) : NULL;

      if (date != NULL)
        {
          headers->date = g_date_time_to_unix (date);
          g_date_time_unref (date);
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (raw); i++)
    g_free (raw[i]);
  return headers;
}
