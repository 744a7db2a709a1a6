/* mode=enforce forwarding regressions (issue 8): each case of
 * tests/helpers/fwd-cases.c runs natively, under mode=audit, and under
 * mode=enforce with and without a log, and what the program observed
 * (stdout, exit status) must be the same in all four.  A few tests also
 * check what the log says about the case. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* audit, enforce with a log (kept for log checks: index 1), enforce */
static const char *const variants[] = {
	"mode=audit:log_path={dir}/log.%p.jsonl:backtrace=0",
	"mode=enforce:log_path={dir}/log.%p.jsonl:backtrace=0",
	"mode=enforce",
	NULL,
};
enum { ENFORCE_LOG = 1 };

/* Sanitizers pad every frame with redzones: see fwd-cases.c, alt_budget(). */
static const char *const *case_env(void)
{
	static const char *const san[] = { "FWD_ALT_SIZE=65536", "FWD_ALT_MARGIN=16384", NULL };

	return it_sanitizer_preloaded() ? san : NULL;
}

static void run_case(struct it_run *r, const char *name, const char *opts)
{
	const char *const *env = case_env();

	memset(r, 0, sizeof *r);
	r->helper = "fwd-cases";
	r->args[0] = name;
	r->shim = 1;
	r->raw_options = opts;
	for (int i = 0; env && env[i]; i++)
		r->env[i] = env[i];
	it_run(r);
}

/* Native's stdout and status in every variant; the enforce+log run kept
 * in *keep when keep is not NULL. */
static void same_as_native(const char *name, struct it_run *keep)
{
	it_same_as_native("fwd-cases", name, variants, case_env(), ENFORCE_LOG, keep);
}

#define SAME_AS_NATIVE(test, name) \
	IT_TEST(test) { same_as_native(name, NULL); } IT_END

/* 1. a doorbell the kernel merged or flushed must not stop forwarding */
SAME_AS_NATIVE(lost_doorbell_sigwait, "lost-doorbell-sigwait")
SAME_AS_NATIVE(lost_doorbell_system, "lost-doorbell-system")
/* 2. a genuine signal to main never merges with a forwarded one */
SAME_AS_NATIVE(merge_genuine_to_main, "merge-genuine")
SAME_AS_NATIVE(merge_genuine_sigwait, "merge-sigwait")
/* 4. SIG_IGN or a used SA_RESETHAND while an instance is queued */
SAME_AS_NATIVE(ign_while_queued, "ign-while-queued")
SAME_AS_NATIVE(resethand_second_receipt, "resethand-second")
/* 5. nothing of the shim reaches the next image */
SAME_AS_NATIVE(exec_after_receipt, "exec-after-receipt")
SAME_AS_NATIVE(exec_after_receipt_wait, "exec-after-receipt-wait")
/* 6. main's pthread_exit with an instance queued */
SAME_AS_NATIVE(main_exit_queued, "main-exit-queued")
/* 7. a vfork child never takes the parent's queue */
SAME_AS_NATIVE(vfork_keeps_parent_queue, "vfork-queue")
/* 9. sigtimedwait's deadline never wraps */
SAME_AS_NATIVE(timedwait_huge_timeout, "timedwait-huge")
/* 10. the doorbell is not visible in sigpending */
SAME_AS_NATIVE(sigpending_clean, "sigpending-clean")
/* 11. small alternate stacks */
SAME_AS_NATIVE(altstack_deep_handler, "altstack-deep")
SAME_AS_NATIVE(altstack_crash_handler, "altstack-crash")
/* 12. a trapped rdtsc: the trampoline never reads the TSC */
SAME_AS_NATIVE(rdtsc_trapped, "rdtsc-trap")

/* 14. main's mask as the workers read it: a doorbell that interrupted
 * another handler's entry, and a jump that restored a saved mask */
SAME_AS_NATIVE(stacked_frames_keep_main_mask, "stacked-frames")
SAME_AS_NATIVE(jump_restores_main_mask, "jump-restores-mask")

/* a runtime's start-up query and install of every signal (gccgo's) */
SAME_AS_NATIVE(every_signal_number_installs, "every-signal")

/* main_thread=: the primordial thread by default (a second thread's
 * install is denied), the first installer on request (the handler runs
 * there, and the primordial thread's install is off main). */
static void first_installer_run(const char *opts, const char *want)
{
	struct it_run r;

	memset(&r, 0, sizeof r);
	r.helper = "fwd-cases";
	r.args[0] = "first-installer";
	r.shim = opts != NULL;
	r.raw_options = opts;
	it_run(&r);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: %s\n%s",
		      opts ? opts : "native", it_status_str(r.status), r.err);
	it_assert_str_eq(r.out, want);
	if (opts && strstr(opts, "first-installer") && !strstr(opts, "mode=audit")) {
		json_t *evs = it_load_main(&r);

		it_expect(evs, 0, "{s:s,s:s}", "event", "sigshim.main_thread", "reason",
			  "first-installer");
		it_expect(evs, 0, "{s:s,s:s}", "event", "signal.sigaction", "violation",
			  "install-off-main");
		json_decref(evs);
	}
	it_run_free(&r);
}

IT_TEST(main_thread_first_installer)
{
	first_installer_run(NULL, "installer: ok\nran on primordial\nprimordial install: ok\n");
	first_installer_run("report=off:log_path={dir}/log.%p.jsonl",
			    "installer: Operation not permitted\nran on nothing\nprimordial install: ok\n");
	first_installer_run("main_thread=first-installer:report=off:log_path={dir}/log.%p.jsonl",
			    "installer: ok\nran on installer\nprimordial install: Operation not permitted\n");
	first_installer_run("mode=audit:main_thread=first-installer:log_path={dir}/log.%p.jsonl",
			    "installer: ok\nran on primordial\nprimordial install: ok\n");
}
IT_END

/* An event of `name` with exception `exc` exists in the log of r->pid. */
static void expect_exception(struct it_run *r, const char *name, const char *exc)
{
	json_t *evs = it_load_main(r);

	it_expect(evs, 0, "{s:s,s:s}", "event", name, "exception", exc);
	json_decref(evs);
}

/* 3. abort()/assert() on a worker: the crash handler runs on the aborting
 * thread (the documented exception to the model), logged as such. */
static void abort_case(const char *name)
{
	struct it_run r;

	same_as_native(name, &r);
	/* the children's logs say where the handler ran and why */
	int found = 0;
	for (int i = 0; i < r.nlogs; i++) {
		json_t *evs = it_load(r.logs[i]);
		found += it_count(evs, "{s:s,s:i,s:s}", "event", "signal.handled",
				  "signalnum", SIGABRT, "exception", "self-abort") > 0;
		json_decref(evs);
	}
	it_assert_int_eq(found, 30);
	it_run_free(&r);
}

IT_TEST(abort_on_worker_runs_there) { abort_case("abort-worker"); } IT_END
IT_TEST(assert_on_worker_runs_there) { abort_case("assert-worker"); } IT_END

/* 8. RLIMIT_SIGPENDING 0: the doorbell cannot be queued; each instance
 * runs where it was received, once, and the log says why. */
IT_TEST(rlimit_sigpending_zero)
{
	struct it_run r;

	same_as_native("rlimit-sigpending", &r);
	json_t *evs = it_load_main(&r);
	it_assert_int_eq(it_count(evs, "{s:s,s:s}", "event", "signal.not_forwarded",
				  "exception", "doorbell-failed"), 5);
	long i = it_expect(evs, 0, "{s:s}", "event", "sigshim.exit");
	it_assert_field(it_ev(evs, i), "not_forwarded", "i", 5);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 13. SIGPROF stays on the receiving thread by default
 * (run_where_received). */
IT_TEST(prof_samples_stay_on_busy_thread)
{
	struct it_run r;

	same_as_native("prof-samples", &r);
	expect_exception(&r, "signal.handled", "run-where-received");
	it_run_free(&r);
}
IT_END

/* 5. the instance queued at exec is not lost silently */
IT_TEST(exec_reports_queued_instance)
{
	struct it_run r;

	run_case(&r, "exec-after-receipt", variants[ENFORCE_LOG]);
	expect_exception(&r, "signal.not_forwarded", "exec");
	it_run_free(&r);
}
IT_END

int main(void)
{
	Suite *s = suite_create("forwarding");
	TCase *tc = tcase_create("forwarding");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lost_doorbell_sigwait);
	tcase_add_test(tc, lost_doorbell_system);
	tcase_add_test(tc, merge_genuine_to_main);
	tcase_add_test(tc, merge_genuine_sigwait);
	tcase_add_test(tc, abort_on_worker_runs_there);
	tcase_add_test(tc, assert_on_worker_runs_there);
	tcase_add_test(tc, ign_while_queued);
	tcase_add_test(tc, resethand_second_receipt);
	tcase_add_test(tc, exec_after_receipt);
	tcase_add_test(tc, exec_after_receipt_wait);
	tcase_add_test(tc, exec_reports_queued_instance);
	tcase_add_test(tc, main_exit_queued);
	tcase_add_test(tc, vfork_keeps_parent_queue);
	tcase_add_test(tc, rlimit_sigpending_zero);
	tcase_add_test(tc, timedwait_huge_timeout);
	tcase_add_test(tc, sigpending_clean);
	tcase_add_test(tc, altstack_deep_handler);
	tcase_add_test(tc, altstack_crash_handler);
	tcase_add_test(tc, rdtsc_trapped);
	tcase_add_test(tc, prof_samples_stay_on_busy_thread);
	tcase_add_test(tc, stacked_frames_keep_main_mask);
	tcase_add_test(tc, jump_restores_main_mask);
	tcase_add_test(tc, main_thread_first_installer);
	tcase_add_test(tc, every_signal_number_installs);
	suite_add_tcase(s, tc);
	return it_main(s);
}
