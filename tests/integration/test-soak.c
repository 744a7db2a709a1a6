/* The log writer's soak (issue 10): tests/helpers/soak.c runs natively
 * and under the shim while its threads log, fork, exec, cancel, dup2 onto
 * the log's numbers and jump out of logged calls.  What the program
 * observed must be the same, and sigaudit check must find every log whole:
 * no malformed line, no seq gap, nothing dropped.  Apart from
 * test-edges.c because it is the slowest integration test (sigaudit reads
 * about a million lines). */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs `soak MS WHAT` natively and under each of `opts`: the same output
 * and status, every log parses, and sigaudit check passes (no violation,
 * no proven loss: no seq gap, nothing dropped).  Returns how many
 * sigshim.abandoned lines the logs hold. */
static int soak_against_native(const char *ms, const char *what, const char *const *opts, int nopts)
{
	struct it_run n;
	int abandoned = 0;

	memset(&n, 0, sizeof n);
	n.helper = "soak";
	n.args[0] = ms;
	n.args[1] = what;
	it_run(&n);
	it_assert_str_eq(n.out, "soak ok, bad children 0, jumped yes\n");
	for (int v = 0; v < nopts; v++) {
		struct it_run r;
		char cmd[1024];
		int st;

		memset(&r, 0, sizeof r);
		r.helper = "soak";
		r.args[0] = ms;
		r.args[1] = what;
		r.shim = 1;
		r.raw_options = opts[v];
		it_run(&r);
		it_assert_msg(r.status == n.status && strcmp(r.out, n.out) == 0,
			      "%s: %s (native %s)\n[%s] (native [%s])\n%s", opts[v],
			      it_status_str(r.status), it_status_str(n.status), r.out, n.out, r.err);
		it_assert_msg(strstr(r.err, "sigshim:") == NULL, "%s: %s", opts[v], r.err);
		it_assert_int_gt(r.nlogs, 0);
		/* sigaudit check reads every line: a malformed one fails it */
		snprintf(cmd, sizeof cmd, "cat %s/log.*.jsonl | grep -c '\"event\":\"sigshim.abandoned\"'",
			 r.dir);
		FILE *p = popen(cmd, "r");
		int got = 0;

		it_assert(p != NULL);
		if (fscanf(p, "%d", &got) == 1)
			abandoned += got;
		pclose(p);
		char *out;

		st = it_sigaudit_check(r.dir, &out);
		it_assert_msg(st == 0, "%s: sigaudit check: exited %d\n%.1500s", opts[v], st, out);
		free(out);
		it_run_free(&r);
	}
	it_run_free(&n);
	return abandoned;
}

/* Main's SIGALRM handler siglongjmps out of logged calls every 0.7 ms for
 * 0.3 s: the line a call had begun is abandoned.  Its seq must not read as
 * a lost event (the jump writes sigshim.abandoned under it), and with
 * sink=mmap a copy the jump interrupted must not stay a NUL or half-copied
 * line in the middle of the file. */
IT_TEST(jump_out_of_logged_call_leaves_no_gap)
{
	static const char *const opts[] = { "mode=audit:log_path={dir}/log.%p.jsonl",
					    "mode=enforce:log_path={dir}/log.%p.jsonl",
					    "mode=audit:sink=mmap:log_path={dir}/log.%p.jsonl" };

	it_assert_int_gt(soak_against_native("300", "jump", opts, 3), 0);
}
IT_END

/* The same jumps with backtrace=8: capturing a backtrace and noting its
 * modules take locks (the shim's module table, the loader's in
 * dl_iterate_phdr); a jump out of a handler that interrupted them left
 * them held and the next logged call hung. */
IT_TEST(jump_out_of_backtrace_does_not_hang)
{
	static const char *const opts[] = {
		"mode=audit:backtrace=8:log_path={dir}/log.%p.jsonl",
		"mode=enforce:backtrace=8:log_path={dir}/log.%p.jsonl",
	};

	soak_against_native("500", "jump", opts, 2);
}
IT_END

/* Eight threads log without pause while another dup2()s onto the log's
 * numbers: each relocation must wait for the writers that hold the old
 * number, however many new ones keep starting (no EBADF, no line written
 * into the program's /dev/null).  A stress guard: the old single count
 * lost a line only under the full soak's load. */
IT_TEST(relocation_under_busy_writers_loses_nothing)
{
	static const char *const opts[] = { "mode=audit:log_path={dir}/log.%p.jsonl" };

	soak_against_native("300", "dup", opts, 1);
}
IT_END

/* The soak: loggers, forks, execs, cancels, dup2 onto the log's numbers
 * and jumps out of logged calls for 1.5 seconds, in both modes and both
 * sinks: it ends, as natively; every log parses; sigaudit check accounts
 * for every process (no violation, no proven loss). */
IT_TEST(soak_log_writer)
{
	static const char *const opts[] = {
		"mode=audit:log_path={dir}/log.%p.jsonl",
		"mode=enforce:log_path={dir}/log.%p.jsonl",
		"mode=audit:sink=mmap:log_path={dir}/log.%p.jsonl",
		"mode=enforce:sink=mmap:log_path={dir}/log.%p.jsonl",
	};

	soak_against_native("1500", "all", opts, 4);
}
IT_END

int main(void)
{
	Suite *s = suite_create("soak");
	TCase *tc = tcase_create("soak");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, jump_out_of_logged_call_leaves_no_gap);
	tcase_add_test(tc, jump_out_of_backtrace_does_not_hang);
	tcase_add_test(tc, relocation_under_busy_writers_loses_nothing);
	tcase_add_test(tc, soak_log_writer);
	suite_add_tcase(s, tc);
	return it_main(s);
}
