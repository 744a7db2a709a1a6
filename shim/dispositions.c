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
	atomic_ullong mask;         /* sa_mask, bits 1..64 (forwarded runs apply it) */
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

void shim_ent_read(int sig, uintptr_t *h, unsigned long *fl, unsigned long long *mask)
{
	struct uent *u = &table[sig];
	unsigned long long m;
	unsigned s;

	/* Writers hold all signals blocked and never wait, so a reader on
	 * another thread spins only for a few instructions. */
	do {
		s = atomic_load(&u->seq);
		*h = atomic_load(&u->handler);
		*fl = atomic_load(&u->flags);
		m = atomic_load(&u->mask);
	} while ((s & 1) || s != atomic_load(&u->seq));
	if (mask)
		*mask = m;
}

static void ent_write(int sig, uintptr_t h, unsigned long fl, unsigned long long mask)
{
	struct uent *u = &table[sig];

	atomic_fetch_add(&u->seq, 1);
	atomic_store(&u->handler, h);
	atomic_store(&u->flags, fl);
	atomic_store(&u->mask, mask);
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
	unsigned long long pmask;
	int r, err;

	/* Queued instances keep the handler they were received with, and the
	 * doorbell is a signal of the shim's own: a SIG_IGN or SIG_DFL goes
	 * into the kernel at once, as natively. */
	shim_ent_read(sig, &ph, &pfl, &pmask);
	if (act) {
		kact = *act;
		if (shim_is_function(act->sa_handler)) {
			kact.sa_sigaction = shim_trampoline;
			kact.sa_flags |= SA_SIGINFO;
			/* SA_RESETHAND is emulated at first receipt (the
			 * trampoline): a forwarded instance must never meet
			 * SIG_DFL on its way, and the kernel entry must never
			 * show the SA_SIGINFO we add. */
			kact.sa_flags &= ~SA_RESETHAND;
			if (shim.opt.mode == SHIM_MODE_ENFORCE)
				shim_forward_prepare(sig);
		}
		ent_write(sig, (uintptr_t)act->sa_handler, (unsigned long)(unsigned)act->sa_flags,
			  shim_mask64(&act->sa_mask));
	}
	r = REAL(sigaction)(sig, act ? &kact : NULL, oldact ? &kold : NULL);
	err = errno;
	if (r < 0 && act)
		ent_write(sig, ph, pfl, pmask);
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
	return shim.pid != 0 && getpid() != shim.pid;
}

/* The shim's reserved doorbells (mode=enforce) look like free signals to
 * the program: a runtime's start-up walks every number and aborts on an
 * unexpected error (gccgo).  An install is kept in the table as the
 * program's view and never reaches the kernel, which keeps the doorbell
 * handler; a query reads the view back.  A handler in it runs when the
 * program itself sends the signal (trampoline.c, shim_doorbell). */
static int reserved_install(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	sigset_t saved;
	uintptr_t h;
	unsigned long fl;
	unsigned long long mask;

	if (act)
		lock_sig(sig, &saved);
	shim_ent_read(sig, &h, &fl, &mask);
	if (oldact) {
		memset(oldact, 0, sizeof *oldact);
		oldact->sa_handler = (shim_handler_t)h;
		oldact->sa_flags = (int)fl;
		sigemptyset(&oldact->sa_mask);
		((unsigned long long *)(void *)&oldact->sa_mask)[0] = mask;
	}
	if (act) {
		ent_write(sig, (uintptr_t)act->sa_handler, (unsigned long)(unsigned)act->sa_flags,
			  shim_mask64(&act->sa_mask));
		unlock_sig(sig, &saved);
	}
	return 0;
}

/* Signal context: the program's handler for a reserved signal it sent
 * itself; SA_RESETHAND as the kernel would.  0 when there is none. */
uintptr_t shim_reserved_handler(int sig, unsigned long *fl, unsigned long long *mask)
{
	sigset_t saved;
	uintptr_t h;

	lock_sig(sig, &saved);
	shim_ent_read(sig, &h, fl, mask);
	if (!shim_is_function((shim_handler_t)h))
		h = 0;
	else if (*fl & SA_RESETHAND)
		ent_write(sig, (uintptr_t)SIG_DFL, *fl, *mask);
	unlock_sig(sig, &saved);
	return h;
}

int shim_install(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	sigset_t saved;
	int r, err;

	/* Invalid numbers index nothing: libc gives the error.  The
	 * doorbells are the shim's, as 32 and 33 are glibc's. */
	if (!valid_sig(sig))
		return REAL(sigaction)(sig, act, oldact);
	if (shim_doorbell_bits & shim_sigbit(sig))
		return reserved_install(sig, act, oldact);
	/* A query changes nothing and needs no lock; a vfork child's install
	 * goes to libc untranslated.  Both read back the program's view. */
	if (!act || in_vfork_child()) {
		uintptr_t h;
		unsigned long fl;

		shim_ent_read(sig, &h, &fl, NULL);
		r = REAL(sigaction)(sig, act, oldact);
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

/* sink=mmap: a file cut under the mapping raises SIGBUS in the shim's
 * copy, which the trampoline must see even when the program has no
 * handler: the trampoline goes into the kernel in front of the program's
 * SIG_DFL (it acts as the kernel would for any other SIGBUS). */
void shim_ent_guard_kernel(int sig)
{
	struct sigaction cur, k;
	sigset_t saved;
	uintptr_t h;
	unsigned long fl;

	lock_sig(sig, &saved);
	shim_ent_read(sig, &h, &fl, NULL);
	if (h == (uintptr_t)SIG_DFL && REAL(sigaction)(sig, NULL, &cur) == 0 &&
	    cur.sa_handler == SIG_DFL) {
		memset(&k, 0, sizeof k);
		k.sa_sigaction = shim_trampoline;
		k.sa_flags = SA_SIGINFO;
		sigemptyset(&k.sa_mask);
		REAL(sigaction)(sig, &k, NULL);
	}
	unlock_sig(sig, &saved);
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
	shim_ent_read(sig, &h, &fl, NULL);
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
	return valid_sig(sig) && (atomic_load(&sigintr) & shim_sigbit(sig));
}

void shim_sigintr_set(int sig, bool interrupt)
{
	if (!valid_sig(sig))
		return;
	if (interrupt)
		atomic_fetch_or(&sigintr, shim_sigbit(sig));
	else
		atomic_fetch_and(&sigintr, ~shim_sigbit(sig));
}

/* SA_RESETHAND, emulated: the first receipt that finds `h` still
 * installed resets the program's view to SIG_DFL (flags and mask kept, as
 * the kernel does) and wins the right to run `h` once; the kernel entry
 * follows at once (shim_ent_sync_kernel), as natively: a forwarded
 * instance is already queued with its handler.
 * Runs in a handler: all signals are blocked while the lock is held, and
 * the holder on another thread never waits, so the spin is short. */
bool shim_ent_claim_oneshot(int sig, uintptr_t h)
{
	sigset_t saved;
	uintptr_t now;
	unsigned long fl;
	unsigned long long mask;
	bool won = false;

	lock_sig(sig, &saved);
	shim_ent_read(sig, &now, &fl, &mask);
	if (now == h) {
		ent_write(sig, (uintptr_t)SIG_DFL, fl, mask);
		won = true;
	}
	unlock_sig(sig, &saved);
	if (won)
		shim_ent_sync_kernel(sig);
	return won;
}

/* Where the program's view holds SIG_DFL/SIG_IGN but the kernel still has
 * the trampoline (a one-shot handler was used), install the program's
 * disposition in the kernel too.  async-signal-safe. */
void shim_ent_sync_kernel(int sig)
{
	struct sigaction cur;
	sigset_t saved;
	uintptr_t h;
	unsigned long fl;

	shim_ent_read(sig, &h, &fl, NULL);
	if (shim_is_function((shim_handler_t)h))
		return;
	lock_sig(sig, &saved);
	shim_ent_read(sig, &h, &fl, NULL);
	if (!shim_is_function((shim_handler_t)h) && REAL(sigaction)(sig, NULL, &cur) == 0 &&
	    (uintptr_t)cur.sa_sigaction == (uintptr_t)shim_trampoline) {
		/* Keep what the kernel entry has (siginterrupt may have
		 * changed SA_RESTART since); only our managed bits go back to
		 * the program's. */
		cur.sa_handler = (shim_handler_t)h;
		cur.sa_flags = (int)(((unsigned long)(unsigned)cur.sa_flags & ~(unsigned long)MANAGED_FLAGS) |
				     (fl & MANAGED_FLAGS));
		REAL(sigaction)(sig, &cur, NULL);
	}
	unlock_sig(sig, &saved);
}

/* Handlers installed before our constructor knew the mode get their
 * forwarding queues now. */
void shim_dispositions_after_init(void)
{
	if (shim.opt.mode != SHIM_MODE_ENFORCE)
		return;
	for (int sig = 1; sig < SHIM_NSIG; sig++) {
		uintptr_t h;
		unsigned long fl;

		shim_ent_read(sig, &h, &fl, NULL);
		if (shim_is_function((shim_handler_t)h))
			shim_forward_prepare(sig);
	}
}

void shim_dispositions_after_fork(void)
{
	/* A fork that interrupted an installer on another thread leaves its
	 * lock taken, or its seqlock odd, in the child, where that thread does
	 * not exist.  The entry itself is whole or the old one: both halves
	 * of a write are single atomic stores. */
	for (int sig = 0; sig < SHIM_NSIG; sig++) {
		atomic_flag_clear(&table[sig].lock);
		if (atomic_load(&table[sig].seq) & 1)
			atomic_fetch_add(&table[sig].seq, 1);
	}
}
