/* Two tables, never confused: the program's view of each signal (what it
 * asked for, what it reads back) and the kernel's (our trampoline in place
 * of every function handler).  A query reads the kernel and puts the
 * program's handler and flags back wherever the kernel holds the trampoline,
 * so every other field (mask, SA_RESTORER, restorer) is the real one.
 *
 * The trampoline is async-signal-safe; installation runs with all signals
 * blocked on the calling thread, so a handler on that thread can never meet
 * the per-signal lock held. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "shim.h"
#include "sink.h"

/* Flags the kernel entry may differ in from what the program asked for:
 * the program's values are kept here and reported back. */
#define MANAGED_FLAGS (SA_SIGINFO | SA_RESETHAND)

struct uent {
	atomic_uint seq;            /* seqlock: odd while being written */
	atomic_uintptr_t handler;
	atomic_ulong flags;
	atomic_flag lock;           /* serialises installers */
};

static struct uent table[SHIM_NSIG];

bool shim_is_function(shim_handler_t h)
{
	return h != SIG_DFL && h != SIG_IGN && h != SIG_ERR && h != SIG_HOLD;
}

static bool valid_sig(int sig)
{
	return sig >= 1 && sig < SHIM_NSIG;
}

static void ent_read(int sig, uintptr_t *h, unsigned long *fl)
{
	struct uent *u = &table[sig];
	unsigned s;

	/* Writers hold all signals blocked and never wait, so a reader on
	 * another thread spins only for a few instructions. */
	do {
		s = atomic_load(&u->seq);
		*h = atomic_load(&u->handler);
		*fl = atomic_load(&u->flags);
	} while ((s & 1) || s != atomic_load(&u->seq));
}

static void ent_write(int sig, uintptr_t h, unsigned long fl)
{
	struct uent *u = &table[sig];

	atomic_fetch_add(&u->seq, 1);
	atomic_store(&u->handler, h);
	atomic_store(&u->flags, fl);
	atomic_fetch_add(&u->seq, 1);
}

static void lock_sig(int sig, sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	REAL(pthread_sigmask)(SIG_SETMASK, &all, saved);
	while (atomic_flag_test_and_set(&table[sig].lock))
		sched_yield();
}

static void unlock_sig(int sig, const sigset_t *saved)
{
	atomic_flag_clear(&table[sig].lock);
	REAL(pthread_sigmask)(SIG_SETMASK, saved, NULL);
}

/* What the program reads back: the kernel's entry, with the program's own
 * handler and managed flags wherever the trampoline stands in. */
static void to_user_view(struct sigaction *k, uintptr_t h, unsigned long fl)
{
	if ((uintptr_t)k->sa_sigaction != (uintptr_t)shim_trampoline)
		return;
	k->sa_handler = (shim_handler_t)h;
	k->sa_flags = (int)(((unsigned long)(unsigned)k->sa_flags & ~(unsigned long)MANAGED_FLAGS) |
			    (fl & MANAGED_FLAGS));
}

static int install_locked(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	struct sigaction kact, kold;
	uintptr_t ph;
	unsigned long pfl;
	int r, err;

	ent_read(sig, &ph, &pfl);
	if (act) {
		kact = *act;
		if (shim_is_function(act->sa_handler)) {
			kact.sa_sigaction = shim_trampoline;
			kact.sa_flags |= SA_SIGINFO;
		}
		ent_write(sig, (uintptr_t)act->sa_handler, (unsigned long)(unsigned)act->sa_flags);
	}
	r = REAL(sigaction)(sig, act ? &kact : NULL, oldact ? &kold : NULL);
	err = errno;
	if (r < 0 && act)
		ent_write(sig, ph, pfl);
	if (r == 0 && oldact) {
		to_user_view(&kold, ph, pfl);
		*oldact = kold;
	}
	errno = err;
	return r;
}

/* A child of vfork() (Python's subprocess, posix_spawn users) shares our
 * memory but has its own kernel dispositions: it must not touch the table,
 * or the parent would read the child's handlers.  It is about to exec, so
 * it gets libc's behaviour, untranslated where it installs.  (A child of
 * fork() has run our atfork handler and has shim.pid == getpid().) */
static bool in_vfork_child(void)
{
	return getpid() != shim.pid;
}

int shim_install(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	sigset_t saved;
	int r, err;

	/* Invalid numbers index nothing: libc gives the error. */
	if (!valid_sig(sig))
		return REAL(sigaction)(sig, act, oldact);
	if (act && in_vfork_child()) {
		uintptr_t h;
		unsigned long fl;

		ent_read(sig, &h, &fl);
		r = REAL(sigaction)(sig, act, oldact);
		if (r == 0 && oldact)
			to_user_view(oldact, h, fl);
		return r;
	}
	if (!act) {
		/* A query changes nothing; no lock needed. */
		uintptr_t h;
		unsigned long fl;

		ent_read(sig, &h, &fl);
		r = REAL(sigaction)(sig, NULL, oldact);
		if (r == 0 && oldact)
			to_user_view(oldact, h, fl);
		return r;
	}
	lock_sig(sig, &saved);
	r = install_locked(sig, act, oldact);
	err = errno;
	unlock_sig(sig, &saved);
	errno = err;
	return r;
}

/* The handler the program sees for `sig` right now, or what a function
 * returning the previous handler must give back instead of the
 * trampoline. */
shim_handler_t shim_user_handler(shim_handler_t kernel_h, int sig)
{
	uintptr_t h;
	unsigned long fl;

	if ((uintptr_t)kernel_h != (uintptr_t)shim_trampoline || !valid_sig(sig))
		return kernel_h;
	ent_read(sig, &h, &fl);
	return (shim_handler_t)h;
}

shim_handler_t shim_trampoline_as_handler(void)
{
	union { void (*sa)(int, siginfo_t *, void *); shim_handler_t h; } u = { shim_trampoline };

	return u.h;
}

/* siginterrupt()'s set.  glibc's own (_sigintr) is hidden, and signal()
 * consults it for SA_RESTART, so the shim keeps a mirror that its
 * siginterrupt wrapper maintains. */
static atomic_ullong sigintr;

bool shim_sigintr_has(int sig)
{
	return valid_sig(sig) && (atomic_load(&sigintr) & (1ULL << (sig - 1)));
}

void shim_sigintr_set(int sig, bool interrupt)
{
	if (!valid_sig(sig))
		return;
	if (interrupt)
		atomic_fetch_or(&sigintr, 1ULL << (sig - 1));
	else
		atomic_fetch_and(&sigintr, ~(1ULL << (sig - 1)));
}

static void record_received(int sig, siginfo_t *si, void *uc, uintptr_t h)
{
	struct shim_ev_small e;
	unsigned fields = audit_si_fields(sig, si->si_code);
	const char *code = audit_si_code_name(sig, si->si_code);

	shim_evs_begin(&e, "signal.received");
	audit_jw_uint(&e.w, "thread_id", (unsigned long long)pthread_self());
	audit_jw_signal(&e.w, sig);
	audit_jw_bool(&e.w, "main", shim_is_main_thread());
	if (code) {
		audit_jw_str(&e.w, "si_code", code);
	} else {
		char num[24];

		num[audit_fmt_i64(num, si->si_code)] = '\0';
		audit_jw_str(&e.w, "si_code", num);
	}
	audit_jw_int(&e.w, "si_code_num", si->si_code);
	if (fields & AUDIT_SI_SENDER) {
		audit_jw_int(&e.w, "si_pid", si->si_pid);
		audit_jw_int(&e.w, "si_uid", si->si_uid);
	}
	if (fields & AUDIT_SI_VALUE)
		audit_jw_int(&e.w, "si_value", (long long)(intptr_t)si->si_value.sival_ptr);
	if (fields & AUDIT_SI_STATUS)
		audit_jw_int(&e.w, "si_status", si->si_status);
	if (fields & AUDIT_SI_ADDR)
		audit_jw_hex(&e.w, "si_addr", (uintptr_t)si->si_addr);
	audit_jw_handler(&e.w, "handler", h);
	if (shim.opt.backtrace && uc)
		audit_jw_hex(&e.w, "pc", (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
	shim_evs_commit(&e);
}

/* The program changed the disposition to SIG_DFL/SIG_IGN after the kernel
 * had already chosen the trampoline: do what the kernel would have done. */
static void act_as_kernel(int sig, uintptr_t h)
{
	struct sigaction dfl;

	if (h == (uintptr_t)SIG_IGN)
		return;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(sig, &dfl, NULL);
	/* Blocked while we run (no SA_NODEFER here): acts on return. */
	REAL(tgkill)(shim.pid, shim_gettid(), sig);
}

void shim_trampoline(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno, saved_busy = shim_busy;
	uintptr_t h;
	unsigned long fl;

	ent_read(sig, &h, &fl);
	if (audit_sink_active())
		record_received(sig, si, uc, h);
	if (!shim_is_function((shim_handler_t)h)) {
		act_as_kernel(sig, h);
		errno = saved_errno;
		return;
	}
	/* The program's handler may call interposed functions: they must be
	 * audited even if this signal interrupted the shim itself. */
	shim_busy = 0;
	shim_handler_enter();
	errno = saved_errno;
	if (fl & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
	else
		((void (*)(int))h)(sig);
	shim_handler_leave();
	shim_busy = saved_busy;
}

void shim_dispositions_after_fork(void)
{
	/* A fork that interrupted an installer on another thread leaves its
	 * lock taken in the child, where that thread does not exist. */
	for (int sig = 0; sig < SHIM_NSIG; sig++)
		atomic_flag_clear(&table[sig].lock);
}
