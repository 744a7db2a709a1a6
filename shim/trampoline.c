/* async-signal-safe
 *
 * The trampoline, what the kernel calls in place of every function handler
 * the program installs, and the doorbell handler, what it calls when a
 * worker has queued an instance for the main thread.
 *  - mode=audit: the trampoline records the delivery and runs the
 *    program's handler right there, as natively.
 *  - mode=enforce: it runs the handler there on the main thread, and on
 *    any thread for the exceptions to the model (a synchronous fault, a
 *    self-raised SIGABRT, a run_where_received signal, a main thread that
 *    has exited, a child that skipped our atfork handler); otherwise it
 *    queues the original siginfo for the main thread (forward.c), whose
 *    doorbell handler runs it under main's mask ∪ sa_mask ∪ {sig}.
 *
 * Handlers may run on small alternate stacks: everything between the
 * kernel's frame and the program's handler is kept to a few small frames.
 * Event lines are built in functions of their own (noinline) that have
 * returned before the program's handler is called; the stack-usage test
 * (tests/unit/stack-usage.sh) holds the bound.  Nothing here may fault or
 * be seen by the program: no vDSO clock read (rdtsc traps under
 * PR_SET_TSC), no cancellation point, errno saved around all of it. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "decode.h"
#include "shim.h"
#include "sink.h"

#define NOINLINE __attribute__((noinline))


/* --- event lines (each in its own frame) ------------------------------------ */

static void si_code_field(struct jw *w, int sig, int code)
{
	const char *name = audit_si_code_name(sig, code);
	char num[24];

	if (!name) {
		num[audit_fmt_i64(num, code)] = '\0';
		name = num;
	}
	audit_jw_str(w, "si_code", name);
	audit_jw_int(w, "si_code_num", code);
}

static void siginfo_fields(struct jw *w, int sig, const siginfo_t *si)
{
	unsigned fields = audit_si_fields(sig, si->si_code);

	si_code_field(w, sig, si->si_code);
	if (fields & AUDIT_SI_SENDER) {
		audit_jw_int(w, "si_pid", si->si_pid);
		audit_jw_int(w, "si_uid", si->si_uid);
	}
	if (fields & AUDIT_SI_VALUE)
		audit_jw_int(w, "si_value", (long long)(intptr_t)si->si_value.sival_ptr);
	if (fields & AUDIT_SI_STATUS)
		audit_jw_int(w, "si_status", si->si_status);
	if (fields & AUDIT_SI_ADDR)
		audit_jw_hex(w, "si_addr", (uintptr_t)si->si_addr);
}

static void thread_fields(struct jw *w, pthread_t t, int sig)
{
	audit_jw_uint(w, "thread_id", (unsigned long long)t);
	audit_jw_signal(w, sig);
	audit_jw_bool(w, "main", shim_is_main_thread());
}

static bool build_received(struct shim_ev_small *e, int sig, const siginfo_t *si, void *uc,
			   uintptr_t h, const char *exception)
{
	if (!audit_sink_active())
		return false;
	shim_evs_begin(e, "signal.received");
	thread_fields(&e->w, pthread_self(), sig);
	siginfo_fields(&e->w, sig, si);
	audit_jw_handler(&e->w, "handler", h);
	if (exception)
		audit_jw_str(&e->w, "exception", exception);
	if (shim.opt.backtrace && uc)
		audit_jw_hex(&e->w, "pc", (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
	return true;
}

static NOINLINE void record_received(int sig, const siginfo_t *si, void *uc, uintptr_t h,
				     const char *exception)
{
	struct shim_ev_small e;

	if (build_received(&e, sig, si, uc, h, exception))
		shim_evs_commit(&e);
}

static void record_forwarded(int sig)
{
	struct shim_ev_small e;

	if (!audit_sink_active())
		return;
	shim_evs_begin(&e, "signal.forwarded");
	audit_jw_uint(&e.w, "thread_id", (unsigned long long)shim.main_thread);
	audit_jw_signal(&e.w, sig);
	audit_jw_bool(&e.w, "main", false);
	audit_jw_uint(&e.w, "from_thread_id", (unsigned long long)pthread_self());
	audit_jw_int(&e.w, "from_tid", shim_gettid());
	audit_jw_int(&e.w, "to_tid", shim_main_tid());
	shim_evs_commit(&e);
}

/* `it` NULL: the handler runs where it was received, now. */
static NOINLINE void record_handled(int sig, uintptr_t h, const struct shim_fwd_item *it,
				    const char *exception)
{
	struct shim_ev_small e;

	if (!audit_sink_active())
		return;
	shim_evs_begin(&e, "signal.handled");
	thread_fields(&e.w, pthread_self(), sig);
	audit_jw_handler(&e.w, "handler", h);
	audit_jw_int(&e.w, "from_tid", it ? it->from_tid : shim_gettid());
	audit_jw_uint(&e.w, "from_thread_id",
		      (unsigned long long)(it ? it->from_thread : pthread_self()));
	audit_jw_uint(&e.w, "latency_ns", it ? shim_now_ns() - it->t_recv : 0);
	if (exception)
		audit_jw_str(&e.w, "exception", exception);
	shim_evs_commit(&e);
}

static NOINLINE void record_not_forwarded(int sig, const char *exception)
{
	struct shim_ev_small e;

	if (!audit_sink_active())
		return;
	shim_evs_begin(&e, "signal.not_forwarded");
	thread_fields(&e.w, pthread_self(), sig);
	audit_jw_str(&e.w, "exception", exception);
	shim_evs_commit(&e);
}

/* --- running the program's handler ------------------------------------------------ */

/* Bit sig-1: this thread is running the queue of sig (drain, below). */
static SHIM_TLS unsigned long long draining;
static SHIM_TLS unsigned long handler_runs;

unsigned long shim_handler_runs(void)
{
	return handler_runs;
}

/* The forwarded instance this thread (main) is running, for the wait
 * diagnosis below: 0 outside drain()'s handlers. */
static SHIM_TLS int fwd_running_sig;
static SHIM_TLS pid_t fwd_running_from;
static SHIM_TLS uintptr_t fwd_running_handler;
static atomic_ullong fwd_wait_warned;

#define put audit_stderr

/* A forwarded handler that waits on main for another signal is a
 * per-thread protocol (a collector's suspend handler sigsuspends until
 * its restart signal): on main it deadlocks whenever main is the one to
 * send that signal.  Said once per signal, on stderr and in the log, with
 * the option that runs it where received.  Signal context. */
void shim_forwarded_wait_check(const char *wait)
{
	int sig = fwd_running_sig;
	char sb[16], num[24], list[512];
	size_t o = 0;
	struct shim_ev_small e;

	if (!sig || (atomic_fetch_or(&fwd_wait_warned, shim_sigbit(sig)) & shim_sigbit(sig)))
		return;
	list[0] = '\0';
	for (int s2 = 1; s2 < SHIM_NSIG; s2++)
		if (s2 == sig || (shim.opt.run_where_received & shim_sigbit(s2))) {
			const char *n = audit_signame(s2, sb);

			if (o + strlen(n) + 2 >= sizeof list)
				break;
			if (o)
				list[o++] = ',';
			strcpy(list + o, n);
			o += strlen(n);
		}
	if (shim.opt.report == SHIM_REPORT_STDERR) {
		put("sigshim: warning: the handler of ");
		put(audit_signame(sig, sb));
		if (*shim_installer_of(sig)) {
			put(" (installed by ");
			put(shim_installer_of(sig));
			put(")");
		}
		put(", received by thread tid=");
		num[audit_fmt_i64(num, fwd_running_from)] = '\0';
		put(num);
		put(" and run on the main thread, waits in ");
		put(wait);
		put(": a per-thread protocol deadlocks there if main is to wake it; "
		    "to run it where received: SIGSHIM_OPTIONS=run_where_received=");
		put(list);
		put(" (with the signal that wakes it)\n");
	}
	if (!audit_sink_active())
		return;
	shim_evs_begin(&e, "sigshim.warning");
	thread_fields(&e.w, pthread_self(), sig);
	audit_jw_str(&e.w, "finding", "forwarded-handler-waits");
	audit_jw_str(&e.w, "wait", wait);
	audit_jw_handler(&e.w, "handler", fwd_running_handler);
	audit_jw_int(&e.w, "from_tid", fwd_running_from);
	audit_jw_str(&e.w, "module", shim_installer_of(sig));
	audit_jw_str(&e.w, "suggest", list);
	audit_jw_str(&e.w, "policy", "report");
	shim_evs_commit(&e);
}

static void call_handler(int sig, uintptr_t h, unsigned long fl, siginfo_t *si, void *uc)
{
	int saved_busy = shim_busy;

	/* The program's handler may call interposed functions: they must be
	 * audited even if this signal interrupted the shim itself. */
	shim_busy = 0;
	handler_runs++;
	shim_handler_enter();
	if (fl & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
	else
		((void (*)(int))h)(sig);
	shim_handler_leave();
	shim_busy = saved_busy;
}

/* --- where a handler runs (mode=enforce) ------------------------------------------- */

/* A fault raised by the faulting instruction itself: the handler must run
 * on that thread (returning from it re-executes the instruction; siglongjmp
 * unwinds that thread).  The kernel's codes are > 0; a general-protection
 * fault (a non-canonical address) comes as SI_KERNEL, which no process can
 * send. */
static bool synchronous_fault(int sig, const siginfo_t *si)
{
	return audit_sig_is_fault(sig) && si->si_code > 0;
}

/* abort() and a failed assert() raise SIGABRT at the calling thread
 * (tgkill: SI_TKILL from our own pid), and glibc resets SIG_DFL and raises
 * again as soon as the handler returns: a crash handler must run there and
 * then, like a fault's. */
static bool self_abort(int sig, const siginfo_t *si)
{
	return sig == SIGABRT && si->si_code == SI_TKILL && si->si_pid == shim.pid;
}

/* NULL: forward to main.  "": run here, on main, as the model says.
 * Otherwise run here, and this is the exception to log. */
static const char *placement(int sig, const siginfo_t *si)
{
	/* A child made by vfork(), _Fork() or clone() skips our atfork
	 * handler: the state is the parent's (a vfork child even shares it,
	 * and its thread-local tid says "main"), so forwarding would take
	 * the parent's queue or ring the parent. */
	if (syscall(SYS_getpid) != shim.pid)
		return "child-without-atfork";
	if (synchronous_fault(sig, si))
		return "synchronous-fault";
	if (self_abort(sig, si))
		return "self-abort";
	if (shim.opt.run_where_received & shim_sigbit(sig))
		return "run-where-received";
	if (shim_runtime_placed(sig))
		return "runtime";
	if (shim_is_main_thread())
		return "";
	if (shim_main_exited())
		return "main-thread-exited";
	return NULL;
}

enum fwd_result { FWD_DONE, FWD_RUN_THIS, FWD_RUN_QUEUE };

/* Queues the instance for main.  The received line is built (its seq
 * taken) before the push and written after it, so it stays ahead of main's
 * signal.handled in seq order while no system call comes between receipt
 * and push (one would let the next instance in under SA_NODEFER, and it
 * would overtake this one). */
static NOINLINE enum fwd_result forward(int sig, siginfo_t *si, void *uc, uintptr_t h,
					unsigned long fl, unsigned long long mask,
					const char **why)
{
	struct shim_ev_small rec;
	struct shim_fwd_item it;
	bool logged = build_received(&rec, sig, si, uc, h, NULL);
	enum shim_fwd_result r;

	it.info = *si;
	it.handler = h;
	it.flags = fl;
	it.mask = mask;
	it.from_tid = shim_gettid();
	it.from_thread = pthread_self();
	it.t_recv = logged ? shim_now_ns() : 0;
	r = shim_forward(sig, &it);
	if (logged)
		shim_evs_commit(&rec);
	switch (r) {
	case SHIM_FWD_OK:
		record_forwarded(sig);
		return FWD_DONE;
	case SHIM_FWD_FULL:
	case SHIM_FWD_MAIN_GONE:
		*why = r == SHIM_FWD_FULL ? "forward-queue-full" : "main-thread-exited";
		record_not_forwarded(sig, *why);
		shim_forward_count_lost();
		return FWD_RUN_THIS;
	case SHIM_FWD_QUEUED_MAIN_GONE:
	case SHIM_FWD_QUEUED_NO_DOORBELL:
		break;
	}
	/* Queued, but main cannot be told (RLIMIT_SIGPENDING) or has just
	 * left: what is queued for sig runs here. */
	*why = r == SHIM_FWD_QUEUED_MAIN_GONE ? "main-thread-exited" : "doorbell-failed";
	return FWD_RUN_QUEUE;
}

/* Pops every instance of `sig` and runs it on this thread, each logged as
 * not forwarded (why) and counted. */
static void run_queue_here(int sig, const char *why, void *uc)
{
	struct shim_fwd_item it;

	while (shim_forward_pop(sig, &it)) {
		int e = errno;

		record_not_forwarded(sig, why);
		record_handled(sig, it.handler, &it, why);
		shim_forward_count_lost();
		errno = e;
		call_handler(sig, it.handler, it.flags, &it.info, uc);
	}
}

void shim_forward_run_all_here(const char *why)
{
	for (int sig = 1; sig < SHIM_NSIG; sig++)
		if (shim_forward_queued() & shim_sigbit(sig))
			run_queue_here(sig, why, NULL);
}

/* exec: nothing of this image survives, so what is still queued is
 * recorded as lost, not silently dropped. */
void shim_forward_drop_all(const char *why)
{
	struct shim_fwd_item it;

	for (int sig = 1; sig < SHIM_NSIG; sig++)
		while ((shim_forward_queued() & shim_sigbit(sig)) && shim_forward_pop(sig, &it)) {
			record_not_forwarded(sig, why);
			shim_forward_count_lost();
		}
}

/* The kernel chose the trampoline, but the program has meanwhile set
 * SIG_DFL/SIG_IGN (or a one-shot handler was already used): do what the
 * kernel would have done. */
static void act_as_kernel(int sig, uintptr_t h)
{
	shim_ent_sync_kernel(sig);
	if (h == (uintptr_t)SIG_IGN)
		return;
	/* Blocked while we run (or not, with SA_NODEFER): acts on return. */
	REAL(tgkill)(shim.pid, shim_gettid(), sig);
}

static unsigned long long uc_mask(const void *uc)
{
	return shim_mask64(&((const ucontext_t *)uc)->uc_sigmask);
}

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	uintptr_t h;
	unsigned long fl;
	unsigned long long mask;
	const char *where = NULL;

	shim_ent_read(sig, &h, &fl, &mask);
	/* SA_RESETHAND is emulated in both modes (the kernel entry never has
	 * it): the first receipt resets the disposition and runs h once. */
	if (shim_is_function((shim_handler_t)h) && (fl & SA_RESETHAND) &&
	    !shim_ent_claim_oneshot(sig, h))
		h = (uintptr_t)SIG_DFL;
	if (!shim_is_function((shim_handler_t)h)) {
		record_received(sig, si, uc, h, NULL);
		act_as_kernel(sig, h);
		errno = saved_errno;
		return;
	}
	if (shim.opt.mode == SHIM_MODE_ENFORCE) {
		where = placement(sig, si);
		if (!where) {
			switch (forward(sig, si, uc, h, fl, mask, &where)) {
			case FWD_DONE:
				errno = saved_errno;
				return;
			case FWD_RUN_QUEUE:
				errno = saved_errno;
				run_queue_here(sig, where, uc);
				return;
			case FWD_RUN_THIS:
				break;
			}
		} else {
			record_received(sig, si, uc, h, *where ? where : NULL);
		}
		record_handled(sig, h, NULL, *where ? where : NULL);
	} else {
		record_received(sig, si, uc, h, NULL);
	}
	errno = saved_errno;
	{
		int prev = fwd_running_sig;

		fwd_running_sig = 0;
		call_handler(sig, h, fl, si, uc);
		fwd_running_sig = prev;
	}
	/* Main's mask is about to be what it was before this delivery: what
	 * a doorbell deferred meanwhile may run then. */
	if (where && (*where == '\0' || (shim_is_main_thread() &&
					  strcmp(where, "child-without-atfork") != 0)))
		shim_forward_settle(uc_mask(uc) | draining);
}

/* From here on this thread is in signal context: a doorbell that nests
 * in the shim's own code must not take the mask it finds for main's. */
void shim_trampoline(int sig, siginfo_t *si, void *uc)
{
	/* sink=mmap: a copy into the log's mapping faulted because someone
	 * cut the file.  Not the program's fault: back into the copy, under
	 * the mask it ran with (the sink is dead from now on). */
	if (sig == SIGBUS && si) {
		sigjmp_buf *env = audit_sinkmap_fault(si->si_addr);

		if (env) {
			unsigned long long m = uc_mask(uc);

			syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, sizeof m);
			siglongjmp(*env, 1);
		}
	}
	shim_handler_enter();
	trampoline(sig, si, uc);
	shim_handler_leave();
}

/* --- the doorbell: main runs what workers queued --------------------------------- */

/* Bit sig-1: this thread is running the queue of sig.  A doorbell that
 * arrives meanwhile (from inside one of its handlers) leaves that queue to
 * the running loop, so handlers never nest once per item and stay in
 * order.  A handler that leaves by a jump abandons the loop; the jump
 * wrappers then ring again (shim_drain_abandoned). */

static void drain(int sig, unsigned long long base, void *uc, int saved_errno)
{
	struct shim_fwd_item it;
	int prev_sig;
	pid_t prev_from;
	uintptr_t prev_h;

	if (draining & shim_sigbit(sig))
		return;
	draining |= shim_sigbit(sig);
	while (shim_forward_pop(sig, &it)) {
		unsigned long long m = base | it.mask;

		if (!(it.flags & SA_NODEFER))
			m |= shim_sigbit(sig);
		m &= ~shim_doorbell_bits;
		record_handled(sig, it.handler, &it, NULL);
		/* The mask the kernel would have given the handler on main. */
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, sizeof m);
		prev_sig = fwd_running_sig;
		prev_from = fwd_running_from;
		prev_h = fwd_running_handler;
		fwd_running_sig = sig;
		fwd_running_from = it.from_tid;
		fwd_running_handler = it.handler;
		errno = saved_errno;
		call_handler(sig, it.handler, it.flags, &it.info, uc);
		fwd_running_sig = prev_sig;
		fwd_running_from = prev_from;
		fwd_running_handler = prev_h;
	}
	draining &= ~shim_sigbit(sig);
}

static NOINLINE void record_foreign(int dsig, const siginfo_t *si, void *uc, uintptr_t h)
{
	record_received(dsig, si, uc, h ? h : (uintptr_t)SIG_IGN, "reserved-signal");
}

void shim_doorbell(int dsig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	unsigned long long base = uc_mask(uc), runnable;

	if (!shim_is_doorbell(si)) {
		/* The program sent one of the shim's reserved signals itself:
		 * its own handler runs here, where received, under the mask it
		 * asked for (the doorbells stay open). */
		unsigned long fl;
		unsigned long long m;
		uintptr_t h = shim_reserved_handler(dsig, &fl, &m);

		record_foreign(dsig, si, uc, h);
		if (h) {
			m |= base;
			if (!(fl & SA_NODEFER))
				m |= shim_sigbit(dsig);
			m &= ~shim_doorbell_bits;
			syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, sizeof m);
			errno = saved_errno;
			call_handler(dsig, h, fl, si, uc);
		}
		errno = saved_errno;
		return;
	}
	shim_doorbell_ack(dsig == shim_doorbell_sig[SHIM_DB_INTR] ? SHIM_DB_INTR : SHIM_DB_RESTART);
	/* `base` is not taken for main's mask outside handlers, even at
	 * depth 0: when two signals are pending at once the kernel builds
	 * both frames before returning to user space, so this doorbell may
	 * have interrupted another handler at its first instruction, under
	 * that handler's mask.  The shadow only follows libc's entry points
	 * (see shim_main_mask_set). */
	shim_handler_enter();
	runnable = shim_forward_queued() & ~base;
	for (int sig = 1; runnable && sig < SHIM_NSIG; sig++)
		if (runnable & shim_sigbit(sig)) {
			runnable &= ~shim_sigbit(sig);
			drain(sig, base, uc, saved_errno);
		}
	shim_handler_leave();
	/* What nested doorbells deferred meanwhile (blocked by a forwarded
	 * handler's mask) runs after the return, under base.  A queue this
	 * thread is still draining (we are inside one of its handlers) is
	 * the running loop's: ringing for it would only come back here. */
	shim_forward_settle(base | draining);
	errno = saved_errno;
}

void shim_drain_abandoned(const sigset_t *restored)
{
	bool was_draining = draining != 0;

	draining = 0;
	fwd_running_sig = 0;
	/* A jump that lands outside every handler on main, restoring a saved
	 * mask: that is main's mask from then on, and what it unblocks may
	 * have been queued without a doorbell.  The doorbells are held until
	 * the jump has set it (settle). */
	if (restored && shim_doorbell_bits && !shim_in_handler() && shim_is_main_thread() &&
	    syscall(SYS_getpid) == shim.pid) {
		unsigned long long m = shim_mask64(restored);

		shim_main_mask_set(m);
		shim_forward_settle(m);
		return;
	}
	if (!was_draining)
		return;
	/* The mask after the jump is unknown here: ring for anything queued;
	 * the doorbell defers what is still blocked then.  When the jump
	 * restores a saved mask, hold the doorbells until it has. */
	if (restored)
		shim_forward_settle(0);
	else
		shim_forward_kick(0);
}
