/* mode=enforce: Python's signal/thread model, under the real shim.
 *
 * Each test runs one scenario of tests/helpers/enforce-probe.c and asserts
 * on both what the program itself observed (its stdout: return values,
 * errno, where and with which siginfo and mask its handlers ran) and on
 * the log.  Where the native behaviour is the same the helper prints the
 * same line natively, and some tests compare with a native run.
 * docs/semantics.md is the table these tests hold the shim to. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENFORCE_OPTS "mode=enforce:log_path={dir}/log.%p.jsonl:backtrace=0"

/* --- running ------------------------------------------------------------------- */

static void run_probe(struct it_run *r, const char *scenario, const char *extra)
{
	static char opts[512];

	memset(r, 0, sizeof *r);
	r->helper = "enforce-probe";
	r->args[0] = scenario;
	r->shim = 1;
	snprintf(opts, sizeof opts, "%s%s%s", ENFORCE_OPTS, extra ? ":" : "", extra ? extra : "");
	r->raw_options = opts;
	it_run(r);
}

static void run_native(struct it_run *r, const char *scenario)
{
	memset(r, 0, sizeof *r);
	r->helper = "enforce-probe";
	r->args[0] = scenario;
	it_run(r);
}

#define expect_exit0(r) it_assert_msg(WIFEXITED((r)->status) && WEXITSTATUS((r)->status) == 0, \
	"%s: %s\nstdout:\n%s\nstderr:\n%s", (r)->args[0], it_status_str((r)->status), \
	(r)->out, (r)->err)

/* The transcript has this exact line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p;) {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static long count_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	long k = 0;

	for (const char *p = text; p && *p;) {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			k++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return k;
}

#define expect_line(r, line) it_assert_msg(has_line((r)->out, line), \
	"stdout lacks the line \"%s\"; stdout:\n%s\nstderr:\n%s", line, (r)->out, (r)->err)
#define expect_no_line(r, line) it_assert_msg(!has_line((r)->out, line), \
	"stdout has the line \"%s\"; stdout:\n%s", line, (r)->out)

/* Lines starting with `prefix`, in order, joined (new string). */
static char *lines_with(const char *text, const char *prefix)
{
	size_t pl = strlen(prefix), o = 0;
	char *out = calloc(1, strlen(text) + 1);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, prefix, pl) == 0) {
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	return out;
}

/* --- log checks ------------------------------------------------------------------ */

static json_t *exit_event(json_t *evs)
{
	long i = it_expect(evs, 0, "{s:s}", "event", "sigshim.exit");

	it_assert_int_eq(i, (long)json_array_size(evs) - 1);
	return it_ev(evs, i);
}

/* A delivery received by `from_tid` (not main), forwarded, and handled on
 * main, in that order from index `from`; returns the handled index.  The
 * received line has the original si_code and no exception. */
static long expect_forwarded(json_t *evs, long from, pid_t pid, long long from_tid,
			     int sig, const char *si_code)
{
	long rcv = it_expect(evs, from, "{s:s,s:I,s:i,s:b,s:s}", "event", "signal.received",
			     "tid", (json_int_t)from_tid, "signalnum", sig, "main", 0,
			     "si_code", si_code);
	it_assert_no_field(it_ev(evs, rcv), "exception");
	long fwd = it_expect(evs, rcv, "{s:s,s:I,s:i,s:I,s:I}", "event", "signal.forwarded",
			     "tid", (json_int_t)from_tid, "signalnum", sig,
			     "from_tid", (json_int_t)from_tid, "to_tid", (json_int_t)pid);
	/* The worker writes signal.forwarded after ringing the doorbell, so
	 * main may handle (and log) first: only "received before handled"
	 * is an order. */
	long long rseq = it_int(it_ev(evs, rcv), "seq");
	long hnd = -1;
	for (long k = 0;; k = hnd + 1) {
		hnd = it_expect(evs, k, "{s:s,s:I,s:i,s:b,s:I}", "event", "signal.handled",
				"tid", (json_int_t)pid, "signalnum", sig, "main", 1,
				"from_tid", (json_int_t)from_tid);
		if (it_int(it_ev(evs, hnd), "seq") > rseq)
			break;
	}
	it_assert_no_field(it_ev(evs, hnd), "exception");
	(void)fwd;
	return hnd;
}

/* --- 1. installing from a worker ---------------------------------------------------- */

static const char *const worker_calls[] = {
	"sigaction", "signal", "sigset", "sysv_signal", "bsd_signal",
};

/* The events of the worker's function-handler installs: five on SIGUSR1,
 * one sigaction on SIGUSR2; `policy` NULL when no violation is expected. */
static void check_install_events(struct it_run *r, const char *policy, int denied)
{
	json_t *evs = it_load_main(r);
	long long wtid = (long long)it_id(r, "tid", "worker");
	unsigned long long h_worker = it_id(r, "fn", "h_worker");
	char hw[32];

	snprintf(hw, sizeof hw, "%#llx", h_worker);
	for (size_t k = 0; k < sizeof worker_calls / sizeof worker_calls[0]; k++) {
		char name[64];
		snprintf(name, sizeof name, "signal.%s", worker_calls[k]);
		long i = it_expect(evs, 0, "{s:s,s:I,s:i,s:b}", "event", name,
				   "tid", (json_int_t)wtid, "signalnum", SIGUSR1, "main", 0);
		json_t *ev = it_ev(evs, i);
		if (policy) {
			it_assert_field(ev, "violation", "s", "install-off-main");
			it_assert_field(ev, "policy", "s", policy);
		} else {
			it_assert_no_field(ev, "violation");
			it_assert_no_field(ev, "policy");
		}
		if (denied) {
			it_assert_field(ev, "error", "s", "EPERM");
			it_assert_field(ev, "errno", "i", EPERM);
			if (k == 0)
				it_assert_field(ev, "ret", "i", -1);
			else
				it_assert_field(ev, "ret", "s", "SIG_ERR");
		} else {
			it_assert_no_field(ev, "error");
		}
		if (k == 0)
			it_assert_field(json_object_get(ev, "act"), "handler", "s", hw);
		else
			it_assert_field(ev, "handler", "s", hw);
	}
	long i = it_expect(evs, 0, "{s:s,s:I,s:i}", "event", "signal.sigaction",
			   "tid", (json_int_t)wtid, "signalnum", SIGUSR2);
	if (policy)
		it_assert_field(it_ev(evs, i), "policy", "s", policy);
	else
		it_assert_no_field(it_ev(evs, i), "violation");
	/* SIG_IGN / SIG_DFL installs and queries from the worker: never
	 * violations */
	long n_hup = 0;
	for (size_t k = 0; k < json_array_size(evs); k++) {
		json_t *ev = it_ev(evs, k);
		json_t *sig = json_object_get(ev, "signalnum");
		json_t *act = json_object_get(ev, "act");
		int is_query = act && json_is_null(act);
		if (!json_is_integer(json_object_get(ev, "tid")) ||
		    json_integer_value(json_object_get(ev, "tid")) != wtid)
			continue;
		if ((sig && json_integer_value(sig) == SIGHUP) || is_query) {
			n_hup += sig && json_integer_value(sig) == SIGHUP;
			it_assert_msg(!json_object_get(ev, "violation"),
				      "not a violation: %s", it_dump(ev));
			it_assert_msg(!json_object_get(ev, "error"), "must succeed: %s", it_dump(ev));
		}
	}
	/* 6 installs and 3 queries of SIGHUP */
	it_assert_int_eq(n_hup, 9);
	json_t *ex = exit_event(evs);
	it_assert_field(ex, "violations", "i", policy ? 6 : 0);
	it_assert_field(ex, "not_forwarded", "i", 0);
	json_decref(evs);
}

IT_TEST(install_off_main_denied)
{
	struct it_run r;

	run_probe(&r, "install", NULL);
	expect_exit0(&r);
	expect_line(&r, "worker sigaction(SIGUSR1, h_worker) -> -1 errno=EPERM");
	expect_line(&r, "worker signal(SIGUSR1, h_worker) -> SIG_ERR errno=EPERM");
	expect_line(&r, "worker sigset(SIGUSR1, h_worker) -> SIG_ERR errno=EPERM");
	expect_line(&r, "worker sysv_signal(SIGUSR1, h_worker) -> SIG_ERR errno=EPERM");
	expect_line(&r, "worker bsd_signal(SIGUSR1, h_worker) -> SIG_ERR errno=EPERM");
	expect_line(&r, "worker sigaction(SIGUSR2, h_worker) -> -1 errno=EPERM");
	/* nothing changed: every query shows the main thread's handler */
	it_assert_int_eq(count_line(r.out, "worker query SIGUSR1 -> 0 handler=h_main resethand=0 siginfo=0 nodefer=0"), 5);
	expect_line(&r, "worker query SIGUSR2 -> 0 handler=SIG_DFL resethand=0 siginfo=0 nodefer=0");
	expect_line(&r, "main query SIGUSR1 -> 0 handler=h_main resethand=0 siginfo=0 nodefer=0");
	expect_line(&r, "main query SIGUSR2 -> 0 handler=SIG_DFL resethand=0 siginfo=0 nodefer=0");
	expect_line(&r, "handled h_main SIGUSR1 on=main flag=0");
	/* SIG_IGN / SIG_DFL from a worker are allowed */
	expect_line(&r, "worker sigaction(SIGHUP, SIG_IGN) -> 0 errno=0");
	expect_line(&r, "worker query SIGHUP -> 0 handler=SIG_IGN resethand=0 siginfo=0 nodefer=0");
	expect_line(&r, "worker signal(SIGHUP, SIG_DFL) -> SIG_IGN errno=0");
	expect_line(&r, "worker sigset(SIGHUP, SIG_IGN) -> SIG_DFL errno=0");
	expect_line(&r, "worker sysv_signal(SIGHUP, SIG_DFL) -> SIG_IGN errno=0");
	expect_line(&r, "worker bsd_signal(SIGHUP, SIG_IGN) -> SIG_DFL errno=0");
	expect_line(&r, "worker sigaction(SIGHUP, SIG_DFL) -> 0 errno=0");
	check_install_events(&r, "deny", 1);
	it_run_free(&r);
}
IT_END

/* report and allow: the calls succeed exactly as natively. */
static void install_as_native(const char *option, const char *policy)
{
	struct it_run r, n;

	run_native(&n, "install");
	expect_exit0(&n);
	run_probe(&r, "install", option);
	expect_exit0(&r);
	it_assert_str_eq(r.out, n.out);
	expect_line(&r, "worker sigaction(SIGUSR1, h_worker) -> 0 errno=0");
	expect_line(&r, "handled h_worker SIGUSR1 on=main flag=0");
	check_install_events(&r, policy, 0);
	it_run_free(&r);
	it_run_free(&n);
}

IT_TEST(install_off_main_report)
{
	install_as_native("rule_install_off_main=report", "report");
}
IT_END

IT_TEST(install_off_main_allow)
{
	install_as_native("rule_install_off_main=allow", NULL);
}
IT_END

/* --- 2. pthread_kill to a worker blocked in read() ----------------------------------- */

IT_TEST(eintr_on_worker_handler_on_main)
{
	struct it_run r;

	run_probe(&r, "eintr", NULL);
	expect_exit0(&r);
	expect_line(&r, "worker read -> -1 errno=EINTR");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	json_t *evs = it_load_main(&r);
	expect_forwarded(evs, 0, r.pid, (long long)it_id(&r, "tid", "worker"), SIGUSR1, "SI_TKILL");
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.handled"), 1);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

IT_TEST(sa_restart_on_worker_handler_on_main)
{
	struct it_run r;

	run_probe(&r, "eintr-restart", NULL);
	expect_exit0(&r);
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	expect_line(&r, "worker still blocked after handler: 1");
	expect_line(&r, "worker read -> 1 errno=0");
	expect_no_line(&r, "worker read -> -1 errno=EINTR");
	json_t *evs = it_load_main(&r);
	expect_forwarded(evs, 0, r.pid, (long long)it_id(&r, "tid", "worker"), SIGUSR1, "SI_TKILL");
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 3. the original siginfo reaches the handler on main ------------------------------ */

IT_TEST(siginfo_preserved)
{
	struct it_run r;

	run_probe(&r, "siginfo", NULL);
	expect_exit0(&r);
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_QUEUE pid=self uid=ok value=4242");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=child uid=ok value=0");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_USER pid=child uid=ok value=0");
	it_assert_int_eq(count_line(r.out, "tgkill child exited 0") + count_line(r.out, "kill child exited 0"), 2);

	json_t *evs = it_load_main(&r);
	long long w = (long long)it_id(&r, "tid", "worker");
	long long c1 = (long long)it_id_nth(&r, "child", NULL, 0);
	long long c2 = (long long)it_id_nth(&r, "child", NULL, 1);
	long i = expect_forwarded(evs, 0, r.pid, w, SIGUSR1, "SI_QUEUE");
	long q = it_expect(evs, 0, "{s:s,s:I,s:s}", "event", "signal.received", "tid", (json_int_t)w,
			   "si_code", "SI_QUEUE");
	it_assert_field(it_ev(evs, q), "si_value", "i", 4242);
	it_assert_field(it_ev(evs, q), "si_pid", "I", (json_int_t)r.pid);
	q = it_expect(evs, q + 1, "{s:s,s:I,s:s,s:I}", "event", "signal.received",
		      "tid", (json_int_t)w, "si_code", "SI_TKILL", "si_pid", (json_int_t)r.pid);
	q = it_expect(evs, q + 1, "{s:s,s:I,s:s,s:I}", "event", "signal.received",
		      "tid", (json_int_t)w, "si_code", "SI_TKILL", "si_pid", (json_int_t)c1);
	/* kill() while main blocks SIGUSR1: the kernel chose the worker */
	q = it_expect(evs, q + 1, "{s:s,s:I,s:s,s:I}", "event", "signal.received",
		      "tid", (json_int_t)w, "si_code", "SI_USER", "si_pid", (json_int_t)c2);
	it_assert_int_eq(it_count(evs, "{s:s,s:I,s:b}", "event", "signal.handled",
				  "tid", (json_int_t)r.pid, "main", 1), 4);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.forwarded"), 4);
	(void)i;
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 4. process-directed signal while main blocks it ---------------------------------- */

IT_TEST(main_blocked_handler_waits)
{
	struct it_run r;

	run_probe(&r, "blocked-main", NULL);
	expect_exit0(&r);
	expect_line(&r, "main kill(getpid(), SIGUSR1) -> 0 errno=0");
	expect_line(&r, "SIGUSR1 pending: 0");
	expect_line(&r, "handled while blocked: 0");
	/* flag=1: set by main just before it unblocked */
	expect_line(&r, "handled h_plain SIGUSR1 on=main flag=1");
	it_assert_int_eq(count_line(r.out, "handled h_plain SIGUSR1 on=main flag=1"), 1);
	json_t *evs = it_load_main(&r);
	long h = expect_forwarded(evs, 0, r.pid, (long long)it_id(&r, "tid", "worker"), SIGUSR1,
				  "SI_USER");
	long u = it_expect(evs, 0, "{s:s,s:s,s:I}", "event", "signal.pthread_sigmask",
			   "how", "SIG_UNBLOCK", "tid", (json_int_t)r.pid);
	it_assert_int_gt(it_int(it_ev(evs, h), "ts"), 0);
	/* the handler ran inside the unblocking call: before its event */
	it_assert_int_gt(it_int(it_ev(evs, u), "seq"), it_int(it_ev(evs, h), "seq"));
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 4b. main waiting in sigtimedwait must not see the shim's doorbell ----------------- */

/* A signal sent to a worker while main blocks it and waits for it with
 * sigtimedwait: nothing was sent to main, so (as natively) the wait times
 * out; the handler then runs once, on main, when main unblocks. */
IT_TEST(sigwait_on_main_not_fed_doorbell)
{
	struct it_run r, n;

	run_native(&n, "sigwait-main");
	expect_exit0(&n);
	expect_line(&n, "main sigtimedwait(SIGUSR1) -> -1 errno=EAGAIN");
	run_probe(&r, "sigwait-main", NULL);
	expect_exit0(&r);
	expect_line(&r, "main sigtimedwait(SIGUSR1) -> -1 errno=EAGAIN");
	expect_line(&r, "handled count=1");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	it_run_free(&r);
	it_run_free(&n);
}
IT_END

/* --- 4c. siglongjmp out of a handler on main ------------------------------------------------ */

/* Two real-time instances forwarded to main; the handler leaves the first
 * with siglongjmp.  Every instance still runs the handler exactly once, in
 * order (natively each is a delivery of its own). */
IT_TEST(longjmp_from_handler_on_main_keeps_queue)
{
	struct it_run r;

	run_probe(&r, "longjmp-main", NULL);
	expect_exit0(&r);
	expect_line(&r, "main: back from siglongjmp");
	expect_line(&r, "handled count=2");
	char want[160];
	snprintf(want, sizeof want, "handled h_jump %s on=main flag=1 code=SI_QUEUE pid=self uid=ok value=1",
		 SIGRTMIN == 34 ? "SIG34" : "SIG?");
	expect_line(&r, want);
	snprintf(want, sizeof want, "handled h_jump %s on=main flag=1 code=SI_QUEUE pid=self uid=ok value=2",
		 SIGRTMIN == 34 ? "SIG34" : "SIG?");
	expect_line(&r, want);
	it_run_free(&r);
}
IT_END

/* --- 5 / 11. real-time signals ----------------------------------------------------------- */

/* Counts event lines by scanning the file (a storm log is large). */
struct scan {
	long received, forwarded, handled, handled_main, not_forwarded;
	json_t *exit;
};

static void scan_log(const char *path, struct scan *s)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(s, 0, sizeof *s);
	it_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (strstr(line, "\"event\":\"signal.received\""))
			s->received++;
		else if (strstr(line, "\"event\":\"signal.forwarded\""))
			s->forwarded++;
		else if (strstr(line, "\"event\":\"signal.handled\"")) {
			s->handled++;
			s->handled_main += strstr(line, "\"main\":true") != NULL;
		} else if (strstr(line, "\"event\":\"signal.not_forwarded\""))
			s->not_forwarded++;
		else if (strstr(line, "\"event\":\"sigshim.exit\"")) {
			json_error_t e;
			json_decref(s->exit);
			s->exit = json_loads(line, 0, &e);
			it_assert_msg(s->exit != NULL, "bad exit line %s", line);
		}
	}
	free(line);
	fclose(f);
	it_assert_msg(s->exit != NULL, "no sigshim.exit in %s", path);
}

static void rt_run(long n, int cross, int exact_on_main)
{
	struct it_run r;
	char want[128], nbuf[32];
	struct scan s;

	snprintf(nbuf, sizeof nbuf, "%ld", n);
	memset(&r, 0, sizeof r);
	r.helper = "enforce-probe";
	r.args[0] = "rt";
	r.args[1] = nbuf;
	r.args[2] = cross ? "cross" : NULL;
	r.shim = 1;
	r.raw_options = ENFORCE_OPTS;
	it_run(&r);
	expect_exit0(&r);
	snprintf(want, sizeof want, "rt total=%ld expected=%ld", n, n);
	expect_line(&r, want);
	long on_main = (long)it_id(&r, "count", "on_main");
	long off_main = (long)it_id(&r, "count", "off_main");
	fprintf(stderr, "rt %ld%s: %lld ms, eagain %lld, off main %ld\n", n, cross ? " cross" : "",
		it_id(&r, "count", "ms"), it_id(&r, "count", "eagain"), off_main);
	it_assert_int_eq(on_main + off_main, n);
	if (off_main == 0) {
		/* all on main: each sender's values in order, none twice */
		expect_line(&r, "rt order_errors=0 bad=0");
		snprintf(want, sizeof want, "rt last0=%ld last1=%ld", n / 2, n / 2);
		expect_line(&r, want);
	} else {
		/* A full forward queue runs the handler where received, next
		 * to main draining older instances: order across the two is
		 * not kept (docs/semantics.md), the count still is. */
		it_assert_msg(strstr(r.out, " bad=0\n") != NULL, "bad siginfo in:\n%s", r.out);
	}

	scan_log(it_log_for(&r, r.pid), &s);
	/* every instance received once and handled once */
	it_assert_int_eq(s.received, n);
	it_assert_int_eq(s.handled, n);
	it_assert_int_eq(s.forwarded + s.not_forwarded, n);
	/* what did not run on main is exactly what the log says */
	it_assert_int_eq(s.not_forwarded, off_main);
	it_assert_int_eq(s.handled_main, on_main);
	it_assert_field(s.exit, "not_forwarded", "I", (json_int_t)s.not_forwarded);
	it_assert_field(s.exit, "dropped", "i", 0);
	if (exact_on_main) {
		it_assert_int_eq(off_main, 0);
		it_assert_field(s.exit, "not_forwarded", "i", 0);
	}
	json_decref(s.exit);
	it_run_free(&r);
}

IT_TEST(rt_10000_in_order_on_main)
{
	rt_run(10000, 0, 1);
}
IT_END

IT_TEST(rt_storm_100000_self)
{
	rt_run(100000, 0, 0);
}
IT_END

IT_TEST(rt_storm_100000_cross)
{
	rt_run(100000, 1, 0);
}
IT_END

/* --- 6. SA_RESETHAND via a worker --------------------------------------------------------- */

IT_TEST(resethand_urg_and_child)
{
	struct it_run r, n;

	run_probe(&r, "resethand", NULL);
	expect_exit0(&r);
	/* SIGURG (default: ignore): once, on main; then SIG_DFL */
	expect_line(&r, "SIGURG handled count=1");
	expect_line(&r, "handled h_plain SIGURG on=main flag=0");
	expect_line(&r, "SIGURG handled count after second=1");
	/* the query after the reset reads as natively */
	run_native(&n, "resethand");
	expect_exit0(&n);
	char *q_enf = lines_with(r.out, "main query SIGURG");
	char *q_nat = lines_with(n.out, "main query SIGURG");
	it_assert_str_eq(q_enf, q_nat);
	expect_line(&r, "main query SIGURG -> 0 handler=SIG_DFL resethand=1 siginfo=0 nodefer=0");
	/* a child: SIGUSR1 once on main, and the second delivery kills it */
	expect_line(&r, "child handled count=1");
	expect_line(&r, "handled h_plain SIGUSR1 on=main flag=0");
	expect_line(&r, "child query SIGUSR1 -> 0 handler=SIG_DFL resethand=1 siginfo=0 nodefer=0");
	expect_line(&r, "resethand child killed by SIGUSR1");
	expect_no_line(&r, "child still alive after second SIGUSR1");
	expect_line(&r, "alive");
	json_t *evs = it_load_main(&r);
	expect_forwarded(evs, 0, r.pid, (long long)it_id(&r, "tid", "worker"), SIGURG, "SI_TKILL");
	it_assert_int_eq(it_count(evs, "{s:s,s:i}", "event", "signal.handled", "signalnum", SIGURG), 1);
	json_decref(evs);
	free(q_enf);
	free(q_nat);
	it_run_free(&r);
	it_run_free(&n);
}
IT_END

IT_TEST(resethand_usr1_in_process)
{
	struct it_run r, n;

	run_probe(&r, "resethand-usr1", NULL);
	expect_exit0(&r);
	expect_line(&r, "SIGUSR1 handled count=1");
	expect_line(&r, "handled h_plain SIGUSR1 on=main flag=0");
	run_native(&n, "resethand-usr1");
	expect_exit0(&n);
	char *q_enf = lines_with(r.out, "main query SIGUSR1");
	char *q_nat = lines_with(n.out, "main query SIGUSR1");
	it_assert_str_eq(q_enf, q_nat);
	expect_line(&r, "main query SIGUSR1 -> 0 handler=SIG_DFL resethand=1 siginfo=1 nodefer=0");
	expect_line(&r, "alive");
	free(q_enf);
	free(q_nat);
	it_run_free(&r);
	it_run_free(&n);
}
IT_END

/* --- 7. sa_mask and SA_NODEFER in the handler on main ---------------------------------------- */

IT_TEST(mask_and_nodefer_on_main)
{
	struct it_run r;

	run_probe(&r, "mask", NULL);
	expect_exit0(&r);
	expect_line(&r, "handled h_mask SIGUSR1 on=main flag=0 blocked_self=1 blocked_usr2=1 blocked_rt1=1");
	expect_line(&r, "handled h_mask SIGUSR1 on=main flag=0 blocked_self=0 blocked_usr2=1 blocked_rt1=1");
	expect_line(&r, "main mask after []");
	json_t *evs = it_load_main(&r);
	long long w = (long long)it_id(&r, "tid", "worker");
	long h = expect_forwarded(evs, 0, r.pid, w, SIGUSR1, "SI_TKILL");
	/* the handler's own mask query, from inside the handler on main */
	long q = it_expect(evs, h, "{s:s,s:I,s:b,s:n}", "event", "signal.pthread_sigmask",
			   "tid", (json_int_t)r.pid, "in_handler", 1, "set");
	char buf[128];
	int rt1 = SIGRTMIN + 1;
	snprintf(buf, sizeof buf, "[10 12 %d]", rt1);
	{
		char got[128];
		it_intlist(it_field(it_ev(evs, q), "oldset"), got, sizeof got);
		it_assert_str_eq(got, buf);
	}
	q = it_expect(evs, q + 1, "{s:s,s:I,s:b,s:n}", "event", "signal.pthread_sigmask",
		      "tid", (json_int_t)r.pid, "in_handler", 1, "set");
	snprintf(buf, sizeof buf, "[12 %d]", rt1);
	{
		char got[128];
		it_intlist(it_field(it_ev(evs, q), "oldset"), got, sizeof got);
		it_assert_str_eq(got, buf);
	}
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 8. faults ----------------------------------------------------------------------------- */

IT_TEST(fault_on_worker_stays_there)
{
	struct it_run r;

	run_probe(&r, "fault", NULL);
	expect_exit0(&r);
	expect_line(&r, "worker: recovered from the fault");
	expect_line(&r, "handled h_segv SIGSEGV on=worker flag=0 code=SEGV_ACCERR addr=set");
	/* raise(SIGSEGV) on a worker and kill(getpid(), SIGSEGV) are not faults */
	expect_line(&r, "handled h_segv SIGSEGV on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	it_assert_int_eq(count_line(r.out, "handled h_segv SIGSEGV on=main flag=0 code=SI_USER pid=self uid=ok value=0"), 2);
	expect_line(&r, "alive");

	json_t *evs = it_load_main(&r);
	long long fw = (long long)it_id_nth(&r, "tid", "worker", 0);
	long long rw = (long long)it_id_nth(&r, "tid", "worker", 1);
	char page[32];
	snprintf(page, sizeof page, "%#llx", it_id(&r, "addr", "page"));
	long i = it_expect(evs, 0, "{s:s,s:I,s:i,s:b,s:s,s:s,s:s}", "event", "signal.received",
			   "tid", (json_int_t)fw, "signalnum", SIGSEGV, "main", 0,
			   "si_code", "SEGV_ACCERR", "si_addr", page, "exception", "synchronous-fault");
	long h = it_expect(evs, i, "{s:s,s:I,s:i,s:s}", "event", "signal.handled",
			   "tid", (json_int_t)fw, "signalnum", SIGSEGV, "exception", "synchronous-fault");
	(void)h;
	it_assert_int_eq(it_count(evs, "{s:s,s:I}", "event", "signal.forwarded", "tid", (json_int_t)fw), 0);
	expect_forwarded(evs, 0, r.pid, rw, SIGSEGV, "SI_TKILL");
	/* kill() from the worker: whichever thread got it, it ran on main */
	it_assert_int_eq(it_count(evs, "{s:s,s:i,s:s}", "event", "signal.received",
				  "signalnum", SIGSEGV, "si_code", "SI_USER"), 2);
	it_assert_int_eq(it_count(evs, "{s:s,s:i,s:b}", "event", "signal.handled",
				  "signalnum", SIGSEGV, "main", 1), 3);
	it_assert_int_eq(it_count(evs, "{s:s,s:s}", "event", "signal.received",
				  "exception", "synchronous-fault"), 1);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* A general-protection fault on a worker (non-canonical address): the
 * kernel sends SIGSEGV with si_code SI_KERNEL.  It is a synchronous fault
 * like any other (returning re-executes the instruction), so it must run
 * once, on the worker, and never be forwarded. */
IT_TEST(gp_fault_si_kernel_on_worker)
{
	struct it_run r;

	run_probe(&r, "fault-kernel", NULL);
	expect_exit0(&r);
	expect_line(&r, "worker: recovered from the fault");
	expect_line(&r, "handled count=1");
	expect_line(&r, "handled h_segv SIGSEGV on=worker flag=0 code=SI_KERNEL addr=null");
	expect_line(&r, "alive");
	json_t *evs = it_load_main(&r);
	long long w = (long long)it_id(&r, "tid", "worker");
	it_assert_int_eq(it_count(evs, "{s:s,s:i}", "event", "signal.received", "signalnum", SIGSEGV), 1);
	long i = it_expect(evs, 0, "{s:s,s:I,s:i,s:s}", "event", "signal.received",
			   "tid", (json_int_t)w, "signalnum", SIGSEGV, "exception", "synchronous-fault");
	it_assert_field(it_ev(evs, i), "si_code_num", "i", 128);
	/* events.md: si_code is decoded ("SI_KERNEL") */
	it_assert_field(it_ev(evs, i), "si_code", "s", "SI_KERNEL");
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.forwarded"), 0);
	it_assert_field(exit_event(evs), "not_forwarded", "i", 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 9. fork from a worker ------------------------------------------------------------------ */

IT_TEST(fork_from_worker_child_main)
{
	struct it_run r;

	run_probe(&r, "fork", NULL);
	expect_exit0(&r);
	expect_line(&r, "child tid==pid: 1");
	expect_line(&r, "child sigaction(SIGUSR1, h_info) -> 0 errno=0");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	/* the child's own thread raised it: the handler ran on the child's main */
	it_assert_int_eq(count_line(r.out, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0"), 2);
	expect_line(&r, "worker child exited 0");

	pid_t child = (pid_t)it_id(&r, "child", NULL);
	json_t *evs = it_load(it_log_for(&r, child));
	json_t *start = it_ev(evs, 0);
	it_assert_field(start, "event", "s", "sigshim.start");
	it_assert_field(start, "forked", "b", 1);
	it_assert_field(start, "main_tid", "I", (json_int_t)child);
	long i = it_expect(evs, 0, "{s:s,s:i,s:I,s:b,s:i}", "event", "signal.sigaction",
			   "signalnum", SIGUSR1, "tid", (json_int_t)child, "main", 1, "ret", 0);
	it_assert_no_field(it_ev(evs, i), "violation");
	/* raised by the child's second thread: forwarded to the child's main */
	long t = it_expect(evs, 0, "{s:s,s:i,s:I}", "event", "signal.forwarded",
			   "signalnum", SIGUSR1, "to_tid", (json_int_t)child);
	(void)t;
	it_assert_int_eq(it_count(evs, "{s:s,s:I,s:b}", "event", "signal.handled",
				  "tid", (json_int_t)child, "main", 1), 2);
	json_t *ex = exit_event(evs);
	it_assert_field(ex, "violations", "i", 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 10. exec ---------------------------------------------------------------------------------- */

IT_TEST(exec_child_enforced)
{
	struct it_run r;

	run_probe(&r, "exec", NULL);
	expect_exit0(&r);
	expect_line(&r, "target main sigaction(SIGUSR1, h_info) -> 0 errno=0");
	expect_line(&r, "target worker sigaction(SIGUSR2, h_info) -> -1 errno=EPERM");
	expect_line(&r, "handled h_info SIGUSR1 on=main flag=0 code=SI_TKILL pid=self uid=ok value=0");
	expect_line(&r, "exec child exited 0");

	pid_t child = (pid_t)it_id(&r, "child", NULL);
	json_t *evs = it_load(it_log_for(&r, child));
	/* the forked image, then the exec'd one */
	long img = it_expect(evs, 1, "{s:s,s:s}", "event", "sigshim.start",
			     "argv0", "enforce-exec-target");
	it_assert_field(it_ev(evs, img), "seq", "i", 1);
	it_assert_field(it_field(it_ev(evs, img), "options"), "mode", "s", "enforce");
	long long wt = (long long)it_id_nth(&r, "tid", "worker", 1);
	long v = it_expect(evs, img, "{s:s,s:i,s:I,s:s,s:s}", "event", "signal.sigaction",
			   "signalnum", SIGUSR2, "tid", (json_int_t)wt,
			   "violation", "install-off-main", "policy", "deny");
	(void)v;
	expect_forwarded(evs, img, child, wt, SIGUSR1, "SI_TKILL");
	json_t *ex = exit_event(evs);
	it_assert_field(ex, "violations", "i", 1);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- 12. the main thread has exited ---------------------------------------------------------- */

IT_TEST(main_exited_runs_on_worker)
{
	struct it_run r;

	run_probe(&r, "main-exit", NULL);
	expect_exit0(&r);
	expect_line(&r, "survivor raise(SIGUSR1) -> 0 errno=0");
	expect_line(&r, "handled h_plain SIGUSR1 on=worker flag=1");
	json_t *evs = it_load_main(&r);
	long long w = (long long)it_id(&r, "tid", "worker");
	long i = it_expect(evs, 0, "{s:s,s:I,s:i,s:b,s:s}", "event", "signal.received",
			   "tid", (json_int_t)w, "signalnum", SIGUSR1, "main", 0,
			   "exception", "main-thread-exited");
	it_expect(evs, i, "{s:s,s:I,s:s}", "event", "signal.handled", "tid", (json_int_t)w,
		  "exception", "main-thread-exited");
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.forwarded"), 0);
	json_t *ex = exit_event(evs);
	it_assert_field(ex, "violations", "i", 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- mode=audit is native ------------------------------------------------------------------ */

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The transcript's lines, sorted (threads print in either order). */
static char *sorted_lines(const char *text)
{
	char *copy = strdup(text), *save = NULL, **v = calloc(strlen(text) + 1, sizeof *v);
	size_t n = 0, o = 0;
	char *out = calloc(1, strlen(text) + 2);

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		v[n++] = l;
	qsort(v, n, sizeof *v, cmp_line);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(out + o, "%s\n", v[i]);
	free(v);
	free(copy);
	return out;
}

/* Every scenario whose native run ends by itself prints, under
 * mode=audit, what it prints natively: handlers where the kernel put
 * them, EINTR where natively, SA_RESETHAND, masks, faults, fork, exec. */
IT_TEST(audit_matches_native)
{
	static const char *const scenarios[] = {
		"install", "eintr", "eintr-restart", "siginfo", "sigwait-main", "longjmp-main",
		"resethand", "resethand-usr1", "mask", "fault", "fault-kernel", "fork", "exec", "main-exit", NULL,
	};

	for (int i = 0; scenarios[i]; i++) {
		struct it_run n, a;

		run_native(&n, scenarios[i]);
		expect_exit0(&n);
		memset(&a, 0, sizeof a);
		a.helper = "enforce-probe";
		a.args[0] = scenarios[i];
		a.shim = 1;
		a.raw_options = "mode=audit:log_path={dir}/log.%p.jsonl:backtrace=0";
		it_run(&a);
		expect_exit0(&a);
		char *sn = sorted_lines(n.out), *sa = sorted_lines(a.out);
		it_assert_msg(strcmp(sn, sa) == 0, "%s: audit differs from native\nnative:\n%s\naudit:\n%s",
			      scenarios[i], n.out, a.out);
		free(sn);
		free(sa);
		it_run_free(&n);
		it_run_free(&a);
	}
}
IT_END

int main(void)
{
	Suite *s = suite_create("enforce");
	TCase *tc = tcase_create("enforce");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, install_off_main_denied);
	tcase_add_test(tc, install_off_main_report);
	tcase_add_test(tc, install_off_main_allow);
	tcase_add_test(tc, eintr_on_worker_handler_on_main);
	tcase_add_test(tc, sa_restart_on_worker_handler_on_main);
	tcase_add_test(tc, siginfo_preserved);
	tcase_add_test(tc, main_blocked_handler_waits);
	tcase_add_test(tc, sigwait_on_main_not_fed_doorbell);
	tcase_add_test(tc, longjmp_from_handler_on_main_keeps_queue);
	tcase_add_test(tc, rt_10000_in_order_on_main);
	tcase_add_test(tc, resethand_urg_and_child);
	tcase_add_test(tc, resethand_usr1_in_process);
	tcase_add_test(tc, mask_and_nodefer_on_main);
	tcase_add_test(tc, fault_on_worker_stays_there);
	tcase_add_test(tc, gp_fault_si_kernel_on_worker);
	tcase_add_test(tc, fork_from_worker_child_main);
	tcase_add_test(tc, exec_child_enforced);
	tcase_add_test(tc, rt_storm_100000_self);
	tcase_add_test(tc, rt_storm_100000_cross);
	tcase_add_test(tc, main_exited_runs_on_worker);
	tcase_add_test(tc, audit_matches_native);
	suite_add_tcase(s, tc);
	return it_main(s);
}
