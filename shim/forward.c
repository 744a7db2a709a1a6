/* async-signal-safe (except shim_forward_prepare, ordinary context)
 *
 * Forwarding handler execution to the main thread (mode=enforce).
 *
 * The kernel refuses to re-send most siginfo verbatim to another thread
 * (rt_tgsigqueueinfo gives EPERM for si_code >= 0 and SI_TKILL), so the
 * receiving thread keeps the original siginfo in a per-signal queue and
 * rings a doorbell: the same signal number, SI_QUEUE, from our pid, with a
 * tag in si_value, sent to the main thread only when no doorbell for that
 * signal is already pending.  The main thread's trampoline, on any delivery
 * of the signal, drains every ready item in order.  Same signal number
 * means the main thread's mask and the program's sa_mask/SA_NODEFER apply
 * as they would natively.
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
static atomic_int doorbell_pending[SHIM_NSIG];
static atomic_ullong overflows;
static atomic_int main_gone;
static pthread_key_t main_key;
static bool main_key_made;

unsigned long long shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

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

bool shim_forward_pop(int sig, struct shim_fwd_item *out)
{
	struct ring *r = &rings[sig];
	unsigned long long pos;

	if (sig < 1 || sig >= SHIM_NSIG || !atomic_load(&ring_mem[sig]))
		return false;
	pos = atomic_load(&r->head);
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
			 * writer rings the doorbell when it is done). */
			return false;
		} else {
			pos = atomic_load(&r->head);
		}
	}
}

bool shim_is_doorbell(int sig, const siginfo_t *si)
{
	(void)sig;
	return si->si_code == SI_QUEUE && si->si_pid == shim.pid &&
	       si->si_value.sival_ptr == DOORBELL_TAG;
}

static int ring_doorbell(int sig)
{
	siginfo_t info;

	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	info.si_pid = shim.pid;
	info.si_uid = getuid();
	info.si_value.sival_ptr = DOORBELL_TAG;
	return (int)syscall(SYS_rt_tgsigqueueinfo, shim.pid, shim.pid, sig, &info);
}

int shim_forward(int sig, const struct shim_fwd_item *it)
{
	int saved = errno;

	if (atomic_load(&main_gone))
		return -ESRCH;
	if (!atomic_load(&ring_mem[sig]) || !push(&rings[sig], it)) {
		atomic_fetch_add(&overflows, 1);
		return -ENOSPC;
	}
	/* Ring only when none is pending: the main thread drains everything
	 * ready on each delivery, so one doorbell per signal is enough, and
	 * the kernel's real-time queue is never filled by doorbells. */
	if (atomic_exchange(&doorbell_pending[sig], 1) == 0 && ring_doorbell(sig) < 0) {
		/* Cannot happen short of the main thread vanishing; the item
		 * stays queued and the next delivery of `sig` drains it. */
		atomic_store(&doorbell_pending[sig], 0);
	}
	errno = saved;
	return 0;
}

/* Something is still queued: make sure a doorbell will come for it. */
void shim_forward_rearm(int sig)
{
	struct ring *r = &rings[sig];
	unsigned long long pos = atomic_load(&r->head);
	unsigned long idx = pos & r->mask;
	struct cell *c = &r->cells[idx];
	int saved = errno;

	if ((long long)(atomic_load(&c->seq_rel) + idx - (pos + 1)) < 0)
		return;   /* nothing ready */
	if (atomic_exchange(&doorbell_pending[sig], 1) == 0 && ring_doorbell(sig) < 0)
		atomic_store(&doorbell_pending[sig], 0);
	errno = saved;
}

/* A doorbell may be pending, or instances are queued: the kernel entry
 * must keep the trampoline (see shim_install). */
bool shim_forward_busy(int sig)
{
	struct ring *r = &rings[sig];

	if (sig < 1 || sig >= SHIM_NSIG || !atomic_load(&ring_mem[sig]))
		return false;
	return atomic_load(&doorbell_pending[sig]) ||
	       atomic_load(&r->head) != atomic_load(&r->tail);
}

/* After a function handler went in: if a doorbell was lost meanwhile (a
 * disposition of SIG_IGN discards a pending one), ring again for what is
 * queued, and never leave the flag stuck. */
void shim_forward_reset(int sig)
{
	if (sig < 1 || sig >= SHIM_NSIG || !atomic_load(&ring_mem[sig]))
		return;
	atomic_store(&doorbell_pending[sig], 0);
	shim_forward_rearm(sig);
}

/* Cleared before draining: an item queued after this point rings again. */
void shim_forward_ack(int sig)
{
	atomic_store(&doorbell_pending[sig], 0);
}

unsigned long long shim_forward_overflows(void)
{
	return atomic_load(&overflows);
}

bool shim_main_exited(void)
{
	return atomic_load(&main_gone) != 0;
}

static void main_thread_exiting(void *unused)
{
	(void)unused;
	atomic_store(&main_gone, 1);
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

/* The child's only thread is its main thread; queued items belonged to the
 * parent's threads and must not run again here. */
void shim_forward_after_fork(void)
{
	atomic_store(&main_gone, 0);
	for (int sig = 1; sig < SHIM_NSIG; sig++) {
		struct shim_fwd_item it;

		atomic_store(&doorbell_pending[sig], 0);
		while (shim_forward_pop(sig, &it))
			;
	}
	shim_main_watch();
}
