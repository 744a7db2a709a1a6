/* The audit log under mode=audit, field by field, against docs/events.md.
 * Each test runs a helper under the shim and walks its log in order,
 * matching the calls the helper makes (its transcript says which) to
 * events; ids come from the helper's '@' stderr lines. */
#include "config.h"       /* _GNU_SOURCE, SIGSHIM_VERSION */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NO_SUCH_PID 0x3fffffff

/* --- shared checks ----------------------------------------------------------- */

/* Lines of the transcript starting with `prefix`. */
static long count_lines(const char *text, const char *prefix)
{
	long n = 0;
	size_t pl = strlen(prefix);

	for (const char *p = text; p && *p;) {
		if (strncmp(p, prefix, pl) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* seq within one process image [from, to): exactly 1..n, no gap, no
 * duplicate.  Lines of different threads may reach the file out of seq
 * order (each thread takes its number, then writes), so file order is only
 * required per thread, for events not written from a handler (a handler
 * can interrupt its thread between taking a number and writing). */
static void check_seq(json_t *evs, size_t from, size_t to)
{
	size_t n = to - from;
	char *seen = calloc(n + 1, 1);
	int one_thread = 1;

	for (size_t i = from; i < to; i++)
		one_thread &= it_int(it_ev(evs, i), "tid") == it_int(it_ev(evs, from), "tid");
	/* one thread, synchronous signals only: file order is seq order */
	for (size_t i = from; one_thread && i < to; i++)
		it_assert_msg(it_int(it_ev(evs, i), "seq") == (long long)(i - from + 1),
			      "single-threaded log: line %zu has seq %lld", i + 1,
			      it_int(it_ev(evs, i), "seq"));
	for (size_t i = from; i < to; i++) {
		json_t *ev = it_ev(evs, i);
		long long seq = it_int(ev, "seq");
		it_assert_msg(seq >= 1 && seq <= (long long)n && !seen[seq],
			      "seq %lld at line %zu: out of 1..%zu or repeated", seq, i + 1, n);
		seen[seq] = 1;
		if (json_object_get(ev, "in_handler") ||
		    json_equal(json_object_get(ev, "event"), json_string("signal.received")))
			continue;
		for (size_t j = i + 1; j < to; j++) {
			json_t *later = it_ev(evs, j);
			if (it_int(later, "tid") != it_int(ev, "tid") ||
			    json_object_get(later, "in_handler") ||
			    strcmp(json_string_value(json_object_get(later, "event")),
				   "signal.received") == 0)
				continue;
			it_assert_msg(it_int(later, "seq") > seq,
				      "seq goes back on one thread: line %zu seq %lld, line %zu seq %lld",
				      i + 1, seq, j + 1, it_int(later, "seq"));
			break;
		}
	}
	free(seen);
}

/* v, seq, ts, pid, tid, event on every line; seq from 1 without gaps in
 * each process image (a new image starts at sigshim.start); sigshim.start
 * first; sigshim.exit last when `want_exit`, with the counters. */
static void check_common(json_t *evs, pid_t pid, int want_exit, int backtrace)
{
	size_t seg_start = 0;
	size_t n = json_array_size(evs);

	it_assert_msg(n >= 2, "log has %zu events", n);
	it_assert_field(it_ev(evs, 0), "event", "s", "sigshim.start");
	for (size_t i = 0; i < n; i++) {
		json_t *ev = it_ev(evs, i);
		const char *name = json_string_value(it_field(ev, "event"));
		if (strcmp(name, "sigshim.start") == 0) {
			if (i > 0)
				check_seq(evs, seg_start, i);
			seg_start = i;
			it_assert_field(ev, "seq", "i", 1);
		}
		it_assert_field(ev, "v", "i", 1);
		it_assert_int_eq(it_int(ev, "pid"), pid);
		it_assert_int_gt(it_int(ev, "ts"), 1500000000LL * 1000000000LL);
		it_assert_int_gt(it_int(ev, "tid"), 0);
		if (json_object_get(ev, "signalnum")) {
			it_assert(json_is_string(it_field(ev, "signame")));
			it_assert(json_is_integer(it_field(ev, "thread_id")));
			it_assert(json_is_boolean(it_field(ev, "main")));
			it_assert_msg(json_is_true(json_object_get(ev, "main")) ==
				      (it_int(ev, "tid") == pid), "main must be tid == pid in %s",
				      it_dump(ev));
		}
		if (strncmp(name, "signal.", 7) == 0 && strcmp(name, "signal.received") != 0) {
			it_field(ev, "ret");
			/* calls made before the shim's constructor carry no
			 * backtrace (docs/events.md, "early") */
			if (backtrace && json_is_true(json_object_get(ev, "early")))
				it_assert_no_field(ev, "bt");
			else if (backtrace)
				it_assert_msg(json_is_array(json_object_get(ev, "bt")) &&
					      json_array_size(json_object_get(ev, "bt")) > 0 &&
					      json_array_size(json_object_get(ev, "bt")) <= (size_t)backtrace,
					      "bt with 1..%d frames expected in %s", backtrace, it_dump(ev));
			else
				it_assert_no_field(ev, "bt");
		}
		if (!backtrace && strcmp(name, "signal.received") == 0)
			it_assert_no_field(ev, "pc");
		if (strcmp(name, "sigshim.exit") == 0) {
			it_assert_msg(want_exit && i == n - 1, "sigshim.exit at %zu of %zu", i, n);
			/* written last, so it has the highest number */
			it_assert_int_eq(it_int(ev, "seq"), (long)(i - seg_start) + 1);
			it_assert_int_eq(it_int(ev, "events"), (long)(i - seg_start));
			it_assert_field(ev, "dropped", "i", 0);
			it_assert_field(ev, "dropped_bytes", "i", 0);
			it_assert_field(ev, "truncated", "i", 0);
			it_assert_field(ev, "violations", "i", 0);
		}
	}
	check_seq(evs, seg_start, n);
	if (want_exit)
		it_assert_field(it_ev(evs, n - 1), "event", "s", "sigshim.exit");
}

/* Runs a helper under the shim; expects exit 0 and a log with the common
 * properties.  Returns the main process's events. */
static json_t *run_logged(struct it_run *r)
{
	r->shim = 1;
	it_run(r);
	it_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
		      "helper %s: %s; stderr: %s", r->helper, it_status_str(r->status), r->err);
	json_t *evs = it_load_main(r);
	check_common(evs, r->pid, 1, 0);
	/* In a sanitizer build, the runtime installs its own handlers before
	 * any helper code runs; those calls are not the helper's. */
	it_drop_sanitizer_events(evs);
	return evs;
}

/* A handler string: "SIG_DFL"… or the address of a helper function. */
#define check_handler(r, v, want) check_handler_at(__FILE__, __LINE__, r, v, want)
static void check_handler_at(const char *file, int line, const struct it_run *r,
			     json_t *v, const char *want)
{
	if (!json_is_string(v))
		it_fail(file, line, "handler %s: expected a string, got %s", want, it_dump(v));
	if (strncmp(want, "SIG_", 4) == 0) {
		if (strcmp(json_string_value(v), want) != 0)
			it_fail(file, line, "handler: expected \"%s\", got %s", want, it_dump(v));
		return;
	}
	const char *s = json_string_value(v);
	unsigned long long addr = it_id(r, "fn", want);
	if (strncmp(s, "0x", 2) != 0 || strtoull(s, NULL, 16) != addr)
		it_fail(file, line, "handler: expected %s = %#llx, got %s", want, addr, it_dump(v));
}

/* An action object: handler, flags (sorted, comma-separated), mask "[..]". */
#define check_act(r, act, h, flags, mask) \
	check_act_at(__FILE__, __LINE__, r, act, h, flags, mask)
static void check_act_at(const char *file, int line, const struct it_run *r,
			 json_t *act, const char *handler, const char *flags,
			 const char *mask)
{
	char f[512], m[512];

	if (!json_is_object(act))
		it_fail(file, line, "action expected, got %s", it_dump(act));
	check_handler_at(file, line, r, json_object_get(act, "handler"), handler);
	it_strset(json_object_get(act, "flags"), f, sizeof f);
	if (strcmp(f, flags) != 0)
		it_fail(file, line, "action flags: expected {%s}, got {%s} in %s", flags, f,
			it_dump(act));
	it_intlist(json_object_get(act, "mask"), m, sizeof m);
	if (strcmp(m, mask) != 0)
		it_fail(file, line, "action mask: expected %s, got %s in %s", mask, m,
			it_dump(act));
}

#define check_list(v, want) do { char b_[512]; it_intlist(v, b_, sizeof b_); \
	if (strcmp(b_, want) != 0) it_fail(__FILE__, __LINE__, \
		"list: expected %s, got %s", want, it_dump(v)); } while (0)

/* A successful call: no error fields. */
#define check_ok(ev) do { json_t *e_ = (ev); it_assert_no_field(e_, "error"); \
	it_assert_no_field(e_, "errno"); } while (0)
#define check_err(ev, name, num) do { json_t *e_ = (ev); \
	it_assert_field(e_, "error", "s", name); it_assert_field(e_, "errno", "i", num); \
	} while (0)

/* --- lifecycle ---------------------------------------------------------------- */

IT_TEST(start_and_exit)
{
	struct it_run r = { .helper = "calls-masks" };
	json_t *evs = run_logged(&r);
	json_t *st = it_ev(evs, 0);
	char exe[PATH_MAX], helper[PATH_MAX];

	it_assert_field(st, "seq", "i", 1);
	it_assert_field(st, "version", "s", SIGSHIM_VERSION);
	json_t *opt = it_field(st, "options");
	it_assert_field(opt, "mode", "s", "audit");
	it_assert_field(opt, "backtrace", "i", 0);
	it_assert_str_contains(json_string_value(it_field(opt, "log_path")), "/log.%p.jsonl");
	snprintf(helper, sizeof helper, "%s/calls-masks", getenv("SIGSHIM_HELPERS"));
	it_assert(realpath(helper, exe) != NULL);
	it_assert_field(st, "exe", "s", exe);
	it_assert_field(st, "argv0", "s", "calls-masks");
	it_assert_field(st, "ppid", "i", (json_int_t)getpid());
	it_assert_field(st, "main_tid", "i", (json_int_t)r.pid);
	it_assert_field(st, "main_thread_id", "I", (json_int_t)it_id(&r, "thread", "main"));
	it_assert_no_field(st, "forked");
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.start"), 1);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.exit"), 1);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- sigaction ------------------------------------------------------------------ */

IT_TEST(sigaction_events)
{
	struct it_run r = { .helper = "calls-handlers" };
	json_t *evs = run_logged(&r);
	long long main_id = (long long)it_id(&r, "thread", "main");
	long c = 0, i;
	json_t *ev;

	/* exactly one event per sigaction() call: signal() & co. and the
	 * shim's own calls must not show up as sigaction */
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.sigaction"),
			 count_lines(r.out, "sigaction("));

	/* query */
	c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 10);
	ev = it_ev(evs, c);
	it_assert_field(ev, "signame", "s", "SIGUSR1");
	it_assert_field(ev, "thread_id", "I", main_id);
	it_assert_field(ev, "main", "b", 1);
	it_assert_field(ev, "act", "n");
	it_assert_field(ev, "act_ptr", "n");
	it_assert_field(ev, "ret", "i", 0);
	check_ok(ev);
	check_act(&r, it_field(ev, "oldact"), "SIG_DFL", "", "[]");
	it_assert_no_field(ev, "in_handler");

	/* install with SA_RESTART and a mask */
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 10));
	check_act(&r, it_field(ev, "act"), "h_usr1", "SA_RESTART", "[12 15]");
	check_act(&r, it_field(ev, "oldact"), "SIG_DFL", "", "[]");
	it_assert(!json_is_null(it_field(ev, "act_ptr")));
	it_assert(!json_is_null(it_field(ev, "oldact_ptr")));

	/* the query reads back the program's view, SA_RESTORER included */
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i, s:n}", "event", "signal.sigaction",
				      "signalnum", 10, "act"));
	check_act(&r, it_field(ev, "oldact"), "h_usr1", "SA_RESTART,SA_RESTORER", "[12 15]");

	/* raise: signal.received is written before the handler, so before
	 * the raise event that follows the real call */
	long rcv = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.received", "signalnum", 10);
	long rai = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.raise", "signalnum", 10);
	it_assert_msg(rcv < rai, "signal.received (%ld) must precede signal.raise (%ld)", rcv, rai);
	ev = it_ev(evs, rcv);
	check_handler(&r, it_field(ev, "handler"), "h_usr1");
	it_assert_field(ev, "si_code", "s", "SI_TKILL");
	it_assert_field(ev, "si_code_num", "i", SI_TKILL);
	it_assert_field(ev, "si_pid", "i", (json_int_t)r.pid);
	it_assert_field(ev, "si_uid", "i", (json_int_t)getuid());
	it_assert_no_field(ev, "si_value");
	it_assert_field(ev, "thread_id", "I", main_id);
	it_assert_field(ev, "main", "b", 1);
	c = rai;

	/* SA_SIGINFO handler */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.sigaction",
				      "signalnum", 10, "ret", 0));
	check_act(&r, it_field(ev, "act"), "h_mask", "SA_RESTART,SA_SIGINFO", "[12 15]");
	check_act(&r, it_field(ev, "oldact"), "h_usr1", "SA_RESTART,SA_RESTORER", "[12 15]");

	/* SA_NODEFER, oldact NULL */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 12));
	check_act(&r, it_field(ev, "act"), "h_mask", "SA_NODEFER,SA_SIGINFO", "[15]");
	it_assert_no_field(ev, "oldact");
	it_assert_field(ev, "oldact_ptr", "n");
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 12));
	check_act(&r, it_field(ev, "oldact"), "h_mask", "SA_NODEFER,SA_RESTORER,SA_SIGINFO", "[15]");

	/* SA_RESETHAND: one delivery, then the program reads SIG_DFL back */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 28));
	check_act(&r, it_field(ev, "act"), "h_mask", "SA_RESETHAND,SA_SIGINFO", "[]");
	it_assert_int_eq(it_count(evs, "{s:s, s:i}", "event", "signal.received", "signalnum", 28), 1);
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 28));
	check_act(&r, it_field(ev, "oldact"), "SIG_DFL", "SA_RESETHAND,SA_RESTORER,SA_SIGINFO", "[]");
	it_assert_int_eq(it_count(evs, "{s:s, s:i}", "event", "signal.raise", "signalnum", 28), 2);

	/* unknown and probe bits: named, or "0x…"; the kernel clears
	 * SA_UNSUPPORTED and the unknown bit in what is read back */
	c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 23);
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 23));
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 23));
	check_act(&r, it_field(ev, "act"), "h_usr1", "0x100,SA_EXPOSE_TAGBITS,SA_UNSUPPORTED", "[]");
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 23));
	check_act(&r, it_field(ev, "oldact"), "h_usr1", "SA_EXPOSE_TAGBITS,SA_RESTORER", "[]");

	/* both pointers NULL */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i, s:n, s:n}", "event", "signal.sigaction",
				      "signalnum", 10, "act_ptr", "oldact_ptr"));
	it_assert_field(ev, "act", "n");
	it_assert_no_field(ev, "oldact");
	it_assert_field(ev, "ret", "i", 0);

	/* invalid numbers */
	static const int bad[] = { 0, -1, 65 };
	for (int k = 0; k < 3; k++) {
		ev = it_ev(evs, i = it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigaction",
					      "signalnum", bad[k]));
		it_assert_field(ev, "signame", "s", "?");
		it_assert_field(ev, "ret", "i", -1);
		check_err(ev, "EINVAL", EINVAL);
		it_assert_no_field(ev, "oldact");
		check_act(&r, it_field(ev, "act"), "h_usr1", "", "[]");
	}
	for (int sig = 32; sig <= 33; sig++) {
		ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", sig));
		it_assert_field(ev, "ret", "i", -1);
		check_err(ev, "EINVAL", EINVAL);
	}
	ev = it_ev(evs, i = it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.sigaction",
				      "signalnum", 9, "ret", -1));
	it_assert_field(ev, "signame", "s", "SIGKILL");
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, i, "{s:s, s:i, s:i}", "event", "signal.sigaction",
				  "signalnum", 9, "ret", 0));
	it_assert_field(ev, "act", "n");
	check_act(&r, it_field(ev, "oldact"), "SIG_DFL", "", "[]");
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.sigaction",
				  "signalnum", 19, "ret", -1));
	check_err(ev, "EINVAL", EINVAL);

	/* SIG_ERR as a handler is legal for sigaction */
	ev = it_ev(evs, i = it_expect(evs, c, "{s:s, s:i, s:{s:s}}", "event", "signal.sigaction",
				      "signalnum", 12, "act", "handler", "SIG_ERR"));
	it_assert_field(ev, "ret", "i", 0);
	ev = it_ev(evs, it_expect(evs, i + 1, "{s:s, s:i, s:n}", "event", "signal.sigaction",
				  "signalnum", 12, "act"));
	check_act(&r, it_field(ev, "oldact"), "SIG_ERR", "SA_RESTORER", "[]");
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- signal() family, sigset, sighold…, sigpause, siginterrupt ----------------- */

#define expect_call(evs, c, name, sig) \
	it_ev(evs, c = it_expect(evs, c, "{s:s, s:i}", "event", name, "signalnum", sig))

IT_TEST(signal_family_events)
{
	struct it_run r = { .helper = "calls-handlers" };
	json_t *evs = run_logged(&r);
	long long main_id = (long long)it_id(&r, "thread", "main");
	long c = 0;
	json_t *ev;

	static const char *const names[] = {
		"signal(", "bsd_signal(", "ssignal(", "sysv_signal(", "__sysv_signal(",
		"sigset(", "sighold(", "sigrelse(", "sigignore(", "siginterrupt(",
		"__xpg_sigpause(", "raise(",
	};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		char ev_name[64];
		snprintf(ev_name, sizeof ev_name, "signal.%.*s", (int)strlen(names[k]) - 1, names[k]);
		long want = count_lines(r.out, names[k]);
		long have = it_count(evs, "{s:s}", "event", ev_name);
		it_assert_msg(want == have, "%s: %ld calls in the transcript, %ld events",
			      ev_name, want, have);
	}
	c = it_expect(evs, 0, "{s:s}", "event", "signal.signal");
	ev = expect_call(evs, c, "signal.signal", 2);
	check_handler(&r, it_field(ev, "handler"), "h_usr1");
	check_handler(&r, it_field(ev, "ret"), "SIG_DFL");
	it_assert_field(ev, "thread_id", "I", main_id);
	check_ok(ev);
	ev = expect_call(evs, c, "signal.raise", 2);
	c++;
	ev = expect_call(evs, c, "signal.signal", 2);
	check_handler(&r, it_field(ev, "handler"), "SIG_IGN");
	check_handler(&r, it_field(ev, "ret"), "h_usr1");
	c++;
	ev = expect_call(evs, c, "signal.raise", 2);
	c++;
	ev = expect_call(evs, c, "signal.signal", 2);
	check_handler(&r, it_field(ev, "ret"), "SIG_IGN");
	ev = expect_call(evs, c, "signal.bsd_signal", 2);
	check_handler(&r, it_field(ev, "handler"), "h_other");
	check_handler(&r, it_field(ev, "ret"), "SIG_DFL");
	ev = expect_call(evs, c, "signal.ssignal", 2);
	check_handler(&r, it_field(ev, "ret"), "h_other");
	ev = expect_call(evs, c, "signal.sysv_signal", 2);
	check_handler(&r, it_field(ev, "handler"), "h_other");
	check_handler(&r, it_field(ev, "ret"), "h_usr1");
	ev = it_ev(evs, c = it_expect(evs, c + 1, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 2));
	/* SA_INTERRUPT is not a kernel flag: it does not come back */
	check_act(&r, it_field(ev, "oldact"), "h_other", "SA_NODEFER,SA_RESETHAND,SA_RESTORER", "[]");
	ev = expect_call(evs, c, "signal.__sysv_signal", 2);
	check_handler(&r, it_field(ev, "handler"), "SIG_IGN");
	check_handler(&r, it_field(ev, "ret"), "h_other");

	/* sigset and SIG_HOLD */
	ev = expect_call(evs, c, "signal.sigset", 12);
	check_handler(&r, it_field(ev, "handler"), "SIG_HOLD");
	check_handler(&r, it_field(ev, "ret"), "h_usr1");
	c++;
	ev = expect_call(evs, c, "signal.sigset", 12);
	check_handler(&r, it_field(ev, "ret"), "SIG_HOLD");
	c++;
	long rcv = it_expect(evs, c, "{s:s, s:i}", "event", "signal.received", "signalnum", 12);
	ev = expect_call(evs, c, "signal.sigset", 12);
	it_assert_msg(rcv < c, "the held SIGUSR2 is delivered inside sigset(h_other)");
	check_handler(&r, it_field(ev, "handler"), "h_other");
	check_handler(&r, it_field(ev, "ret"), "SIG_HOLD");
	check_handler(&r, it_field(it_ev(evs, rcv), "handler"), "h_other");

	ev = expect_call(evs, c, "signal.sighold", 12);
	it_assert_field(ev, "ret", "i", 0);
	ev = expect_call(evs, c, "signal.sigrelse", 12);
	it_assert_field(ev, "ret", "i", 0);
	ev = expect_call(evs, c, "signal.sigignore", 12);
	it_assert_field(ev, "ret", "i", 0);
	check_ok(ev);

	/* sigpause flavours: each returns -1 EINTR after the pending signal */
	ev = expect_call(evs, c, "signal.__xpg_sigpause", 10);
	it_assert_field(ev, "ret", "i", -1);
	check_err(ev, "EINTR", EINTR);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.__sigpause",
				      "sig_or_mask", 10, "is_sig", 1));
	it_assert_field(ev, "signalnum", "i", 10);
	check_err(ev, "EINTR", EINTR);
	/* glibc's sigpause symbol is BSD's: its argument is a mask */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s}", "event", "signal.sigpause"));
	it_assert_field(ev, "signalnum", "i", 1 << (SIGINT - 1));
	check_err(ev, "EINTR", EINTR);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.__sigpause",
				      "sig_or_mask", 1 << (SIGTERM - 1), "is_sig", 0));
	it_assert_no_field(ev, "signalnum");
	check_err(ev, "EINTR", EINTR);
	ev = expect_call(evs, c, "signal.__xpg_sigpause", 65);
	it_assert_field(ev, "signame", "s", "?");
	check_err(ev, "EINVAL", EINVAL);

	/* siginterrupt: flag */
	c = 0;
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.siginterrupt",
				      "signalnum", 10, "flag", 0));
	it_assert_field(ev, "ret", "i", 0);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i, s:i}", "event", "signal.siginterrupt",
				  "signalnum", 10, "flag", 1));
	it_assert_field(ev, "ret", "i", 0);

	/* invalid inputs */
	c = it_expect(evs, 0, "{s:s, s:i}", "event", "signal.signal", "signalnum", 0);
	ev = it_ev(evs, c);
	it_assert_field(ev, "ret", "s", "SIG_ERR");
	it_assert_field(ev, "signame", "s", "?");
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i, s:s}", "event", "signal.signal",
				  "signalnum", 10, "handler", "SIG_ERR"));
	it_assert_field(ev, "ret", "s", "SIG_ERR");
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.signal", "signalnum", 9));
	it_assert_field(ev, "ret", "s", "SIG_ERR");
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigset", "signalnum", 0));
	it_assert_field(ev, "ret", "s", "SIG_ERR");
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.sighold", "signalnum", 65));
	it_assert_field(ev, "ret", "i", -1);
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigignore", "signalnum", 9));
	it_assert_field(ev, "ret", "i", -1);
	check_err(ev, "EINVAL", EINVAL);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.siginterrupt", "signalnum", 0));
	it_assert_field(ev, "ret", "i", -1);
	check_err(ev, "EINVAL", EINVAL);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- masks ---------------------------------------------------------------------- */

static void check_mask_fn(const struct it_run *r, json_t *evs, long from,
			  const char *name, const char *version, int pt)
{
	json_t *pat = version ? json_pack("{s:s, s:s}", "event", name, "version", version)
			      : json_pack("{s:s}", "event", name);
	json_t *seq = json_array();
	json_int_t t1 = (json_int_t)it_id(r, "thread", "t1");

	for (size_t i = (size_t)from; i < json_array_size(evs); i++)
		if (it_match(it_ev(evs, i), pat) &&
		    json_integer_value(json_object_get(it_ev(evs, i), "thread_id")) != t1)
			json_array_append(seq, it_ev(evs, i));
	json_decref(pat);
	it_context("%s %s in %s", name, version ? version : "", r->dir);
	/* the first 16 are each_function()'s calls, in order */
	it_assert_int_gt(json_array_size(seq), 15);
	struct { const char *how; int how_i; const char *set; const char *old; int err; } want[] = {
		{ "SIG_BLOCK", 0, NULL, "[]", 0 },
		{ "SIG_BLOCK", 0, "[10]", "[]", 0 },
		{ "SIG_BLOCK", 0, "[10 12 15]", "[10]", 0 },
		{ "SIG_UNBLOCK", 0, "[10]", "[10 12 15]", 0 },
		{ "SIG_SETMASK", 0, "[10]", "[12 15]", 0 },
		{ "SIG_SETMASK", 0, NULL, "[10]", 0 },
		{ NULL, 99, NULL, "[10]", 0 },
		{ NULL, 99, "[10 12 15]", NULL, EINVAL },
		{ NULL, -1, "[10 12 15]", NULL, EINVAL },
		{ "SIG_BLOCK", 0, "[1 9 19]", "[10]", 0 },
		{ "SIG_BLOCK", 0, "[2 32 33]", "[1 10]", 0 },
		{ "SIG_BLOCK", 0, "[34 40 64]", "[1 2 10]", 0 },
	};
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
		json_t *ev = json_array_get(seq, k);
		it_context("%s %s call %zu in %s: %s", name, version ? version : "", k,
			   r->dir, it_dump(ev));
		if (want[k].how)
			it_assert_field(ev, "how", "s", want[k].how);
		else
			it_assert_field(ev, "how", "i", want[k].how_i);
		if (want[k].set)
			check_list(it_field(ev, "set"), want[k].set);
		else
			it_assert_field(ev, "set", "n");
		if (want[k].err) {
			it_assert_no_field(ev, "oldset");
			if (pt)
				it_assert_field(ev, "ret", "i", want[k].err);
			else
				it_assert_field(ev, "ret", "i", -1);
			check_err(ev, "EINVAL", EINVAL);
		} else {
			it_assert_field(ev, "ret", "i", 0);
			check_ok(ev);
			check_list(it_field(ev, "oldset"), want[k].old);
		}
		if (version)
			it_assert_field(ev, "version", "s", version);
		else
			it_assert_no_field(ev, "version");
		it_assert_field(ev, "main", "b", 1);
	}
	json_decref(seq);
}

IT_TEST(mask_events)
{
	struct it_run r = { .helper = "calls-masks" };
	json_t *evs = run_logged(&r);
	long long t1 = (long long)it_id(&r, "thread", "t1");

	/* each_function(sigprocmask) makes 16 calls, then tr_show_mask()
	 * one pthread_sigmask query; each_function(pthread_sigmask) follows */
	long last = -1;
	for (int k = 0; k < 16; k++)
		last = it_expect(evs, last + 1, "{s:s}", "event", "signal.sigprocmask");
	long show = it_expect(evs, last + 1, "{s:s}", "event", "signal.pthread_sigmask");
	check_mask_fn(&r, evs, 0, "signal.sigprocmask", NULL, 0);
	check_mask_fn(&r, evs, show + 1, "signal.pthread_sigmask", "GLIBC_2.32", 1);
	/* Under ASan, libasan's unversioned pthread_sigmask interceptor comes
	 * first and binds the old-version calls too, then calls the default
	 * version: the chaining to GLIBC_2.2.5 is only observable (and is
	 * checked) in the plain build. */
	if (!it_sanitizer_preloaded())
		check_mask_fn(&r, evs, 0, "signal.pthread_sigmask", "GLIBC_2.2.5", 1);
	it_context("%s", r.dir);
	/* one event per call, each bound to its version */
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.sigprocmask"),
			 count_lines(r.out, "sigprocmask("));
	if (!it_sanitizer_preloaded())
		it_assert_int_eq(it_count(evs, "{s:s, s:s}", "event", "signal.pthread_sigmask",
					  "version", "GLIBC_2.2.5"),
				 count_lines(r.out, "pthread_sigmask@GLIBC_2.2.5("));
	it_assert_int_eq(it_count(evs, "{s:s, s:s}", "event", "signal.pthread_sigmask",
				  "version", "GLIBC_2.32"),
			 count_lines(r.out, "pthread_sigmask(") + count_lines(r.out, "  mask ") +
			 (it_sanitizer_preloaded() ? count_lines(r.out, "pthread_sigmask@GLIBC_2.2.5(") : 0));
	/* the worker's own calls carry its thread id */
	long i = it_expect(evs, 0, "{s:s, s:I, s:s}", "event", "signal.pthread_sigmask",
			   "thread_id", (json_int_t)t1, "how", "SIG_BLOCK");
	it_assert_field(it_ev(evs, i), "main", "b", 0);
	it_assert_int_ne(it_int(it_ev(evs, i), "tid"), r.pid);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- sending ---------------------------------------------------------------------- */

/* The signal.received for `sig` nearest before event index `before`. */
static json_t *received_before(json_t *evs, long before, int sig)
{
	for (long i = before - 1; i >= 0; i--) {
		json_t *ev = it_ev(evs, i);
		const char *name = json_string_value(json_object_get(ev, "event"));
		if (strcmp(name, "signal.received") == 0 &&
		    json_integer_value(json_object_get(ev, "signalnum")) == sig)
			return ev;
		if (strncmp(name, "signal.", 7) == 0 && !json_object_get(ev, "in_handler"))
			break;          /* the previous call: not inside this one */
	}
	it_fail(__FILE__, __LINE__, "no signal.received %d inside the call at event %ld (%s)",
		sig, before, it_dump(it_ev(evs, before)));
}

static void check_received(json_t *ev, const char *code, int code_num, pid_t pid,
			   long long value, long long thread)
{
	it_assert_field(ev, "si_code", "s", code);
	it_assert_field(ev, "si_code_num", "i", code_num);
	it_assert_field(ev, "si_pid", "i", (json_int_t)pid);
	it_assert_field(ev, "si_uid", "i", (json_int_t)getuid());
	if (code_num == SI_QUEUE)
		it_assert_field(ev, "si_value", "I", (json_int_t)value);
	else
		it_assert_no_field(ev, "si_value");
	it_assert_no_field(ev, "si_status");
	it_assert_no_field(ev, "si_addr");
	it_assert_field(ev, "thread_id", "I", (json_int_t)thread);
}

IT_TEST(send_events)
{
	struct it_run r = { .helper = "calls-send" };
	json_t *evs = run_logged(&r);
	long long main_id = (long long)it_id(&r, "thread", "main");
	long long t1 = (long long)it_id(&r, "thread", "t1");
	long long t2 = (long long)it_id(&r, "thread", "t2");
	long long t3 = (long long)it_id(&r, "thread", "t3");
	pid_t pid = r.pid;
	long c = 0;
	json_t *ev;

	static const char *const names[] = {
		"raise(", "gsignal(", "kill(", "tgkill(", "sigqueue(", "pthread_sigqueue(",
	};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		char ev_name[64];
		snprintf(ev_name, sizeof ev_name, "signal.%.*s", (int)strlen(names[k]) - 1, names[k]);
		long want = count_lines(r.out, names[k]);
		if (strcmp(names[k], "pthread_sigqueue(") == 0)
			want += 1;      /* sender_worker's, not in the transcript */
		it_assert_msg(want == it_count(evs, "{s:s}", "event", ev_name),
			      "%s: %ld calls, %ld events", ev_name, want,
			      it_count(evs, "{s:s}", "event", ev_name));
	}
	it_assert_int_eq(it_count(evs, "{s:s, s:I}", "event", "signal.pthread_kill",
				  "caller_thread_id", (json_int_t)main_id),
			 count_lines(r.out, "pthread_kill(") + count_lines(r.out, "old_pthread_kill("));

	ev = expect_call(evs, c, "signal.raise", 10);
	it_assert_field(ev, "thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "ret", "i", 0);
	check_received(received_before(evs, c, 10), "SI_TKILL", SI_TKILL, pid, 0, main_id);
	ev = expect_call(evs, c, "signal.gsignal", 12);
	it_assert_field(ev, "thread_id", "I", (json_int_t)main_id);
	check_received(received_before(evs, c, 12), "SI_TKILL", SI_TKILL, pid, 0, main_id);
	ev = expect_call(evs, c, "signal.raise", 0);
	it_assert_field(ev, "ret", "i", 0);
	it_assert_field(ev, "signame", "s", "?");
	ev = expect_call(evs, c, "signal.raise", 65);
	it_assert_field(ev, "ret", "i", -1);
	check_err(ev, "EINVAL", EINVAL);

	ev = expect_call(evs, c, "signal.kill", 10);
	it_assert_field(ev, "target_pid", "i", (json_int_t)pid);
	it_assert_field(ev, "ret", "i", 0);
	check_ok(ev);
	check_received(received_before(evs, c, 10), "SI_USER", SI_USER, pid, 0, main_id);
	ev = expect_call(evs, c, "signal.kill", 0);
	it_assert_field(ev, "target_pid", "i", (json_int_t)pid);
	c++;
	ev = expect_call(evs, c, "signal.kill", 0);
	it_assert_field(ev, "target_pid", "i", 0);
	ev = expect_call(evs, c, "signal.kill", 65);
	check_err(ev, "EINVAL", EINVAL);
	ev = expect_call(evs, c, "signal.kill", -1);
	check_err(ev, "EINVAL", EINVAL);
	ev = expect_call(evs, c, "signal.kill", 10);
	it_assert_field(ev, "target_pid", "i", NO_SUCH_PID);
	it_assert_field(ev, "ret", "i", -1);
	check_err(ev, "ESRCH", ESRCH);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.kill",
				      "target_pid", -NO_SUCH_PID));
	check_err(ev, "ESRCH", ESRCH);

	ev = expect_call(evs, c, "signal.tgkill", 12);
	it_assert_field(ev, "target_tgid", "i", (json_int_t)pid);
	it_assert_field(ev, "target_tid", "i", (json_int_t)pid);
	it_assert_field(ev, "ret", "i", 0);
	check_received(received_before(evs, c, 12), "SI_TKILL", SI_TKILL, pid, 0, main_id);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.tgkill",
				      "target_tid", NO_SUCH_PID));
	check_err(ev, "ESRCH", ESRCH);

	ev = expect_call(evs, c, "signal.sigqueue", 10);
	it_assert_field(ev, "target_pid", "i", (json_int_t)pid);
	it_assert_field(ev, "value", "I", (json_int_t)42);
	check_received(received_before(evs, c, 10), "SI_QUEUE", SI_QUEUE, pid, 42, main_id);
	ev = expect_call(evs, c, "signal.sigqueue", 36);
	it_assert_field(ev, "signame", "s", "SIGRTMIN+2");
	it_assert_field(ev, "value", "I", (json_int_t)0x123456789LL);
	check_received(received_before(evs, c, 36), "SI_QUEUE", SI_QUEUE, pid, 0x123456789LL, main_id);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:i}", "event", "signal.sigqueue",
				      "target_pid", NO_SUCH_PID));
	check_err(ev, "ESRCH", ESRCH);

	/* pthread_kill: thread_id is the target, caller_thread_id the caller */
	ev = expect_call(evs, c, "signal.pthread_kill", 12);
	it_assert_field(ev, "thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "caller_thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "version", "s", "GLIBC_2.34");
	it_assert_field(ev, "ret", "i", 0);
	check_received(received_before(evs, c, 12), "SI_TKILL", SI_TKILL, pid, 0, main_id);
	ev = expect_call(evs, c, "signal.pthread_kill", 0);
	it_assert_field(ev, "ret", "i", 0);
	ev = expect_call(evs, c, "signal.pthread_kill", 65);
	it_assert_field(ev, "ret", "i", EINVAL);
	check_err(ev, "EINVAL", EINVAL);
	ev = expect_call(evs, c, "signal.pthread_kill", 32);
	it_assert_field(ev, "ret", "i", EINVAL);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:s}", "event", "signal.pthread_kill",
				      "version", "GLIBC_2.2.5"));
	it_assert_field(ev, "signalnum", "i", 10);
	it_assert_field(ev, "ret", "i", 0);
	ev = expect_call(evs, c, "signal.pthread_sigqueue", 12);
	it_assert_field(ev, "thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "caller_thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "value", "I", (json_int_t)43);
	check_received(received_before(evs, c, 12), "SI_QUEUE", SI_QUEUE, pid, 43, main_id);
	ev = expect_call(evs, c, "signal.pthread_sigqueue", 65);
	it_assert_field(ev, "ret", "i", EINVAL);
	check_err(ev, "EINVAL", EINVAL);

	/* kernel-generated: sender fields only where they mean something */
	long k = it_expect(evs, c, "{s:s, s:i}", "event", "signal.received", "signalnum", 37);
	ev = it_ev(evs, k);
	it_assert_field(ev, "si_code", "s", "SI_TIMER");
	it_assert_field(ev, "si_code_num", "i", SI_TIMER);
	it_assert_field(ev, "si_value", "I", (json_int_t)0x55);
	it_assert_field(ev, "signame", "s", "SIGRTMIN+3");
	it_assert_no_field(ev, "si_pid");
	it_assert_no_field(ev, "si_uid");
	it_assert_no_field(ev, "si_addr");
	ev = it_ev(evs, k = it_expect(evs, k, "{s:s, s:i}", "event", "signal.received",
				      "signalnum", SIGCHLD));
	it_assert_field(ev, "si_code", "s", "CLD_EXITED");
	it_assert_field(ev, "si_code_num", "i", CLD_EXITED);
	it_assert_field(ev, "si_pid", "i", (json_int_t)it_id(&r, "child", NULL));
	it_assert_field(ev, "si_uid", "i", (json_int_t)getuid());
	it_assert_field(ev, "si_status", "i", 5);
	it_assert_no_field(ev, "si_value");
	it_assert_no_field(ev, "si_addr");
	ev = it_ev(evs, k = it_expect(evs, k, "{s:s, s:i}", "event", "signal.received",
				      "signalnum", SIGSEGV));
	it_assert_field(ev, "si_code", "s", "SEGV_MAPERR");
	it_assert_field(ev, "si_code_num", "i", SEGV_MAPERR);
	it_assert_msg(it_hex(it_field(ev, "si_addr")) == 16 &&
		      strncmp(json_string_value(it_field(ev, "si_addr")), "0x", 2) == 0,
		      "si_addr \"0x10\" expected: %s", it_dump(ev));
	check_handler(&r, it_field(ev, "handler"), "h_segv");
	it_assert_no_field(ev, "si_pid");
	it_assert_no_field(ev, "si_uid");
	it_assert_no_field(ev, "si_value");
	it_assert_field(ev, "main", "b", 1);

	/* a call made inside a handler */
	long q = it_expect(evs, c, "{s:s, s:b}", "event", "signal.pthread_sigmask", "in_handler", 1);
	ev = expect_call(evs, c, "signal.raise", 15);
	it_assert_msg(q < c, "the handler's pthread_sigmask comes before raise(SIGTERM) returns");
	it_assert_no_field(ev, "in_handler");
	it_assert_int_eq(it_count(evs, "{s:b}", "in_handler", 1), 1);

	/* a live worker */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:I}", "event", "signal.pthread_kill",
				      "thread_id", (json_int_t)t1));
	it_assert_field(ev, "signalnum", "i", 0);
	it_assert_field(ev, "caller_thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "main", "b", 1);
	long rcv = it_expect(evs, c, "{s:s, s:I, s:i}", "event", "signal.received",
			     "thread_id", (json_int_t)t1, "signalnum", 10);
	check_received(it_ev(evs, rcv), "SI_TKILL", SI_TKILL, pid, 0, t1);
	it_assert_field(it_ev(evs, rcv), "main", "b", 0);
	rcv = it_expect(evs, c, "{s:s, s:I, s:i}", "event", "signal.received",
			"thread_id", (json_int_t)t1, "signalnum", 12);
	check_received(it_ev(evs, rcv), "SI_QUEUE", SI_QUEUE, pid, 77, t1);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:I}", "event", "signal.pthread_sigqueue",
				  "thread_id", (json_int_t)t1));
	it_assert_field(ev, "value", "I", (json_int_t)77);

	/* the worker t2 signals main (t1, t2 and t3 may share a pthread_t
	 * value: search in order) */
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:I}", "event", "signal.pthread_kill",
				      "caller_thread_id", (json_int_t)t2));
	it_assert_field(ev, "thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "main", "b", 0);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:I}", "event", "signal.pthread_sigqueue",
				      "caller_thread_id", (json_int_t)t2));
	it_assert_field(ev, "thread_id", "I", (json_int_t)main_id);
	it_assert_field(ev, "value", "I", (json_int_t)99);
	/* both are delivered on main when it unblocks them */
	rcv = it_expect(evs, c, "{s:s, s:i, s:s}", "event", "signal.received",
			"signalnum", 12, "si_code", "SI_QUEUE");
	check_received(it_ev(evs, rcv), "SI_QUEUE", SI_QUEUE, pid, 99, main_id);
	it_assert_field(it_ev(evs, rcv), "main", "b", 1);

	/* an exited, unjoined thread: the two versions differ */
	c = it_expect(evs, c, "{s:s, s:I, s:s}", "event", "signal.pthread_kill",
		      "thread_id", (json_int_t)t3, "version", "GLIBC_2.2.5");
	ev = it_ev(evs, c);
	it_assert_field(ev, "ret", "i", ESRCH);
	check_err(ev, "ESRCH", ESRCH);
	ev = it_ev(evs, c = it_expect(evs, c, "{s:s, s:I, s:s}", "event", "signal.pthread_kill",
				      "thread_id", (json_int_t)t3, "version", "GLIBC_2.34"));
	it_assert_field(ev, "ret", "i", 0);
	check_ok(ev);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:I}", "event", "signal.pthread_sigqueue",
				  "thread_id", (json_int_t)t3));
	it_assert_field(ev, "ret", "i", ESRCH);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

IT_TEST(threads_example_events)
{
	struct it_run r = { .helper = "threads-example" };
	json_t *evs = run_logged(&r);
	json_int_t m = (json_int_t)it_id(&r, "thread", "main");
	json_int_t w1 = (json_int_t)it_id(&r, "thread", "w1");
	json_int_t w2 = (json_int_t)it_id(&r, "thread", "w2");
	json_t *ev;

	ev = it_ev(evs, it_expect(evs, 0, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 10));
	it_assert_field(ev, "thread_id", "I", m);
	it_assert_field(ev, "main", "b", 1);
	long k1 = it_expect(evs, 0, "{s:s, s:I}", "event", "signal.pthread_kill", "caller_thread_id", w1);
	ev = it_ev(evs, k1);
	it_assert_field(ev, "thread_id", "I", w2);
	it_assert_field(ev, "signalnum", "i", 10);
	it_assert_field(ev, "main", "b", 0);
	long r2 = it_expect(evs, 0, "{s:s, s:I}", "event", "signal.received", "thread_id", w2);
	it_assert_field(it_ev(evs, r2), "main", "b", 0);
	long k2 = it_expect(evs, r2, "{s:s, s:I}", "event", "signal.pthread_kill", "caller_thread_id", w2);
	it_assert_field(it_ev(evs, k2), "thread_id", "I", m);
	long rm = it_expect(evs, 0, "{s:s, s:I}", "event", "signal.received", "thread_id", m);
	it_assert_field(it_ev(evs, rm), "main", "b", 1);
	it_assert_field(it_ev(evs, rm), "tid", "i", (json_int_t)r.pid);
	it_assert_int_gt(rm, r2);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.received"), 2);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- backtraces ---------------------------------------------------------------- */

/* libunwind calls sigprocmask while it unwinds: with backtraces on, the
 * shim's own (and libunwind's) calls must still never be audited, so the
 * helper's calls and the events match one to one. */
IT_TEST(backtrace_not_reaudited)
{
	struct it_run r = { .helper = "calls-masks", .options = "backtrace=16", .shim = 1 };

	it_run(&r);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s",
		      it_status_str(r.status));
	json_t *evs = it_load_main(&r);
	it_drop_sanitizer_events(evs);
	/* The shim tells libunwind's calls apart by their return address.
	 * Under ASan, libasan's sigprocmask interceptor stands between them
	 * (its return address is libasan's), so libunwind's thread-exit
	 * destructor's two mask calls show up there: the exact match is
	 * checked in the plain build (docs/design.md). */
	if (!it_sanitizer_preloaded())
		it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.sigprocmask"),
				 count_lines(r.out, "sigprocmask("));
	else
		it_assert_int_ge(it_count(evs, "{s:s}", "event", "signal.sigprocmask"),
				 count_lines(r.out, "sigprocmask("));
	it_assert_int_gt(it_count(evs, "{s:s}", "event", "signal.sigprocmask"), 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

IT_TEST(backtrace_modules)
{
	struct it_run r = { .helper = "calls-handlers", .options = "backtrace=8", .shim = 1 };
	char helper[PATH_MAX], exe[PATH_MAX];

	it_run(&r);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s",
		      it_status_str(r.status));
	json_t *evs = it_load_main(&r);
	check_common(evs, r.pid, 1, 8);
	snprintf(helper, sizeof helper, "%s/calls-handlers", getenv("SIGSHIM_HELPERS"));
	it_assert(realpath(helper, exe) != NULL);
	it_assert_field(json_object_get(it_ev(evs, 0), "options"), "backtrace", "i", 8);

	json_t *mods = json_array();
	long calls = 0;
	for (size_t i = 0; i < json_array_size(evs); i++) {
		json_t *ev = it_ev(evs, i);
		const char *name = json_string_value(json_object_get(ev, "event"));
		if (strcmp(name, "sigshim.module") == 0) {
			it_assert(json_is_string(it_field(ev, "path")));
			it_assert(json_is_string(it_field(ev, "base")));
			json_t *bid = it_field(ev, "build_id");
			it_assert(json_is_string(bid) || json_is_null(bid));
			it_assert(it_hex(it_field(ev, "start")) < it_hex(it_field(ev, "end")));
			json_array_append(mods, ev);
			continue;
		}
		if (strcmp(name, "signal.received") == 0) {
			it_assert(json_is_string(it_field(ev, "pc")));
			continue;
		}
		if (strncmp(name, "signal.", 7) != 0 || json_is_true(json_object_get(ev, "early")))
			continue;
		json_t *bt = it_field(ev, "bt");
		for (size_t f = 0; f < json_array_size(bt); f++) {
			json_t *a = json_array_get(bt, f);
			it_assert_msg(json_is_string(a) && strncmp(json_string_value(a), "0x", 2) == 0,
				      "bt entries are \"0x…\" strings: %s", it_dump(ev));
			unsigned long long addr = it_hex(a);
			json_t *in = NULL;
			for (size_t m = 0; m < json_array_size(mods); m++) {
				json_t *mod = json_array_get(mods, m);
				if (addr >= it_hex(json_object_get(mod, "start")) &&
				    addr <= it_hex(json_object_get(mod, "end")))
					in = mod;
			}
			it_assert_msg(in != NULL, "bt[%zu] %s of event %zu is in no sigshim.module "
				      "line written before it: %s", f, json_string_value(a), i, it_dump(ev));
			/* the innermost frame is the program's call site */
			if (f == 0 && strcmp(name, "signal.sigaction") == 0) {
				it_assert_msg(strcmp(json_string_value(json_object_get(in, "path")), exe) == 0,
					      "bt[0] of sigaction should be in %s, is in %s: %s", exe,
					      json_string_value(json_object_get(in, "path")), it_dump(ev));
				calls++;
			}
		}
	}
	it_assert_int_gt(calls, 10);
	it_assert_int_gt(json_array_size(mods), 0);
	json_decref(mods);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- a library constructor that runs before (or after) the shim's ----------- */

/* Order of "calling init:" lines in LD_DEBUG=libs output. */
static void check_init_order(const char *preload, int early_first)
{
	struct it_run r = { .helper = "early-main", .preload = preload,
			    .env = { "LD_DEBUG=libs" } };

	it_run(&r);
	const char *e = strstr(r.err, "calling init: ");
	const char *early = NULL, *shim = NULL;
	for (; e; e = strstr(e + 1, "calling init: ")) {
		const char *nl = strchr(e, '\n');
		size_t len = nl ? (size_t)(nl - e) : strlen(e);
		if (!early && memmem(e, len, "libearly.so", 11))
			early = e;
		if (!shim && memmem(e, len, "libsigshim.so", 13))
			shim = e;
	}
	it_assert_msg(early && shim, "LD_DEBUG=libs shows no init of libearly/libsigshim");
	it_assert_msg((early < shim) == early_first,
		      "with LD_PRELOAD=\"%s\" libearly's constructor should run %s the shim's",
		      preload, early_first ? "before" : "after");
	it_run_free(&r);
}

static void check_early(const char *preload, int early_first)
{
	struct it_run r = { .helper = "early-main", .preload = preload };
	json_t *ev;

	check_init_order(preload, early_first);
	json_t *evs = run_logged(&r);
	it_assert_str_contains(r.out, "ctor ran: 1");
	it_assert_str_contains(r.out, "hits usr1=1 usr2=1");
	long c = it_expect(evs, 0, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 10);
	ev = it_ev(evs, c);
	check_act(&r, it_field(ev, "act"), "early_h_usr1", "SA_RESTART", "[15]");
	check_act(&r, it_field(ev, "oldact"), "SIG_DFL", "", "[]");
	it_assert_field(ev, "ret", "i", 0);
	it_assert_field(ev, "main", "b", 1);
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.signal", "signalnum", 12));
	check_handler(&r, it_field(ev, "handler"), "early_h_usr2");
	check_handler(&r, it_field(ev, "ret"), "SIG_DFL");
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:s}", "event", "signal.sigprocmask", "how", "SIG_BLOCK"));
	check_list(it_field(ev, "set"), "[13]");
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.received", "signalnum", 10));
	check_handler(&r, it_field(ev, "handler"), "early_h_usr1");
	ev = it_ev(evs, it_expect(evs, c, "{s:s, s:i}", "event", "signal.received", "signalnum", 12));
	check_handler(&r, it_field(ev, "handler"), "early_h_usr2");
	json_decref(evs);
	it_run_free(&r);
}

IT_TEST(early_ctor_linked)
{
	/* a DT_NEEDED library is initialised before a preloaded one */
	check_early("{shim}", 1);
}
IT_END

IT_TEST(early_ctor_preload_after_shim)
{
	check_early("{shim} {helpers}/libearly.so", 1);
}
IT_END

IT_TEST(early_ctor_preload_before_shim)
{
	check_early("{helpers}/libearly.so {shim}", 0);
}
IT_END

/* --- fork, exec, hostile descriptors ------------------------------------------ */

static void check_forked_child(const char *mode, int code, int from_main)
{
	struct it_run r = { .helper = "lifecycle", .args = { mode } };
	json_t *evs = run_logged(&r);
	pid_t child = (pid_t)it_id(&r, "child", NULL);
	json_int_t parent_main = (json_int_t)it_id(&r, "thread", "main");
	char want[64];

	snprintf(want, sizeof want, "child exited=1 status=%d", code);
	it_assert_str_contains(r.out, want);
	it_assert_int_eq(r.nlogs, 2);
	json_t *cev = it_load(it_log_for(&r, child));
	check_common(cev, child, 1, 0);
	json_t *st = it_ev(cev, 0);
	it_assert_field(st, "forked", "b", 1);
	it_assert_field(st, "ppid", "i", (json_int_t)r.pid);
	it_assert_field(st, "main_tid", "i", (json_int_t)child);
	if (from_main) {
		it_assert_field(st, "main_thread_id", "I", parent_main);
	} else {
		/* forked from a worker: that thread is the child's main */
		it_assert_no_field(st, "main_thread_id");
	}
	json_int_t child_main = from_main ? parent_main
					  : (json_int_t)it_id(&r, "thread", "t1");
	json_t *ev = it_ev(cev, it_expect(cev, 0, "{s:s, s:i}", "event", "signal.raise", "signalnum", 10));
	it_assert_field(ev, "thread_id", "I", child_main);
	it_assert_field(ev, "main", "b", 1);
	it_expect(cev, 0, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 12);
	it_expect(cev, 0, "{s:s, s:i}", "event", "signal.received", "signalnum", 12);
	/* the parent's log holds none of it */
	it_assert_int_eq(it_count(evs, "{s:s, s:i}", "event", "signal.sigaction", "signalnum", 12), 0);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.start"), 1);
	json_decref(cev);
	json_decref(evs);
	it_run_free(&r);
}

IT_TEST(fork_child_log)
{
	check_forked_child("fork", 3, 1);
}
IT_END

IT_TEST(fork_from_worker_log)
{
	check_forked_child("forkthread", 4, 0);
}
IT_END

IT_TEST(exec_keeps_logging)
{
	struct it_run r = { .helper = "lifecycle", .args = { "exec" }, .shim = 1 };

	it_run(&r);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s; %s",
		      it_status_str(r.status), r.err);
	it_assert_str_contains(r.out, "after exec");
	it_assert_int_eq(r.nlogs, 1);
	json_t *evs = it_load_main(&r);
	/* two images, each from seq 1; exec writes no sigshim.exit */
	check_common(evs, r.pid, 1, 0);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.start"), 2);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.exit"), 1);
	long second = it_expect(evs, 1, "{s:s}", "event", "sigshim.start");
	json_t *st = it_ev(evs, second);
	it_assert_field(st, "argv0", "s", "lifecycle-execd");
	it_assert_no_field(st, "forked");
	it_expect(evs, 0, "{s:s, s:i}", "event", "signal.raise", "signalnum", 10);
	long after = it_expect(evs, second, "{s:s, s:i}", "event", "signal.raise", "signalnum", 10);
	it_expect(evs, second, "{s:s, s:i}", "event", "signal.received", "signalnum", 10);
	it_assert_int_gt(after, second);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

IT_TEST(closed_fds_log_complete)
{
	struct it_run r = { .helper = "lifecycle", .args = { "closefds" } };
	char path[600];
	struct stat st;

	json_t *evs = run_logged(&r);        /* includes sigshim.exit last */
	it_assert_int_eq(r.nlogs, 1);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.raise"), 4);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.received"), 4);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.sigaction"), 3);
	long last = it_expect(evs, 0, "{s:s, s:n}", "event", "signal.sigaction", "act");
	it_assert_int_gt(last, it_expect(evs, 0, "{s:s, s:i}", "event", "signal.sigaction",
					 "signalnum", 12));
	snprintf(path, sizeof path, "%s/victim", r.dir);
	it_assert(stat(path, &st) == 0);
	it_assert_int_eq(st.st_size, 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* --- option errors stop the program before main --------------------------------- */

static void check_stops(const char *options, const char *const *mentions)
{
	struct it_run r = { .helper = "lifecycle", .args = { "hello" }, .shim = 1,
			    .raw_options = options };

	it_run(&r);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2,
		      "SIGSHIM_OPTIONS=\"%s\": expected exit 2 before main, got %s; stdout: %s; stderr: %s",
		      options, it_status_str(r.status), r.out, r.err);
	it_assert_msg(r.out_len == 0, "main was reached (stdout: %s)", r.out);
	it_assert_msg(r.err_len > 0 && r.err[r.err_len - 1] == '\n' &&
		      strchr(r.err, '\n') == r.err + r.err_len - 1,
		      "expected exactly one stderr line, got \"%s\"", r.err);
	for (int i = 0; mentions[i]; i++)
		it_assert_str_contains(r.err, mentions[i]);
	it_run_free(&r);
}

IT_TEST(option_unknown_key)
{
	static const char *const m[] = { "bogus_key", NULL };
	check_stops("mode=audit:bogus_key=1:log_path={dir}/log.%p.jsonl", m);
}
IT_END

IT_TEST(option_bad_mode)
{
	static const char *const m[] = { "mode", "loud", "audit", "enforce", NULL };
	check_stops("mode=loud:log_path={dir}/log.%p.jsonl", m);
}
IT_END

IT_TEST(option_bad_backtrace)
{
	static const char *const m[] = { "backtrace", "lots", NULL };
	check_stops("mode=audit:backtrace=lots:log_path={dir}/log.%p.jsonl", m);
}
IT_END

IT_TEST(log_path_unwritable)
{
	static const char *const m[] = { "/missing/x.", NULL };
	check_stops("mode=audit:log_path={dir}/missing/x.%p.jsonl", m);
}
IT_END

IT_TEST(log_path_symlink_refused)
{
	char base[] = "/tmp/sigshim-it-link-XXXXXX", link[300], victim[300], opts[400];
	struct stat st;

	it_assert(mkdtemp(base) != NULL);
	snprintf(victim, sizeof victim, "%s/victim", base);
	snprintf(link, sizeof link, "%s/log.jsonl", base);
	int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	it_assert(fd >= 0);
	close(fd);
	it_assert(symlink(victim, link) == 0);
	snprintf(opts, sizeof opts, "mode=audit:log_path=%s", link);
	const char *const m[] = { link, NULL };
	check_stops(opts, m);
	it_assert(stat(victim, &st) == 0);
	it_assert_int_eq(st.st_size, 0);
	unlink(link);
	unlink(victim);
	rmdir(base);
}
IT_END

static Suite *events_suite(void)
{
	Suite *s = suite_create("integration");
	TCase *tc = tcase_create("events");

	tcase_set_timeout(tc, 100);
	tcase_add_test(tc, start_and_exit);
	tcase_add_test(tc, sigaction_events);
	tcase_add_test(tc, signal_family_events);
	tcase_add_test(tc, mask_events);
	tcase_add_test(tc, send_events);
	tcase_add_test(tc, threads_example_events);
	tcase_add_test(tc, backtrace_modules);
	tcase_add_test(tc, backtrace_not_reaudited);
	tcase_add_test(tc, early_ctor_linked);
	tcase_add_test(tc, early_ctor_preload_after_shim);
	tcase_add_test(tc, early_ctor_preload_before_shim);
	tcase_add_test(tc, fork_child_log);
	tcase_add_test(tc, fork_from_worker_log);
	tcase_add_test(tc, exec_keeps_logging);
	tcase_add_test(tc, closed_fds_log_complete);
	tcase_add_test(tc, option_unknown_key);
	tcase_add_test(tc, option_bad_mode);
	tcase_add_test(tc, option_bad_backtrace);
	tcase_add_test(tc, log_path_unwritable);
	tcase_add_test(tc, log_path_symlink_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return it_main(events_suite());
}
