/* mode=audit is transparent: every helper prints the same transcript, the
 * same stderr (less the '@' id lines) and ends with the same wait status
 * natively and under the shim. */
#define _GNU_SOURCE
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Line-by-line comparison with a diff-like report of the differing lines. */
static void assert_same_text(const char *file, int line, const char *what,
			     const char *native, const char *shim)
{
	char report[6000];
	size_t o = 0;
	int lineno = 1, shown = 0;
	const char *a = native, *b = shim;

	if (strcmp(native, shim) == 0)
		return;
	while ((*a || *b) && shown < 12) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		if (la != lb || strncmp(a, b, la) != 0) {
			o += (size_t)snprintf(report + o, sizeof report - o,
					      "\n  @@ line %d\n  - native: %.*s\n  + shim:   %.*s",
					      lineno, (int)(la > 300 ? 300 : la), a,
					      (int)(lb > 300 ? 300 : lb), b);
			shown++;
		}
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
		lineno++;
		if (o >= sizeof report - 700)
			break;
	}
	it_fail(file, line, "%s differs between native and mode=audit (%zu vs %zu bytes):%s",
		what, strlen(native), strlen(shim), report);
}

static char *slurp(const char *dir, const char *name)
{
	char path[600];
	FILE *f;
	char *buf = NULL;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return strdup("(missing)");
	FILE *m = open_memstream(&buf, &n);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* Runs `native` and `shim` (same helper and args) and compares them. */
static void compare(struct it_run *native, struct it_run *shim, const char *extra_file)
{
	it_run(native);
	it_run(shim);
	it_context("native in %s, shim in %s", native->dir, shim->dir);
	it_assert_msg(native->out_len > 0, "native run printed nothing: %s; stderr: %s",
		      it_status_str(native->status), native->err);
	it_assert_msg(native->status == shim->status,
		      "wait status: native %s, mode=audit %s; shim stderr: %s",
		      it_status_str(native->status), it_status_str(shim->status), shim->err);
	assert_same_text(__FILE__, __LINE__, "stdout transcript", native->out, shim->out);
	char *en = it_err_filtered(native), *es = it_err_filtered(shim);
	assert_same_text(__FILE__, __LINE__, "stderr (without @ lines)", en, es);
	free(en);
	free(es);
	if (extra_file) {
		char *fn = slurp(native->dir, extra_file), *fs = slurp(shim->dir, extra_file);
		assert_same_text(__FILE__, __LINE__, extra_file, fn, fs);
		free(fn);
		free(fs);
	}
	/* The shim really ran: otherwise this test proves nothing. */
	it_assert_msg(shim->nlogs >= 1, "mode=audit run wrote no log in %s", shim->dir);
	it_run_free(native);
	it_run_free(shim);
}

static void compare_helper(const char *helper, const char *arg, const char *options)
{
	struct it_run n = { .helper = helper, .args = { arg } };
	struct it_run s = { .helper = helper, .args = { arg }, .shim = 1, .options = options };

	compare(&n, &s, NULL);
}

IT_TEST(handlers)
{
	compare_helper("calls-handlers", NULL, NULL);
}
IT_END

IT_TEST(handlers_backtrace)
{
	compare_helper("calls-handlers", NULL, "backtrace=8");
}
IT_END

IT_TEST(masks)
{
	compare_helper("calls-masks", NULL, NULL);
}
IT_END

IT_TEST(send)
{
	compare_helper("calls-send", NULL, NULL);
}
IT_END

IT_TEST(send_backtrace)
{
	compare_helper("calls-send", NULL, "backtrace=8");
}
IT_END

IT_TEST(threads_example)
{
	compare_helper("threads-example", NULL, NULL);
}
IT_END

IT_TEST(lifecycle_fork)
{
	compare_helper("lifecycle", "fork", NULL);
}
IT_END

IT_TEST(lifecycle_forkthread)
{
	compare_helper("lifecycle", "forkthread", NULL);
}
IT_END

IT_TEST(lifecycle_exec)
{
	compare_helper("lifecycle", "exec", NULL);
}
IT_END

IT_TEST(lifecycle_exec_inherits)
{
	struct it_run n = { .helper = "lifecycle", .args = { "inherit" } };
	struct it_run s = { .helper = "lifecycle", .args = { "inherit" }, .shim = 1 };

	it_run(&n);
	/* the native baseline itself: what exec really keeps (valgrind, which
	 * sits between exec and the program, does not pass SIG_IGN on; the
	 * native-vs-shim comparison below still runs there) */
	if (!it_under_valgrind())
		it_assert_str_contains(n.out, "sigaction(SIGHUP, NULL, &old) -> 0 errno=0 old={SIG_IGN");
	it_assert_str_contains(n.out, "  pending [12]");
	it_assert_str_contains(n.out, "  handled h_usr1 SIGUSR2");
	it_run_free(&n);
	n = (struct it_run){ .helper = "lifecycle", .args = { "inherit" } };
	compare(&n, &s, NULL);
}
IT_END

static long file_size(const char *dir, const char *name)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

IT_TEST(lifecycle_closefds)
{
	struct it_run n = { .helper = "lifecycle", .args = { "closefds" } };
	struct it_run s = { .helper = "lifecycle", .args = { "closefds" }, .shim = 1 };

	/* stdout is closed early: the transcript is in ./closefds.out */
	it_run(&n);
	it_run(&s);
	it_context("native in %s, shim in %s", n.dir, s.dir);
	it_assert_msg(n.status == s.status, "wait status: native %s, mode=audit %s",
		      it_status_str(n.status), it_status_str(s.status));
	char *fn = slurp(n.dir, "closefds.out"), *fs = slurp(s.dir, "closefds.out");
	it_assert_str_contains(fn, "close 0..1023: ok=3 ebadf=1021");
	assert_same_text(__FILE__, __LINE__, "closefds.out", fn, fs);
	/* every descriptor pointed at "victim": nothing may have landed there */
	it_assert_int_eq(file_size(n.dir, "victim"), 0);
	it_assert_int_eq(file_size(s.dir, "victim"), 0);
	it_assert_msg(s.nlogs == 1, "expected one log in %s, found %d", s.dir, s.nlogs);
	free(fn);
	free(fs);
	it_run_free(&n);
	it_run_free(&s);
}
IT_END

/* libearly's constructor installs handlers; as a DT_NEEDED and as the last
 * LD_PRELOAD entry it runs before the shim's constructor, as the first
 * entry after it. */
static void compare_early(const char *preload)
{
	struct it_run n = { .helper = "early-main" };
	struct it_run s = { .helper = "early-main", .shim = 1, .preload = preload };

	compare(&n, &s, NULL);
}

IT_TEST(early_linked)
{
	compare_early(NULL);
}
IT_END

IT_TEST(early_preload_after_shim)
{
	compare_early("{shim} {helpers}/libearly.so");
}
IT_END

IT_TEST(early_preload_before_shim)
{
	compare_early("{helpers}/libearly.so {shim}");
}
IT_END

static Suite *transparency_suite(void)
{
	Suite *s = suite_create("integration");
	TCase *tc = tcase_create("transparency");

	tcase_set_timeout(tc, 100);
	tcase_add_test(tc, handlers);
	tcase_add_test(tc, handlers_backtrace);
	tcase_add_test(tc, masks);
	tcase_add_test(tc, send);
	tcase_add_test(tc, send_backtrace);
	tcase_add_test(tc, threads_example);
	tcase_add_test(tc, lifecycle_fork);
	tcase_add_test(tc, lifecycle_forkthread);
	tcase_add_test(tc, lifecycle_exec);
	tcase_add_test(tc, lifecycle_exec_inherits);
	tcase_add_test(tc, lifecycle_closefds);
	tcase_add_test(tc, early_linked);
	tcase_add_test(tc, early_preload_after_shim);
	tcase_add_test(tc, early_preload_before_shim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return it_main(transparency_suite());
}
