/* async-signal-safe
 *
 * The trampoline: what the kernel calls in place of every function handler
 * the program installs.  It records the delivery, then
 *  - mode=audit: runs the program's handler right here, as natively;
 *  - mode=enforce: runs it here on the main thread, for a synchronous fault
 *    (it cannot be moved), or when the main thread has exited; otherwise
 *    queues the original siginfo for the main thread and rings its
 *    doorbell (forward.c).  The main thread's trampoline drains the queue.
 * errno is saved around everything the shim does; the program's handler
 * sees and leaves errno as it would natively. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "decode.h"
#include "shim.h"
#include "sink.h"

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

/* Built (and its seq taken) before the forward, written after it: the line
 * stays ahead of the main thread's signal.handled in seq order, and no
 * system call comes between receipt and the push. */
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

static void record_received(int sig, const siginfo_t *si, void *uc, uintptr_t h,
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
	audit_jw_int(&e.w, "to_tid", shim.pid);
	shim_evs_commit(&e);
}

static void record_handled(int sig, const struct shim_fwd_item *it, const char *exception)
{
	struct shim_ev_small e;

	if (!audit_sink_active())
		return;
	shim_evs_begin(&e, "signal.handled");
	thread_fields(&e.w, pthread_self(), sig);
	audit_jw_handler(&e.w, "handler", it->handler);
	audit_jw_int(&e.w, "from_tid", it->from_tid);
	audit_jw_uint(&e.w, "from_thread_id", (unsigned long long)it->from_thread);
	audit_jw_uint(&e.w, "latency_ns", shim_now_ns() - it->t_recv);
	if (exception)
		audit_jw_str(&e.w, "exception", exception);
	shim_evs_commit(&e);
}

/* A fault raised by the faulting instruction itself: the handler must run
 * on that thread (returning from it re-executes the instruction; siglongjmp
 * unwinds that thread).  The kernel's codes are > 0; a general-protection
 * fault (a non-canonical address) comes as SI_KERNEL, which no process can
 * send. */
static bool synchronous_fault(int sig, const siginfo_t *si)
{
	bool fault_sig = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
			 sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;

	return fault_sig && si->si_code > 0;
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

static void call_handler(int sig, uintptr_t h, unsigned long fl, siginfo_t *si, void *uc)
{
	int saved_busy = shim_busy;

	/* The program's handler may call interposed functions: they must be
	 * audited even if this signal interrupted the shim itself. */
	shim_busy = 0;
	shim_handler_enter();
	if (fl & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
	else
		((void (*)(int))h)(sig);
	shim_handler_leave();
	shim_busy = saved_busy;
}

/* Main thread: run every forwarded instance of `sig`, oldest first, each
 * with its original siginfo.  A doorbell that arrives while this thread is
 * already draining `sig` (SA_NODEFER lets it in) only acknowledges: the
 * running loop takes what was queued, so handlers never nest once per item
 * and stay in order.  A handler that leaves by siglongjmp abandons the
 * loop; the jump wrappers then re-arm a doorbell for what is still queued
 * (shim_drain_abandoned). */
static SHIM_TLS unsigned long long draining;

static void drain(int sig, void *uc)
{
	unsigned long long bit = 1ULL << (sig - 1);
	struct shim_fwd_item it;

	shim_forward_ack(sig);
	if (draining & bit)
		return;
	draining |= bit;
	while (shim_forward_pop(sig, &it)) {
		int e = errno;

		record_handled(sig, &it, NULL);
		errno = e;
		call_handler(sig, it.handler, it.flags, &it.info, uc);
	}
	draining &= ~bit;
	shim_ent_sync_kernel(sig);
}

void shim_drain_abandoned(void)
{
	unsigned long long bits = draining;

	draining = 0;
	for (int sig = 1; bits && sig < SHIM_NSIG; sig++)
		if (bits & (1ULL << (sig - 1))) {
			bits &= ~(1ULL << (sig - 1));
			shim_forward_rearm(sig);
		}
}

/* Forwards, or says why the handler must run here instead. */
static const char *try_forward(int sig, const siginfo_t *si, uintptr_t h, unsigned long fl)
{
	struct shim_fwd_item it;
	int r;

	it.info = *si;
	it.handler = h;
	it.flags = fl;
	it.from_tid = shim_gettid();
	it.from_thread = pthread_self();
	it.t_recv = shim_now_ns();
	r = shim_forward(sig, &it);
	if (r == 0)
		return NULL;
	return r == -ESRCH ? "main-thread-exited" : "forward-queue-full";
}

/* mode=enforce, handler run by the receiving thread itself. */
static void run_here(int sig, siginfo_t *si, void *uc, uintptr_t h, unsigned long fl,
		     const char *exception, int saved_errno)
{
	struct shim_fwd_item it;

	it.handler = h;
	it.from_tid = shim_gettid();
	it.from_thread = pthread_self();
	it.t_recv = shim_now_ns();
	record_handled(sig, &it, exception);
	errno = saved_errno;
	call_handler(sig, h, fl, si, uc);
}

static void enforce(int sig, siginfo_t *si, void *uc, uintptr_t h, unsigned long fl,
		    bool oneshot, int saved_errno)
{
	const char *exception = NULL;

	if (shim_is_main_thread()) {
		record_received(sig, si, uc, h, NULL);
		drain(sig, uc);
	} else if (synchronous_fault(sig, si)) {
		exception = "synchronous-fault";
		record_received(sig, si, uc, h, exception);
	} else if (shim_main_exited()) {
		exception = "main-thread-exited";
		record_received(sig, si, uc, h, exception);
	} else if (getpid() != shim.pid) {
		/* A child made by _Fork()/clone(), which skip our atfork
		 * handler: our state is the parent's, so forwarding would ring
		 * the parent.  Run here. */
		exception = "child-without-atfork";
		record_received(sig, si, uc, h, exception);
	} else {
		/* Queue before any system call (the log write): one lets the
		 * next instance in under SA_NODEFER, and it would overtake
		 * this one. */
		struct shim_ev_small rec;
		bool logged = build_received(&rec, sig, si, uc, h, NULL);

		exception = try_forward(sig, si, h, fl);
		if (logged)
			shim_evs_commit(&rec);
		if (!exception) {
			record_forwarded(sig);
			errno = saved_errno;
			return;
		}
		if (audit_sink_active()) {
			struct shim_ev_small e;

			shim_evs_begin(&e, "signal.not_forwarded");
			thread_fields(&e.w, pthread_self(), sig);
			audit_jw_str(&e.w, "exception", exception);
			shim_evs_commit(&e);
		}
	}
	if (oneshot)
		shim_ent_sync_kernel(sig);
	run_here(sig, si, uc, h, fl, exception, saved_errno);
}

void shim_trampoline(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	uintptr_t h;
	unsigned long fl;
	bool oneshot;

	if (shim.opt.mode == SHIM_MODE_ENFORCE && shim_is_doorbell(sig, si)) {
		drain(sig, uc);
		errno = saved_errno;
		return;
	}
	shim_ent_read(sig, &h, &fl);
	/* SA_RESETHAND is emulated in both modes (the kernel entry never has
	 * it): the first receipt resets the disposition and runs h once. */
	oneshot = shim_is_function((shim_handler_t)h) && (fl & SA_RESETHAND);
	if (oneshot && !shim_ent_claim_oneshot(sig, h)) {
		h = (uintptr_t)SIG_DFL;
		oneshot = false;
	}
	if (!shim_is_function((shim_handler_t)h)) {
		record_received(sig, si, uc, h, NULL);
		act_as_kernel(sig, h);
		errno = saved_errno;
		return;
	}
	if (shim.opt.mode == SHIM_MODE_ENFORCE) {
		enforce(sig, si, uc, h, fl, oneshot, saved_errno);
		return;
	}
	if (oneshot)
		shim_ent_sync_kernel(sig);
	record_received(sig, si, uc, h, NULL);
	errno = saved_errno;
	call_handler(sig, h, fl, si, uc);
}
