/* Integration test harness: runs a helper program (tests/helpers) natively
 * or under libsigshim.so in a fresh temporary directory, captures its
 * stdout, stderr and wait status, loads its logs with the reader sigaudit
 * uses, and asserts on events.
 *
 * The check runner itself never has the shim preloaded: LD_PRELOAD is set
 * only in the spawned helper's environment.  check stays behind the it_*
 * macros below so the runner can be replaced. */
#ifndef SIGSHIM_IT_HARNESS_H
#define SIGSHIM_IT_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#define IT_MAX_LOGS 64
#define IT_MAX_ARGS 8
#define IT_MAX_ENV 8

struct it_run {
	/* in */
	const char *helper;               /* file name in $SIGSHIM_HELPERS, or an absolute path */
	const char *args[IT_MAX_ARGS];    /* extra arguments, NULL-terminated */
	int shim;                         /* preload libsigshim.so */
	const char *options;              /* appended to the default options */
	const char *raw_options;          /* used verbatim instead ("{dir}" expands) */
	const char *preload;              /* LD_PRELOAD verbatim ("{shim}", "{helpers}" expand) */
	const char *env[IT_MAX_ENV];      /* extra "K=V" for the child */
	/* out */
	char dir[256];                    /* the run's temporary directory */
	pid_t pid;
	int status;                       /* waitpid status */
	char *out, *err;                  /* NUL-terminated captures */
	size_t out_len, err_len;
	char *logs[IT_MAX_LOGS];          /* dir/log.*.jsonl, sorted */
	int nlogs;
};

/* Runs r->helper; fills the out fields.  Fails the test on harness errors. */
void it_run(struct it_run *r);
/* Frees the captures and removes the directory (kept if the test failed or
 * SIGSHIM_KEEP is set). */
void it_run_free(struct it_run *r);

/* The log written by process `pid` (dir/log.PID.jsonl), or NULL. */
const char *it_log_for(const struct it_run *r, pid_t pid);
/* Loads a log with tool_logread_load(); fails the test on I/O errors or on
 * any malformed line.  New reference. */
json_t *it_load(const char *path);
/* Loads the log of r->pid, which must exist. */
json_t *it_load_main(const struct it_run *r);

/* stderr without the helpers' '@' id lines (new string, free it). */
char *it_err_filtered(const struct it_run *r);
/* An id printed by a helper on stderr: "@thread NAME V", "@fn NAME V",
 * "@pid V", "@child V" (nth occurrence, from 0).  Fails if missing. */
unsigned long long it_id(const struct it_run *r, const char *kind, const char *name);
unsigned long long it_id_nth(const struct it_run *r, const char *kind,
			     const char *name, int nth);

/* --- finding events -------------------------------------------------------
 * A pattern is a JSON object built with json_pack() syntax: an event matches
 * when every key of the pattern is present with an equal value (a nested
 * object matches when its keys match, recursively). */
int it_match(json_t *ev, json_t *pattern);
/* Index of the first event at or after `from` matching the pattern, or -1. */
long it_find(json_t *events, long from, const char *fmt, ...);
/* Number of events matching the pattern. */
long it_count(json_t *events, const char *fmt, ...);
/* Like it_find but fails the test (printing the pattern) when absent. */
#define it_expect(events, from, ...) \
	it_expect_at(__FILE__, __LINE__, events, from, __VA_ARGS__)
long it_expect_at(const char *file, int line, json_t *events, long from,
		  const char *fmt, ...);
/* The event at index i (borrowed). */
#define it_ev(events, i) json_array_get(events, (size_t)(i))

/* Numeric value of a "0x…" string or an integer (0 when neither). */
unsigned long long it_hex(json_t *v);
/* Sorted integer list of a JSON array of integers, as "[1 2 3]". */
char *it_intlist(json_t *arr, char *buf, size_t n);
/* Set of strings of a JSON array, sorted, "A,B" (for flags). */
char *it_strset(json_t *arr, char *buf, size_t n);

/* --- assertions: print file, line, the expressions and both values -------- */
void it_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/* Context printed with every failure (e.g. the run directory). */
void it_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define it_assert(c) do { if (!(c)) \
	it_fail(__FILE__, __LINE__, "assertion failed: %s", #c); } while (0)
#define it_assert_msg(c, ...) do { if (!(c)) \
	it_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define it_assert_int_eq(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) it_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)
#define it_assert_int_ne(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ == b_) it_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, a_); \
	} while (0)
#define it_assert_int_gt(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (!(a_ > b_)) it_fail(__FILE__, __LINE__, "%s > %s: %lld <= %lld", #a, #b, a_, b_); \
	} while (0)
#define it_assert_int_ge(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (!(a_ >= b_)) it_fail(__FILE__, __LINE__, "%s >= %s: %lld < %lld", #a, #b, a_, b_); \
	} while (0)
#define it_assert_str_eq(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) it_fail(__FILE__, __LINE__, \
		"%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)
#define it_assert_str_contains(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !strstr(h_, n_)) it_fail(__FILE__, __LINE__, \
		"%s contains %s: \"%s\" does not contain \"%s\"", #hay, #needle, \
		h_ ? h_ : "(null)", n_); } while (0)
/* JSON: field `key` of object `obj` equals the json_pack() value. */
#define it_assert_field(obj, key, ...) \
	it_assert_field_at(__FILE__, __LINE__, obj, key, __VA_ARGS__)
void it_assert_field_at(const char *file, int line, json_t *obj, const char *key,
			const char *fmt, ...);
/* Field absent. */
#define it_assert_no_field(obj, key) do { json_t *o_ = (obj); \
	if (json_object_get(o_, key)) it_fail(__FILE__, __LINE__, \
		"field \"%s\" must be absent in %s", key, it_dump(o_)); } while (0)
/* Field present (any value) and returned (borrowed). */
#define it_field(obj, key) it_field_at(__FILE__, __LINE__, obj, key)
json_t *it_field_at(const char *file, int line, json_t *obj, const char *key);
/* Integer field. */
#define it_int(obj, key) it_int_at(__FILE__, __LINE__, obj, key)
long long it_int_at(const char *file, int line, json_t *obj, const char *key);
/* Compact JSON of a value, valid until the next it_dump call (4 slots). */
const char *it_dump(json_t *v);

/* Waitpid status helpers for messages. */
const char *it_status_str(int status);

/* --- suites ---------------------------------------------------------------- */
/* Runs the suite with CK_FORK (the default) and returns the exit code. */
int it_main(Suite *s);
#define IT_TEST(name) START_TEST(name)
#define IT_END END_TEST

/* True when the helpers run with a sanitizer runtime preloaded first. */
int it_sanitizer_preloaded(void);
/* Removes the "early" call events whose handler lies in the sanitizer
 * runtime (located through the log's sigshim.module lines). */
void it_drop_sanitizer_events(json_t *evs);

/* Compare with native: runs `helper CASE` natively and then under each
 * SIGSHIM_OPTIONS of `opts` (NULL-terminated; "{dir}" expands), with the
 * extra `env` ("K=V", NULL-terminated, may be NULL) in every run, and
 * fails unless each prints native's stdout and ends with native's status.
 * Native must exit 0.  The run under opts[keep] is left in *kept (free
 * it) when kept is not NULL. */
void it_same_as_native(const char *helper, const char *name, const char *const *opts,
		       const char *const *env, int keep, struct it_run *kept);

/* True under the valgrind test setup (meson test --setup valgrind). */
int it_under_valgrind(void);
/* `sigaudit check` (the built tool) on every log.*.jsonl of dir: its exit
 * status (-1 when it did not exit), its stdout and stderr together in
 * *output (malloc'd; may be NULL). */
int it_sigaudit_check(const char *dir, char **output);

#endif
