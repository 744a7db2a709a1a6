/* async-signal-safe
 *
 * A JSON-lines encoder that writes into a caller-supplied buffer (normally on
 * the stack).  No malloc, no stdio, no locks: it is used from signal
 * handlers.  When an event does not fit, it is cut at the last complete
 * field or array element and closed with "truncated":true, so every line is
 * valid JSON no matter what. */
#ifndef SIGSHIM_JSONW_H
#define SIGSHIM_JSONW_H

#include <stddef.h>

/* The longest event line (with its newline): call events are built in a
 * buffer this size, and anything longer is cut and says "truncated". */
#define AUDIT_LINE_MAX 4096
#include <stdint.h>
#include <stdbool.h>

#define JW_MAX_DEPTH 8
/* Room kept back for the closers and ,"truncated":true}\n */
#define JW_RESERVE (JW_MAX_DEPTH + 24)

struct jw {
	char *buf;
	size_t cap;        /* usable bytes, JW_RESERVE already taken off */
	size_t len;
	int depth;         /* open containers beyond the top-level object */
	bool truncated;
	bool first[JW_MAX_DEPTH + 1];
	char closer[JW_MAX_DEPTH + 1];
};

/* Starts a line: writes "{".  `cap` must exceed JW_RESERVE + 2. */
void audit_jw_init(struct jw *w, char *buf, size_t cap);
/* Closes every open container, adds "truncated":true when anything was cut,
 * and the final "}\n".  Returns the line length. */
size_t audit_jw_finish(struct jw *w);

/* Members of the current object.  `key` is written as-is (keys are literals
 * chosen by us and never need escaping). */
void audit_jw_int(struct jw *w, const char *key, long long v);
void audit_jw_uint(struct jw *w, const char *key, unsigned long long v);
void audit_jw_str(struct jw *w, const char *key, const char *s);   /* NULL -> null */
void audit_jw_strn(struct jw *w, const char *key, const char *s, size_t n);
void audit_jw_hex(struct jw *w, const char *key, uintptr_t v);     /* "0x…" */
void audit_jw_bool(struct jw *w, const char *key, bool v);
void audit_jw_null(struct jw *w, const char *key);
void audit_jw_obj_begin(struct jw *w, const char *key);
void audit_jw_arr_begin(struct jw *w, const char *key);
void audit_jw_end(struct jw *w);   /* closes the innermost container */

/* Elements of the current array. */
void audit_jw_el_int(struct jw *w, long long v);
void audit_jw_el_str(struct jw *w, const char *s);
void audit_jw_el_hex(struct jw *w, uintptr_t v);

/* Integer formatting, exposed for the other async-signal-safe writers.
 * Returns the number of characters written (no NUL). `out` needs 21 bytes. */
size_t audit_fmt_u64(char *out, unsigned long long v);
size_t audit_fmt_i64(char *out, long long v);
size_t audit_fmt_hex(char *out, uintptr_t v);   /* "0x" prefix, 19 bytes */

#endif
