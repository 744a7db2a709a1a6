/* async-signal-safe (except shim_forward_prepare, shim_forward_after_fork
 * and the doorbells' set-up at the end: ordinary context)
 *
 * Forwarding handler execution to the main thread (mode=enforce): the
 * per-signal queues of received instances, the doorbell that tells the main
 * thread to run them, and the main thread's mask as the shim knows it.
 *
 * The kernel refuses to re-send most siginfo verbatim to another thread
 * (rt_tgsigqueueinfo gives EPERM for si_code >= 0 and SI_TKILL), so the
 * receiving thread keeps the original siginfo in a per-signal queue and
 * rings a doorbell at the main thread.  The doorbell is one of two
 * real-time signals the shim reserves for itself (SIGRTMAX-1 for handlers
 * that interrupt system calls, SIGRTMAX for SA_RESTART ones, so that main's
 * interrupted call sees what the program's flags ask for).  The program
 * never sees them: SIGRTMAX reads two lower, installs and sends of them
 * fail, masks and wait sets are stripped of them, sigpending hides them.
 * So the kernel can neither merge a doorbell with the program's own signal,
 * nor flush it with a SIG_IGN (glibc's system() and abort() do that behind
 * the shim), nor hand it to sigwait, nor keep it across exec.
 *
 * What is queued is the truth; the doorbell is only a wake-up.  Nothing is
 * ever trusted that cannot be checked again: whenever the main thread
 * unblocks a signal, returns from a handler, or gets any doorbell, the
 * queues themselves say whether something is runnable, and a doorbell is
 * rung again if so (shim_forward_kick).  The main thread's trampoline runs
 * an instance only when main's mask at that point does not block its
 * signal, as the kernel would.
 *
 * Queues are Vyukov's bounded MPMC ring: producers (any thread, in a
 * handler) never wait; a full ring is reported to the caller, which runs
 * the handler where it is and logs why (nothing is ever dropped). */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define DOORBELL_TAG ((void *)0x5157d00be11ca11ULL)
/* Real-time signals queue every instance: a ring as large as the kernel's
 * own limit on pending signals (RLIMIT_SIGPENDING), within bounds, so a
 * storm the kernel accepts fits.  Standard signals coalesce. */
#define RING_RT_MIN 4096UL
#define RING_RT_MAX (1UL << 17)
#define RING_STD 256UL

/* Vyukov's ring stores, per cell, a sequence number equal to the cell's
 * index when free for the first lap.  We store it minus the index, so that
 * the zero pages mmap gives are already a valid empty ring: only the cells
 * a storm really uses are ever touched. */
struct cell {
	atomic_ullong seq_rel;
	struct shim_fwd_item item;
};

struct ring {
	struct cell *cells;
	unsigned long mask;
	atomic_ullong head;   /* next to dequeue */
	atomic_ullong tail;   /* next to enqueue */
};

static struct ring rings[SHIM_NSIG];
static _Atomic(struct cell *) ring_mem[SHIM_NSIG];
/* A hint, bit sig-1: the ring of sig may hold something.  Set after every
 * push; cleared only by a consumer that then looks at the ring again, so
 * a set bit may be stale but a clear bit never hides an item. */
static atomic_ullong queued;
/* One doorbell of each kind in flight at most (the kernel queues every
 * instance of a real-time signal, and each costs RLIMIT_SIGPENDING).
 * Cleared by the main thread's doorbell handler before it drains. */
static atomic_int ringing[2];
static atomic_ullong overflows;
static atomic_int main_gone;
static pthread_key_t main_key;
static bool main_key_made;

/* The main thread's mask outside handlers, as set through libc's entry
 * points (interpose-mask.c) or read by a doorbell that interrupted it.
 * Workers ring only for signals it does not block, so that a main thread
 * waiting with the signal blocked is not interrupted for nothing. */
static atomic_ullong main_mask;

int shim_doorbell_sig[2];          /* [SHIM_DB_INTR], [SHIM_DB_RESTART] */
unsigned long long shim_doorbell_bits;


/* The clock, read with the system call: a vDSO read may execute rdtsc,
 * which traps under prctl(PR_SET_TSC, PR_TSC_SIGSEGV). */
unsigned long long shim_now_ns(void)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* --- queues -------------------------------------------------------------- */

/* Allocated when a handler is first installed for `sig` (never inside a
 * handler), and kept: a handler may still be running from it. */
static unsigned long rt_ring_size(void)
{
	struct rlimit rl;
	unsigned long n = RING_RT_MIN;

	if (getrlimit(RLIMIT_SIGPENDING, &rl) == 0)
		while (n < RING_RT_MAX && (rl.rlim_cur == RLIM_INFINITY || n < rl.rlim_cur))
			n <<= 1;
	return n;
}

void shim_forward_prepare(int sig)
{
	unsigned long n;
	struct cell *c;
	int saved = errno;   /* a successful sigaction must not say ENOMEM */

	if (sig < 1 || sig >= SHIM_NSIG || atomic_load(&ring_mem[sig]))
		return;
	n = sig >= SIGRTMIN ? rt_ring_size() : RING_STD;
	c = mmap(NULL, n * sizeof *c, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	if (c == MAP_FAILED)
		return;   /* no ring: receivers run handlers where they are */
	rings[sig].cells = c;
	rings[sig].mask = n - 1;
	atomic_store(&ring_mem[sig], c);
}

static bool push(struct ring *r, const struct shim_fwd_item *it)
{
	unsigned long long pos = atomic_load(&r->tail);

	for (;;) {
		unsigned long idx = pos & r->mask;
		struct cell *c = &r->cells[idx];
		long long diff = (long long)(atomic_load(&c->seq_rel) + idx - pos);

		if (diff == 0) {
			if (atomic_compare_exchange_weak(&r->tail, &pos, pos + 1)) {
				c->item = *it;
				atomic_store(&c->seq_rel, pos + 1 - idx);
				return true;
			}
		} else if (diff < 0) {
			return false;   /* full */
		} else {
			pos = atomic_load(&r->tail);
		}
	}
}

static bool pop(struct ring *r, struct shim_fwd_item *out)
{
	unsigned long long pos = atomic_load(&r->head);

	for (;;) {
		unsigned long idx = pos & r->mask;
		struct cell *c = &r->cells[idx];
		long long diff = (long long)(atomic_load(&c->seq_rel) + idx - (pos + 1));

		if (diff == 0) {
			if (atomic_compare_exchange_weak(&r->head, &pos, pos + 1)) {
				*out = c->item;
				atomic_store(&c->seq_rel, pos + r->mask + 1 - idx);
				return true;
			}
		} else if (diff < 0) {
			/* Empty, or the next item is still being written (its
			 * writer rings when it is done). */
			return false;
		} else {
			pos = atomic_load(&r->head);
		}
	}
}

bool shim_forward_pop(int sig, struct shim_fwd_item *out)
{
	if (sig < 1 || sig >= SHIM_NSIG || !atomic_load(&ring_mem[sig]))
		return false;
	if (pop(&rings[sig], out))
		return true;
	/* Empty: drop the hint, then look again, so that a push that raced
	 * with the look is never hidden behind a clear bit. */
	atomic_fetch_and(&queued, ~shim_sigbit(sig));
	if (!pop(&rings[sig], out))
		return false;
	atomic_fetch_or(&queued, shim_sigbit(sig));
	return true;
}

/* Signals whose rings may hold instances (a hint: see `queued`). */
unsigned long long shim_forward_queued(void)
{
	return atomic_load(&queued);
}

/* --- doorbells ------------------------------------------------------------ */

static int send_doorbell(int kind)
{
	siginfo_t info;

	memset(&info, 0, sizeof info);
	info.si_signo = shim_doorbell_sig[kind];
	info.si_code = SI_QUEUE;
	info.si_pid = shim.pid;
	info.si_uid = getuid();
	info.si_value.sival_ptr = DOORBELL_TAG;
	if (syscall(SYS_rt_tgsigqueueinfo, shim.pid, shim_main_tid(), info.si_signo, &info) == 0)
		return 0;
	return -errno;
}

bool shim_is_doorbell(const siginfo_t *si)
{
	return si->si_code == SI_QUEUE && si->si_pid == shim.pid &&
	       si->si_value.sival_ptr == DOORBELL_TAG;
}

/* The doorbell handler is about to drain: a push after this rings again. */
void shim_doorbell_ack(int kind)
{
	atomic_store(&ringing[kind], 0);
}

/* Rings unless one of this kind is already on its way.  An interrupting
 * doorbell in flight serves SA_RESTART instances too (the handler drains
 * every runnable queue); the reverse would restart main's call where the
 * program asked for EINTR.  0, or -errno when it cannot be sent. */
static int ring(int kind)
{
	int r;

	if (kind == SHIM_DB_RESTART && atomic_load(&ringing[SHIM_DB_INTR]))
		return 0;
	if (atomic_exchange(&ringing[kind], 1))
		return 0;
	r = send_doorbell(kind);
	if (r < 0)
		atomic_store(&ringing[kind], 0);
	return r;
}

/* Main thread: something queued is runnable under `mask` (the mask main
 * runs with now): ring, whatever the flags say, because a doorbell
 * counted as in flight may be the very one that was just deferred. */
void shim_forward_kick(unsigned long long mask)
{
	unsigned long long runnable = atomic_load(&queued) & ~mask & ~shim_doorbell_bits;
	int saved = errno;

	if (!runnable || shim.opt.mode != SHIM_MODE_ENFORCE)
		return;
	atomic_store(&ringing[SHIM_DB_INTR], 1);
	/* Not sent (RLIMIT_SIGPENDING): no doorbell is on its way, and the
	 * flag must not say there is, or every later ring is skipped. */
	if (send_doorbell(SHIM_DB_INTR) < 0)
		atomic_store(&ringing[SHIM_DB_INTR], 0);
	errno = saved;
}

/* Main thread, the last thing a handler of the shim's does before it
 * returns: `mask` is what sigreturn will restore.  Both doorbells are held
 * blocked first (sigreturn unblocks them), so one that comes from here on
 * finds the restored mask instead of this handler's, which may block the
 * very signal it is for; then anything already queued and runnable under
 * `mask` gets its doorbell, delivered right after the return.  A jump that
 * restores a saved mask is such a return too. */
void shim_forward_settle(unsigned long long mask)
{
	int saved = errno;

	if (!shim_doorbell_bits)
		return;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &shim_doorbell_bits, NULL, sizeof shim_doorbell_bits);
	errno = saved;
	shim_forward_kick(mask);
}

/* --- the main thread's mask ------------------------------------------------ */

unsigned long long shim_main_mask(void)
{
	return atomic_load(&main_mask);
}

void shim_main_mask_set(unsigned long long mask)
{
	atomic_store(&main_mask, mask & ~shim_doorbell_bits);
}

/* --- forwarding -------------------------------------------------------------- */

/* Queues `it` and rings main, unless main blocks the signal (it rings
 * itself when it unblocks it: interpose-mask.c). */
enum shim_fwd_result shim_forward(int sig, const struct shim_fwd_item *it)
{
	enum shim_fwd_result r = SHIM_FWD_OK;
	int saved = errno;

	if (atomic_load(&main_gone))
		return SHIM_FWD_MAIN_GONE;
	if (!atomic_load(&ring_mem[sig]) || !push(&rings[sig], it))
		return SHIM_FWD_FULL;
	atomic_fetch_or(&queued, shim_sigbit(sig));
	if (!(atomic_load(&main_mask) & shim_sigbit(sig)) &&
	    ring((it->flags & SA_RESTART) ? SHIM_DB_RESTART : SHIM_DB_INTR) < 0)
		r = SHIM_FWD_QUEUED_NO_DOORBELL;
	/* Main left meanwhile (its exit ran what it saw): whatever is still
	 * queued is the caller's to run.  Both sides look after writing, so
	 * one of them sees the other (seq_cst). */
	else if (atomic_load(&main_gone))
		r = SHIM_FWD_QUEUED_MAIN_GONE;
	errno = saved;
	return r;
}

/* Instances that did not run on main: counted for sigshim.exit. */
unsigned long long shim_forward_overflows(void)
{
	return atomic_load(&overflows);
}

void shim_forward_count_lost(void)
{
	atomic_fetch_add(&overflows, 1);
}

bool shim_main_exited(void)
{
	return atomic_load(&main_gone) != 0;
}

/* pthread_exit on main: from now on handlers run where received, and what
 * is queued runs here, on the exiting main thread, before it goes. */
static void main_thread_exiting(void *unused)
{
	(void)unused;
	/* the primordial thread, after main_thread=first-installer chose
	 * another, is a worker like any */
	if (!shim_is_main_thread())
		return;
	atomic_store(&main_gone, 1);
	shim_forward_run_all_here("main-thread-exited");
}

/* A thread-specific value with a destructor on the main thread tells us
 * when it leaves by pthread_exit (exit() ends everything anyway). */
void shim_main_watch(void)
{
	if (!shim_is_main_thread())
		return;
	if (!main_key_made && pthread_key_create(&main_key, main_thread_exiting) == 0)
		main_key_made = true;
	if (main_key_made)
		pthread_setspecific(main_key, &main_key);
}

/* The child's only thread is its main thread.  Queued items belonged to
 * the parent's threads and must not run again here, and a fork taken in
 * the middle of a push leaves a cell claimed that no one will write:
 * every ring starts empty again (fresh zero pages). */
void shim_forward_after_fork(void)
{
	atomic_store(&main_gone, 0);
	atomic_store(&overflows, 0);
	atomic_store(&ringing[0], 0);
	atomic_store(&ringing[1], 0);
	atomic_store(&queued, 0);
	for (int sig = 1; sig < SHIM_NSIG; sig++) {
		struct ring *r = &rings[sig];

		if (!atomic_load(&ring_mem[sig]))
			continue;
		mmap(r->cells, (r->mask + 1) * sizeof *r->cells, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		atomic_store(&r->head, 0);
		atomic_store(&r->tail, 0);
	}
	shim_main_watch();
}

/* --- the reserved signals ---------------------------------------------------------- */

const sigset_t *shim_strip_doorbells(const sigset_t *set, sigset_t *copy)
{
	if (!set || !(shim_mask64(set) & shim_doorbell_bits))
		return set;
	*copy = *set;
	shim_hide_doorbells(copy);
	return copy;
}

void shim_hide_doorbells(sigset_t *set)
{
	if (set)
		((unsigned long long *)(void *)set)[0] &= ~shim_doorbell_bits;
}

/* mode=enforce, from our constructor (ordinary context): the two highest
 * real-time signals become the doorbells.  Their handler runs with no
 * extra mask (it sets each forwarded handler's mask itself); SA_RESTART on
 * one of them only, so that main's interrupted system call is restarted
 * exactly when the program's handler asks for it.  The interrupting one
 * is the lower number: the kernel delivers it first when both are
 * pending, before any restart is decided. */
void shim_doorbell_install(void)
{
	struct sigaction sa;

	if (shim.opt.mode != SHIM_MODE_ENFORCE)
		return;
	shim_doorbell_sig[SHIM_DB_INTR] = SHIM_NSIG - 2;
	shim_doorbell_sig[SHIM_DB_RESTART] = SHIM_NSIG - 1;
	shim_doorbell_bits = shim_sigbit(SHIM_NSIG - 2) | shim_sigbit(SHIM_NSIG - 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = shim_doorbell;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	REAL(sigaction)(shim_doorbell_sig[SHIM_DB_INTR], &sa, NULL);
	sa.sa_flags |= SA_RESTART;
	REAL(sigaction)(shim_doorbell_sig[SHIM_DB_RESTART], &sa, NULL);
	/* An inherited mask may block them (a parent that blocked "all"). */
	shim_doorbell_after_fork();
}

/* This thread is the main thread now (start-up, or the child of a fork):
 * the doorbells must reach it, and workers ring against its mask. */
void shim_doorbell_after_fork(void)
{
	sigset_t db, cur;

	if (!shim_doorbell_bits)
		return;
	sigemptyset(&db);
	sigaddset(&db, shim_doorbell_sig[SHIM_DB_INTR]);
	sigaddset(&db, shim_doorbell_sig[SHIM_DB_RESTART]);
	REAL(pthread_sigmask)(SIG_UNBLOCK, &db, &cur);
	shim_main_mask_set(shim_mask64(&cur));
}

/* main_thread=first-installer chose this thread: the doorbells must reach
 * it, workers ring against its mask, and its pthread_exit is watched. */
void shim_main_became(void)
{
	shim_doorbell_after_fork();
	shim_main_watch();
}
