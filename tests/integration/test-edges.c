/* The shim in a hostile host (issue 10): each case of
 * tests/helpers/edge-cases.c runs natively and under the shim (both modes,
 * with a log: the log's writer is what these cases attack), and what the
 * program observed must be the same. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
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

/* 2. the parent's violation count is not the child's */
IT_TEST(fork_child_has_no_violations)
{
	struct it_run r;

	memset(&r, 0, sizeof r);
	r.helper = "edge-cases";
	r.args[0] = "fork-after-violation";
	r.shim = 1;
	r.raw_options = "mode=enforce:log_path={dir}/log.%p.jsonl:exitcode=3:report=off";
	it_run(&r);
	it_assert_str_eq(r.out, "child status 0\n");
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3, "parent: %s",
		      it_status_str(r.status));
	it_run_free(&r);
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
	struct it_run r;

	memset(&r, 0, sizeof r);
	r.helper = "edge-cases";
	r.args[0] = "output-then-violation";
	r.shim = 1;
	r.raw_options = "mode=enforce:exitcode=3:report=off";
	it_run(&r);
	it_assert_str_eq(r.out, "buffered output, flushed by exit\n");
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3, "%s",
		      it_status_str(r.status));
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
	suite_add_tcase(s, tc);
	return it_main(s);
}
