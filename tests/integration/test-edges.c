/* The shim in a hostile host (issue 10): each case of
 * tests/helpers/edge-cases.c runs natively and under the shim (both modes,
 * with a log: the log's writer is what these cases attack), and what the
 * program observed must be the same. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *const variants[] = {
	"mode=audit:log_path={dir}/log.%p.jsonl",
	"mode=enforce:log_path={dir}/log.%p.jsonl",
	NULL,
};

#define SAME_AS_NATIVE(test, name) \
	IT_TEST(test) { it_same_as_native("edge-cases", name, variants, NULL, -1, NULL); } IT_END

/* 1. the log write is not a cancellation point */
SAME_AS_NATIVE(logging_adds_no_cancellation_point, "cancel-pending-mask")
/* 1. a handler that jumps out of a logged call leaves no writer counted */
SAME_AS_NATIVE(jump_out_of_logged_call_then_dup2, "jump-out-of-logged-call")

/* 2. signals that reach a child inside fork() are the child's */
IT_TEST(fork_window_deliveries_are_the_childs)
{
	struct it_run r;

	it_same_as_native("edge-cases", "fork-then-signal", variants, NULL, 1, &r);
	json_t *evs = it_load_main(&r);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.received"), 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* Runs `name` under `opts` and demands exactly `out` on stdout and exit
 * status 3 (exitcode=3 after a violation). */
static void exits_3_with(const char *name, const char *opts, const char *out)
{
	struct it_run r;

	memset(&r, 0, sizeof r);
	r.helper = "edge-cases";
	r.args[0] = name;
	r.shim = 1;
	r.raw_options = opts;
	it_run(&r);
	it_assert_str_eq(r.out, out);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3, "%s: %s", name,
		      it_status_str(r.status));
	it_run_free(&r);
}

/* 2. the parent's violation count is not the child's */
IT_TEST(fork_child_has_no_violations)
{
	exits_3_with("fork-after-violation",
		     "mode=enforce:log_path={dir}/log.%p.jsonl:exitcode=3:report=off",
		     "child status 0\n");
}
IT_END

/* 8. sigaction(sig, &sa, &sa) logs the new action as act, the old as oldact */
IT_TEST(sigaction_aliased_logs_both_actions)
{
	struct it_run r;
	char h[32];

	it_same_as_native("edge-cases", "sigaction-aliased", variants, NULL, 0, &r);
	snprintf(h, sizeof h, "%#llx", it_id(&r, "fn", "h_aliased"));
	json_t *evs = it_load_main(&r);
	long i = it_expect(evs, 0, "{s:s,s:i}", "event", "signal.sigaction", "signalnum", SIGUSR1);
	it_assert_field(json_object_get(it_ev(evs, i), "act"), "handler", "s", h);
	it_assert_field(json_object_get(it_ev(evs, i), "oldact"), "handler", "s", "SIG_DFL");
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 8. a line cut at its limit keeps the start event's identity fields */
IT_TEST(long_argv0_keeps_identity_fields)
{
	struct it_run r;

	it_same_as_native("edge-cases", "long-argv0", variants, NULL, 0, &r);
	json_t *evs = it_load_main(&r);
	long i = it_expect(evs, 1, "{s:s}", "event", "sigshim.start");   /* the exec'd image */
	json_t *ev = it_ev(evs, i);
	it_assert_field(ev, "truncated", "b", 1);
	it_assert_field(ev, "main_tid", "I", (json_int_t)r.pid);
	it_int(ev, "ppid");
	it_field(ev, "main_thread_id");
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 3. exitcode=N sets the status without throwing away buffered output */
IT_TEST(exitcode_keeps_stdio_output)
{
	exits_3_with("output-then-violation", "mode=enforce:exitcode=3:report=off",
		     "buffered output, flushed by exit\n");
}
IT_END

/* 8. a module path past the old 511-byte cut is logged whole; past what a
 * line holds, it is cut and says so */
static char *copy_helper_to_depth(char *dir, size_t dirlen, int levels)
{
	static char path[8192];
	char cmd[9000];

	snprintf(dir, dirlen, "/tmp/sigshim-longpath-XXXXXX");
	it_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s", dir);
	for (int i = 0; i < levels; i++) {
		size_t n = strlen(path);

		snprintf(path + n, sizeof path - n, "/%0200d", i);
		it_assert_msg(mkdir(path, 0700) == 0, "mkdir %s", path);
	}
	strcat(path, "/edge-cases");
	snprintf(cmd, sizeof cmd, "cp '%s/edge-cases' '%s'", getenv("SIGSHIM_HELPERS"), path);
	it_assert_int_eq(system(cmd), 0);
	return path;
}

static void long_path_case(int levels, int expect_cut)
{
	struct it_run r;
	char dir[64], cmd[128];
	const char *path = copy_helper_to_depth(dir, sizeof dir, levels);

	memset(&r, 0, sizeof r);
	r.helper = path;
	r.args[0] = "install-handler";
	r.shim = 1;
	r.raw_options = "mode=audit:log_path={dir}/log.%p.jsonl";
	it_run(&r);
	it_assert_str_eq(r.out, "installed\n");
	json_t *evs = it_load_main(&r);
	long i = it_expect(evs, 0, "{s:s}", "event", "sigshim.module");
	for (; i >= 0; i = it_find(evs, i + 1, "{s:s}", "event", "sigshim.module"))
		if (strstr(json_string_value(json_object_get(it_ev(evs, i), "path")), "sigshim-longpath"))
			break;
	it_assert_msg(i >= 0, "no module line for %s", path);
	const char *logged = json_string_value(json_object_get(it_ev(evs, i), "path"));
	if (expect_cut) {
		it_assert_field(it_ev(evs, i), "path_truncated", "b", 1);
		it_assert(strncmp(path, logged, strlen(logged)) == 0);
	} else {
		it_assert_str_eq(logged, path);
		it_assert_no_field(it_ev(evs, i), "path_truncated");
	}
	json_decref(evs);
	it_run_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	it_assert_int_eq(system(cmd), 0);
}

IT_TEST(module_path_whole_past_511_bytes) { long_path_case(4, 0); } IT_END
IT_TEST(module_path_cut_says_so) { long_path_case(19, 1); } IT_END

/* 6. a relative log_path is made absolute at the first start: after a
 * chdir the exec'd image still starts and logs beside the first */
IT_TEST(relative_log_path_survives_chdir)
{
	static const char *const rel[] = { "mode=audit:log_path=log.%p.jsonl", NULL };
	struct it_run r;

	it_same_as_native("edge-cases", "chdir-then-exec", rel, NULL, 0, &r);
	json_t *evs = it_load_main(&r);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.start"), 2);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

int main(void)
{
	Suite *s = suite_create("edges");
	TCase *tc = tcase_create("edges");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, logging_adds_no_cancellation_point);
	tcase_add_test(tc, jump_out_of_logged_call_then_dup2);
	tcase_add_test(tc, fork_window_deliveries_are_the_childs);
	tcase_add_test(tc, fork_child_has_no_violations);
	tcase_add_test(tc, sigaction_aliased_logs_both_actions);
	tcase_add_test(tc, long_argv0_keeps_identity_fields);
	tcase_add_test(tc, exitcode_keeps_stdio_output);
	tcase_add_test(tc, module_path_whole_past_511_bytes);
	tcase_add_test(tc, module_path_cut_says_so);
	tcase_add_test(tc, relative_log_path_survives_chdir);
	suite_add_tcase(s, tc);
	return it_main(s);
}
