/* Unit tests of sigaudit's helpers: signal names, suppressions, list
 * filters, the log set (grouping, module map, threads) and the reader's
 * robustness on bad input made at test time. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"
#include "sa-test.h"
#include "sigaudit.h"

static json_t *ev_of(const char *text)
{
	json_error_t err;
	json_t *ev = json_loads(text, 0, &err);

	ck_assert_msg(ev != NULL, "bad test JSON: %s", err.text);
	return ev;
}

/* ---- signal names ---- */

START_TEST(signal_parse_names_and_numbers)
{
	ck_assert_int_eq(tool_signal_parse("SIGUSR1"), SIGUSR1);
	ck_assert_int_eq(tool_signal_parse("USR1"), SIGUSR1);
	ck_assert_int_eq(tool_signal_parse("usr2"), SIGUSR2);
	ck_assert_int_eq(tool_signal_parse("10"), 10);
	ck_assert_int_eq(tool_signal_parse("SIGRTMIN+2"), SIGRTMIN + 2);
	ck_assert_int_eq(tool_signal_parse("RTMAX-1"), SIGRTMAX - 1);
	ck_assert_int_eq(tool_signal_parse("RTMIN"), SIGRTMIN);
	ck_assert_int_eq(tool_signal_parse("SIGBOGUS"), -1);
	ck_assert_int_eq(tool_signal_parse("RTMIN+99"), -1);
	ck_assert_int_eq(tool_signal_parse(""), -1);
	ck_assert_int_eq(tool_signal_parse("-3"), -1);
}
END_TEST

START_TEST(signal_names)
{
	char buf[32];

	ck_assert_str_eq(tool_signal_name(SIGUSR1, buf, sizeof buf), "SIGUSR1");
	ck_assert_str_eq(tool_signal_name(SIGRTMIN + 3, buf, sizeof buf), "SIGRTMIN+3");
	ck_assert_str_eq(tool_signal_name(999, buf, sizeof buf), "999");
}
END_TEST

START_TEST(event_kinds_and_handlers)
{
	json_t *sa = ev_of("{\"event\":\"signal.sigaction\",\"act\":{\"handler\":\"0x10\"}}");
	json_t *q = ev_of("{\"event\":\"signal.sigaction\",\"act\":null}");
	json_t *sg = ev_of("{\"event\":\"signal.signal\",\"handler\":\"SIG_IGN\"}");

	ck_assert_int_eq(tool_event_kind("signal.pthread_kill"), TOOL_K_SEND);
	ck_assert_int_eq(tool_event_kind("signal.received"), TOOL_K_RECEIVE);
	ck_assert_int_eq(tool_event_kind("signal.forwarded"), TOOL_K_FORWARD);
	ck_assert_int_eq(tool_event_kind("signal.handled"), TOOL_K_HANDLE);
	ck_assert_int_eq(tool_event_kind("signal.pthread_sigmask"), TOOL_K_MASK);
	ck_assert_int_eq(tool_event_kind("signal.bsd_signal"), TOOL_K_INSTALL);
	ck_assert_int_eq(tool_event_kind("sigshim.exit"), TOOL_K_LIFECYCLE);
	ck_assert_int_eq(tool_event_kind("other"), TOOL_K_OTHER);
	ck_assert_str_eq(tool_event_handler(sa), "0x10");
	ck_assert_ptr_null(tool_event_handler(q));
	ck_assert_str_eq(tool_event_handler(sg), "SIG_IGN");
	json_decref(sa);
	json_decref(q);
	json_decref(sg);
}
END_TEST

/* ---- suppressions ---- */

static const char *viol_json =
	"{\"event\":\"signal.sigaction\",\"signalnum\":10,\"signame\":\"SIGUSR1\","
	"\"violation\":\"install-off-main\",\"policy\":\"report\"}";

static struct tool_frame frames[2] = {
	{.addr = 0x1000, .func = "vendor_init", .file = "/src/vendor/lib.c", .line = 3,
	 .module = "/usr/lib/libvendor.so.1"},
	{.addr = 0x2000, .func = "main", .file = "/src/app/main.c", .line = 9,
	 .module = "/usr/bin/app"},
};

static const char *match_one(const char *supp_text)
{
	static char line[256];
	struct tool_supp *s = tool_supp_parse(supp_text, "test");
	json_t *ev = ev_of(viol_json);
	const char *m;

	ck_assert_msg(s != NULL, "suppressions did not parse: %s", supp_text);
	m = tool_supp_match(s, ev, frames, 2);
	snprintf(line, sizeof line, "%s", m ? m : "");
	tool_supp_free(s);
	json_decref(ev);
	return m ? line : NULL;
}

START_TEST(suppress_each_type)
{
	ck_assert_str_eq(match_one("rule:install-off-main\n"), "rule:install-off-main");
	ck_assert_str_eq(match_one("rule:install-*"), "rule:install-*");
	ck_assert_str_eq(match_one("signal:SIGUSR1"), "signal:SIGUSR1");
	ck_assert_str_eq(match_one("signal:usr1"), "signal:usr1");
	ck_assert_str_eq(match_one("signal:10"), "signal:10");
	ck_assert_str_eq(match_one("event:signal.sig*"), "event:signal.sig*");
	ck_assert_str_eq(match_one("function:vendor_*"), "function:vendor_*");
	ck_assert_str_eq(match_one("function:main"), "function:main");
	ck_assert_str_eq(match_one("module:*libvendor.so*"), "module:*libvendor.so*");
	ck_assert_str_eq(match_one("src:*/vendor/*"), "src:*/vendor/*");
}
END_TEST

START_TEST(suppress_no_match_and_comments)
{
	ck_assert_ptr_null(match_one("rule:other-rule\nsignal:SIGUSR2\nfunction:foo*\n"));
	ck_assert_ptr_null(match_one("# only a comment\n\n   \n"));
	ck_assert_str_eq(match_one("# c\n\n  src:*/app/*  \n"), "src:*/app/*");
}
END_TEST

START_TEST(suppress_rejects_bad_lines)
{
	ck_assert_ptr_null(tool_supp_parse("rule:ok\nbogus:x\n", "t"));
	ck_assert_ptr_null(tool_supp_parse("no colon here\n", "t"));
	ck_assert_ptr_null(tool_supp_parse("rule:\n", "t"));
	ck_assert_ptr_null(tool_supp_load("/nonexistent/supp.txt"));
}
END_TEST

/* ---- filters ---- */

/* Filters look at an event's whole line (list reads it back). */
static json_t *event_of(const char *text)
{
	return ev_of(text);
}

static void free_event(json_t *e)
{
	json_decref(e);
}

START_TEST(filters)
{
	json_t *k = event_of("{\"pid\":5,\"tid\":6,\"event\":\"signal.pthread_kill\","
		"\"thread_id\":100,\"caller_thread_id\":200,\"signalnum\":10}");
	struct tool_filter f = {0};

	ck_assert(tool_filter_match(&f, k));
	ck_assert_int_eq(tool_filter_add(&f, 'e', "pthread_kill"), 0);
	ck_assert(tool_filter_match(&f, k));
	ck_assert_int_eq(tool_filter_add(&f, 's', "USR1"), 0);
	ck_assert(tool_filter_match(&f, k));
	ck_assert_int_eq(tool_filter_add(&f, 't', "200"), 0);
	ck_assert(tool_filter_match(&f, k));
	ck_assert_int_eq(tool_filter_add(&f, 'p', "5"), 0);
	ck_assert(tool_filter_match(&f, k));
	f.violations = true;
	ck_assert(!tool_filter_match(&f, k));
	free_event(k);
}
END_TEST

START_TEST(filters_reject)
{
	json_t *k = event_of("{\"pid\":5,\"tid\":6,\"event\":\"signal.raise\","
		"\"thread_id\":100,\"signalnum\":12}");
	struct tool_filter f = {0}, g = {0}, h = {0};

	ck_assert_int_eq(tool_filter_add(&f, 's', "NOPE"), -1);
	ck_assert_int_eq(tool_filter_add(&f, 't', "12x"), -1);
	tool_filter_add(&g, 'e', "signal.kill");
	tool_filter_add(&g, 'e', "*.rai*");         /* alternatives: either */
	ck_assert(tool_filter_match(&g, k));
	tool_filter_add(&h, 't', "6");              /* by tid */
	ck_assert(tool_filter_match(&h, k));
	tool_filter_add(&h, 's', "SIGUSR1");
	ck_assert(!tool_filter_match(&h, k));
	free_event(k);
}
END_TEST

/* ---- log set ---- */

START_TEST(logset_groups_processes)
{
	struct tool_logset ls;
	const struct tool_proc *child;

	tool_logset_init(&ls);
	ck_assert_int_eq(tool_logset_add_arg(&ls, sa_data("tree.*.jsonl")), 0);
	ck_assert_int_eq(tool_logset_add_arg(&ls, sa_data("violations.jsonl")), 0);
	tool_logset_finish(&ls);
	ck_assert_int_eq(ls.nfiles, 3);
	ck_assert_int_eq(ls.nprocs, 3);
	child = tool_logset_proc(&ls, 6001);
	ck_assert_ptr_nonnull(child);
	ck_assert_ptr_eq(child->parent, tool_logset_proc(&ls, 6000));
	ck_assert_ptr_null(child->exit);
	ck_assert_int_eq(tool_proc_tid_of(child, 140234861856320LL), 6002);
	ck_assert_int_eq(tool_logset_proc(&ls, 5150)->nmods, 2);
	ck_assert_str_eq(tool_logset_proc(&ls, 5150)->mods[1].path, "/opt/app/lib/libvendor.so.1");
	for (size_t i = 1; i < child->n; i++)
		ck_assert(tool_pev(child, i - 1)->seq < tool_pev(child, i)->seq);
	tool_logset_free(&ls);
}
END_TEST

START_TEST(logset_missing_file)
{
	struct tool_logset ls;

	tool_logset_init(&ls);
	ck_assert_int_lt(tool_logset_add_arg(&ls, "/nonexistent/x.jsonl"), 0);
	ck_assert_int_lt(tool_logset_add_arg(&ls, "/nonexistent/*.jsonl"), 0);
	ck_assert_int_eq(ls.io_errors, 2);
	tool_logset_free(&ls);
}
END_TEST

/* ---- the reader on bad input ---- */

struct errs {
	int n;
	long lines[16];
};

static void count_err(const char *file, long line, const char *why, void *ud)
{
	struct errs *e = ud;

	if (e->n < 16)
		e->lines[e->n] = line;
	e->n++;
}

static const char *good =
	"{\"v\":1,\"seq\":1,\"ts\":1,\"pid\":1,\"tid\":1,\"event\":\"signal.raise\"}\n";

START_TEST(reader_huge_line_then_good)
{
	size_t big = LOGREAD_MAX_LINE + 100;
	char *buf = malloc(big + 200);
	struct logread_stats st = {0};
	struct errs e = {0};
	FILE *f;

	/* a valid-looking object padded past the limit with spaces */
	strcpy(buf, "{\"v\":1,\"seq\":1,\"ts\":1,\"pid\":1,\"tid\":1,\"event\":\"x\"");
	memset(buf + strlen(buf), ' ', big);
	strcpy(buf + big, "}\n");
	strcat(buf, good);
	f = fmemopen(buf, strlen(buf), "r");
	ck_assert_int_eq(tool_logread_stream(f, "big", NULL, count_err, &e, &st), 0);
	fclose(f);
	ck_assert_int_eq(e.n, 1);
	ck_assert_int_eq(e.lines[0], 1);
	ck_assert_int_eq(st.events, 1);
	free(buf);
}
END_TEST

START_TEST(reader_nul_junk_and_truncation)
{
	static const char junk[] = "\x7f" "ELF\0\0\1\2\3\n";
	char buf[512];
	size_t len = 0;
	struct logread_stats st = {0};
	struct errs e = {0};
	FILE *f;

	memcpy(buf, junk, sizeof junk - 1);
	len += sizeof junk - 1;
	len += (size_t)sprintf(buf + len, "%s{\"v\":1,\"seq\":2", good);
	f = fmemopen(buf, len, "r");
	ck_assert_int_eq(tool_logread_stream(f, "junk", NULL, count_err, &e, &st), 0);
	fclose(f);
	ck_assert_int_eq(e.n, 2);
	ck_assert_int_eq(e.lines[0], 1);   /* NUL bytes */
	ck_assert_int_eq(e.lines[1], 3);   /* no newline at the end */
	ck_assert_int_eq(st.events, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sigaudit-unit");
	TCase *tc = tcase_create("unit");

	tcase_add_test(tc, signal_parse_names_and_numbers);
	tcase_add_test(tc, signal_names);
	tcase_add_test(tc, event_kinds_and_handlers);
	tcase_add_test(tc, suppress_each_type);
	tcase_add_test(tc, suppress_no_match_and_comments);
	tcase_add_test(tc, suppress_rejects_bad_lines);
	tcase_add_test(tc, filters);
	tcase_add_test(tc, filters_reject);
	tcase_add_test(tc, logset_groups_processes);
	tcase_add_test(tc, logset_missing_file);
	tcase_add_test(tc, reader_huge_line_then_good);
	tcase_add_test(tc, reader_nul_junk_and_truncation);
	suite_add_tcase(s, tc);
	return sa_run_suite(s);
}
