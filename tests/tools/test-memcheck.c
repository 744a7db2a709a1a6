/* The shim under valgrind's memcheck, inside real programs: every helper
 * runs with libsigshim.so preloaded (both modes, with backtraces) under
 * valgrind, which must find no error in any process (--error-exitcode),
 * and the log must be complete.  This is where the shim's memory use is
 * checked; the other integration tests compare behaviour, which valgrind's
 * own signal emulation would perturb. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/unit.h"

#define VG_ERROR 88

struct vg_case {
	const char *helper;
	const char *arg;
	const char *options;
	const char *arg2;
};

static const struct vg_case cases[] = {
	{ .helper = "calls-handlers", .arg = NULL, .options = "mode=audit:backtrace=8" },
	{ .helper = "calls-masks", .arg = NULL, .options = "mode=audit:backtrace=8" },
	{ .helper = "calls-send", .arg = NULL, .options = "mode=audit:backtrace=8" },
	{ .helper = "threads-example", .arg = NULL, .options = "mode=enforce:backtrace=8" },
	{ .helper = "lifecycle", .arg = "fork", .options = "mode=enforce" },
	{ .helper = "lifecycle", .arg = "closefds", .options = "mode=audit" },
	{ .helper = "early-main", .arg = NULL, .options = "mode=audit" },
	/* the shared-mapping sink, across fork */
	{ .helper = "threads-example", .arg = NULL, .options = "mode=enforce:sink=mmap" },
	{ .helper = "lifecycle", .arg = "fork", .options = "mode=audit:sink=mmap" },
	/* enforce: forwarding, the queue, one-shot handlers, waits, jumps (the
	 * "fault" scenario is left out: it stops valgrind 3.19 itself with an
	 * internal assertion) */
	{ .helper = "enforce-probe", .arg = "install", .options = "mode=enforce:backtrace=8" },
	{ .helper = "enforce-probe", .arg = "eintr", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "siginfo", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "blocked-main", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "sigwait-main", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "longjmp-main", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "resethand", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "mask", .options = "mode=enforce" },
	{ .helper = "enforce-probe", .arg = "rt", .options = "mode=enforce", .arg2 = "500" },
};

static pid_t last_pid;

static int run_case(const struct vg_case *c, const char *dir, char *errbuf, size_t errlen)
{
	char helper[4096], supp[4096], opts[8192], logp[4096], errfile[4200];
	const char *helpers = getenv("SIGSHIM_HELPERS");
	int status;
	pid_t pid;

	snprintf(helper, sizeof helper, "%s/%s", helpers, c->helper);
	snprintf(supp, sizeof supp, "--suppressions=%s/valgrind.supp", getenv("SIGSHIM_TESTS_SRC"));
	snprintf(logp, sizeof logp, "%s/log.%%p.jsonl", dir);
	snprintf(opts, sizeof opts, "%s:log_path=%s", c->options, logp);
	snprintf(errfile, sizeof errfile, "%s/valgrind.txt", dir);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(errfile, "w", stderr);

		(void)f;
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		setenv("LD_PRELOAD", getenv("SIGSHIM_LIB"), 1);
		setenv("SIGSHIM_OPTIONS", opts, 1);
		execlp("valgrind", "valgrind", "--error-exitcode=88", "--quiet",
		       "--trace-children=yes", "--trace-children-skip=/usr/*,/bin/*",
		       "--child-silent-after-fork=no", supp, helper, c->arg, c->arg2, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	last_pid = pid;
	snprintf(errbuf, errlen, "see %s", errfile);
	return status;
}

/* valgrind runs the program in its own process: the helper's log is
 * log.<pid>.jsonl (children that _exit or die by a signal on purpose leave
 * logs without sigshim.exit, as documented). */
static int log_complete(const char *dir, pid_t pid)
{
	char cmd[4400];

	snprintf(cmd, sizeof cmd, "grep -q '\"event\":\"sigshim.exit\"' '%s/log.%d.jsonl'",
		 dir, (int)pid);
	return system(cmd) == 0;
}

START_TEST(helper_under_memcheck)
{
	const struct vg_case *c = &cases[_i];
	char dir[] = "/tmp/sigshim-vg-XXXXXX", why[4300];
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	status = run_case(c, dir, why, sizeof why);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 127,
		      "%s: valgrind could not run (status %#x)", c->helper, status);
	ck_assert_msg(WEXITSTATUS(status) != VG_ERROR,
		      "%s %s [%s]: valgrind found errors; %s", c->helper,
		      c->arg ? c->arg : "", c->options, why);
	ck_assert_msg(log_complete(dir, last_pid), "%s: its log has no sigshim.exit (%s)",
		      c->helper, dir);
	snprintf(why, sizeof why, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(why), 0);
}
END_TEST

static Suite *memcheck_suite(void)
{
	Suite *s = suite_create("memcheck");
	TCase *tc = tcase_create("helpers");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, helper_under_memcheck, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(memcheck_suite)
