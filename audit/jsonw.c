/* async-signal-safe: see jsonw.h. */
#include "config.h"

#include <string.h>

#include "jsonw.h"

size_t audit_fmt_u64(char *out, unsigned long long v)
{
	char tmp[21];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t audit_fmt_i64(char *out, long long v)
{
	if (v >= 0)
		return audit_fmt_u64(out, (unsigned long long)v);
	out[0] = '-';
	/* Negate in unsigned arithmetic so LLONG_MIN does not overflow. */
	return 1 + audit_fmt_u64(out + 1, 0ULL - (unsigned long long)v);
}

size_t audit_fmt_hex(char *out, uintptr_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++)
		out[2 + i] = tmp[n - 1 - i];
	return n + 2;
}

void audit_jw_init(struct jw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap > JW_RESERVE ? cap - JW_RESERVE : 0;
	w->len = 0;
	w->depth = 0;
	w->truncated = w->cap < 2;
	w->first[0] = true;
	w->closer[0] = '}';
	if (!w->truncated)
		w->buf[w->len++] = '{';
}

/* Appends raw bytes; on overflow marks the writer truncated and leaves the
 * caller to roll back to the last boundary. */
static bool put(struct jw *w, const char *s, size_t n)
{
	if (w->truncated || w->len >= w->cap || n > w->cap - w->len) {
		w->truncated = true;
		return false;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return true;
}

static bool putc1(struct jw *w, char c)
{
	return put(w, &c, 1);
}

/* Separator plus key for an object member, or just the separator for an
 * array element (key == NULL). */
static bool sep_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth] && !putc1(w, ','))
		return false;
	if (key && !(putc1(w, '"') && put(w, key, strlen(key)) && put(w, "\":", 2)))
		return false;
	return true;
}

/* Every value goes through here: it writes separator, key and value, or
 * nothing at all (rolled back), which is what makes truncation land on a
 * field boundary. */
static void field(struct jw *w, const char *key, const char *val, size_t n)
{
	size_t mark = w->len;

	if (w->truncated)
		return;
	if (sep_key(w, key) && put(w, val, n)) {
		w->first[w->depth] = false;
		return;
	}
	w->len = mark;
	w->truncated = true;
}

static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (need > left)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, no UTF-16 surrogates, nothing past U+10FFFF:
	 * strict decoders reject the whole line for any of them. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return need;
}

/* Writes a quoted, escaped string.  Bytes that are not valid UTF-8 (paths
 * may hold anything) are written as \u00XX so the line stays valid JSON. */
static bool put_string(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	if (!putc1(w, '"'))
		return false;
	for (size_t i = 0; i < n;) {
		size_t sl = utf8_seq_len(p + i, n - i);
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};
		bool ok;

		if (sl > 1 || (sl == 1 && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')) {
			ok = put(w, s + i, sl);
			i += sl;
			continue;
		}
		if (p[i] == '"' || p[i] == '\\') {
			esc[1] = (char)p[i];
			ok = put(w, esc, 2);
		} else if (p[i] == '\n') {
			ok = put(w, "\\n", 2);
		} else if (p[i] == '\t') {
			ok = put(w, "\\t", 2);
		} else {
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			ok = put(w, esc, 6);
		}
		if (!ok)
			return false;
		i++;
	}
	return putc1(w, '"');
}

static void str_field(struct jw *w, const char *key, const char *s, size_t n)
{
	size_t mark = w->len;

	if (w->truncated)
		return;
	if (sep_key(w, key) && put_string(w, s, n)) {
		w->first[w->depth] = false;
		return;
	}
	w->len = mark;
	w->truncated = true;
}

void audit_jw_int(struct jw *w, const char *key, long long v)
{
	char num[24];

	field(w, key, num, audit_fmt_i64(num, v));
}

void audit_jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	char num[24];

	field(w, key, num, audit_fmt_u64(num, v));
}

void audit_jw_hex(struct jw *w, const char *key, uintptr_t v)
{
	char num[24];

	num[0] = '"';
	size_t n = 1 + audit_fmt_hex(num + 1, v);
	num[n++] = '"';
	field(w, key, num, n);
}

void audit_jw_str(struct jw *w, const char *key, const char *s)
{
	if (!s)
		audit_jw_null(w, key);
	else
		str_field(w, key, s, strlen(s));
}

void audit_jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
	str_field(w, key, s, n);
}

void audit_jw_bool(struct jw *w, const char *key, bool v)
{
	field(w, key, v ? "true" : "false", v ? 4 : 5);
}

void audit_jw_null(struct jw *w, const char *key)
{
	field(w, key, "null", 4);
}

static void open_container(struct jw *w, const char *key, char open, char close)
{
	if (w->depth >= JW_MAX_DEPTH) {
		w->truncated = true;
		return;
	}
	field(w, key, &open, 1);
	if (w->truncated)
		return;
	w->depth++;
	w->first[w->depth] = true;
	w->closer[w->depth] = close;
}

void audit_jw_obj_begin(struct jw *w, const char *key)
{
	open_container(w, key, '{', '}');
}

void audit_jw_arr_begin(struct jw *w, const char *key)
{
	open_container(w, key, '[', ']');
}

void audit_jw_end(struct jw *w)
{
	/* Once truncated, finish() closes what is open; closing here would
	 * unbalance the stack. */
	if (w->truncated || w->depth == 0)
		return;
	w->buf[w->len++] = w->closer[w->depth--];
}

void audit_jw_el_int(struct jw *w, long long v)
{
	audit_jw_int(w, NULL, v);
}

void audit_jw_el_str(struct jw *w, const char *s)
{
	audit_jw_str(w, NULL, s);
}

void audit_jw_el_hex(struct jw *w, uintptr_t v)
{
	audit_jw_hex(w, NULL, v);
}

/* Writes into the reserve, which init() kept back for exactly this. */
static void put_reserved(struct jw *w, const char *s, size_t n)
{
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

size_t audit_jw_finish(struct jw *w)
{
	if (!w->buf || (w->cap == 0 && w->len == 0))
		return 0;
	while (w->depth > 0)
		put_reserved(w, &w->closer[w->depth--], 1);
	if (w->truncated)
		put_reserved(w, w->first[0] ? "\"truncated\":true" : ",\"truncated\":true", w->first[0] ? 16 : 17);
	put_reserved(w, "}\n", 2);
	return w->len;
}
