/* Waiting for signals: sigsuspend and the sigpause family, the waits
 * with a temporary mask (pselect, ppoll, epoll_pwait, epoll_pwait2),
 * sigwait, sigwaitinfo, sigtimedwait.
 *
 * mode=enforce only; in mode=audit every call goes straight to libc.
 *  - Wait sets and temporary masks are stripped of the shim's doorbells:
 *    a wait never returns one, and a temporary mask never holds one back.
 *  - A temporary mask on the main thread is the mask workers must ring
 *    against while the wait lasts; if it unblocks a signal with instances
 *    already queued, the doorbell is rung (held blocked until the wait has
 *    installed the temporary mask), so the wait returns after running them
 *    as it would for a pending signal natively.
 *  - A doorbell that interrupts sigwaitinfo/sigtimedwait without running
 *    any handler (what it had queued is blocked on main) is not the
 *    program's business: the wait goes on to the caller's deadline.
 * Not logged: these calls change no disposition and no mask for good. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

int __sigpause(int sig_or_mask, int is_sig);

static bool enforcing(void)
{
	return shim_ready() && shim_doorbell_bits && !shim_busy;
}

/* --- temporary masks ----------------------------------------------------------- */

struct suspend_guard {
	bool held;                    /* the doorbell is held blocked: restore `old` */
	bool main_outside_handler;    /* main's mask for workers is `temp` meanwhile */
	unsigned long long saved_main;
	sigset_t old;
};

static void suspend_begin(unsigned long long temp, struct suspend_guard *g)
{
	sigset_t db;

	g->held = false;
	g->main_outside_handler = false;
	if (!shim_is_main_thread() || syscall(SYS_getpid) != shim.pid)
		return;
	if (!shim_in_handler()) {
		g->main_outside_handler = true;
		g->saved_main = shim_main_mask();
		shim_main_mask_set(temp);
	}
	if (!(shim_forward_queued() & ~temp & ~shim_doorbell_bits))
		return;
	sigemptyset(&db);
	sigaddset(&db, shim_doorbell_sig[SHIM_DB_INTR]);
	REAL(pthread_sigmask)(SIG_BLOCK, &db, &g->old);
	g->held = true;
	shim_forward_kick(temp);
}

static void suspend_end(struct suspend_guard *g)
{
	int err = errno;

	if (g->held)
		REAL(pthread_sigmask)(SIG_SETMASK, &g->old, NULL);
	if (g->main_outside_handler)
		shim_main_mask_set(g->saved_main);
	errno = err;
}

static int suspend(const sigset_t *set)
{
	struct suspend_guard g;
	sigset_t copy;
	const sigset_t *temp = shim_strip_doorbells(set, &copy);
	int r;

	shim_forwarded_wait_check("sigsuspend");
	suspend_begin(shim_mask64(temp), &g);
	r = REAL(sigsuspend)(temp);
	suspend_end(&g);
	return r;
}

EXPORT int sigsuspend(const sigset_t *set)
{
	if (!enforcing())
		return REAL(sigsuspend)(set);
	return suspend(set);
}

/* glibc's __sigpause (signal/sigpause.c), on our sigsuspend: glibc's own
 * would build the temporary mask from a current mask that may hold the
 * doorbell. */
int shim_sigpause_enforced(int sig_or_mask, int is_sig)
{
	sigset_t set;

	/* not enforcing(): its wrappers in interpose-handlers.c are inside
	 * the busy guard when they call this */
	if (!shim_ready() || !shim_doorbell_bits)
		return REAL(__sigpause)(sig_or_mask, is_sig);
	if (is_sig) {
		REAL(pthread_sigmask)(SIG_SETMASK, NULL, &set);
		if (sigdelset(&set, sig_or_mask) < 0)
			return -1;
	} else {
		sigemptyset(&set);
		((unsigned long *)(void *)&set)[0] = (unsigned int)sig_or_mask;
	}
	return suspend(&set);
}

/* The waits that install a temporary mask for their duration.  A NULL
 * mask (their ordinary poll-like use) goes straight to libc. */
#define TEMP_MASK_WAIT(call, sigmask) \
	do { \
		struct suspend_guard g; \
		sigset_t copy; \
		int r_; \
		if (!(sigmask) || !enforcing()) \
			return call(sigmask); \
		sigmask = shim_strip_doorbells(sigmask, &copy); \
		suspend_begin(shim_mask64(sigmask), &g); \
		r_ = call(sigmask); \
		suspend_end(&g); \
		return r_; \
	} while (0)

#define PSELECT(m) REAL(pselect)(nfds, r, w, e, timeout, m)
EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
		   const sigset_t *sigmask)
{
	TEMP_MASK_WAIT(PSELECT, sigmask);
}

#define PPOLL(m) REAL(ppoll)(fds, nfds, timeout, m)
EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
		 const sigset_t *sigmask)
{
	TEMP_MASK_WAIT(PPOLL, sigmask);
}

#define EPOLL_PWAIT(m) REAL(epoll_pwait)(epfd, events, maxevents, timeout, m)
EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
		       const sigset_t *sigmask)
{
	TEMP_MASK_WAIT(EPOLL_PWAIT, sigmask);
}

#define EPOLL_PWAIT2(m) REAL(epoll_pwait2)(epfd, events, maxevents, timeout, m)
EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
			const struct timespec *timeout, const sigset_t *sigmask)
{
	TEMP_MASK_WAIT(EPOLL_PWAIT2, sigmask);
}

/* --- sigwait and friends ----------------------------------------------------------- */

/* ns since an arbitrary start; saturating arithmetic below keeps huge
 * timeouts ({LONG_MAX, 0}) from wrapping. */
static unsigned long long mono_ns(void)
{
	return shim_now_ns();
}

static unsigned long long ts_ns(const struct timespec *t)
{
	unsigned long long s = (unsigned long long)t->tv_sec;

	if (s > ULLONG_MAX / 1000000000ULL - 1)
		return ULLONG_MAX;
	return s * 1000000000ULL + (unsigned long long)t->tv_nsec;
}

/* Remaining time until `deadline`, or -1 when it has passed. */
static int remaining(unsigned long long deadline, struct timespec *out)
{
	unsigned long long now = mono_ns(), left;

	if (now >= deadline)
		return -1;
	left = deadline - now;
	if (left / 1000000000ULL > (unsigned long long)LONG_MAX)
		out->tv_sec = LONG_MAX;
	else
		out->tv_sec = (time_t)(left / 1000000000ULL);
	out->tv_nsec = (long)(left % 1000000000ULL);
	return 0;
}

static int wait_enforced(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	unsigned long long deadline = 0;
	struct timespec left;
	sigset_t copy;
	const sigset_t *s = shim_strip_doorbells(set, &copy);
	int r;

	/* a bounded wait cannot deadlock for good: not worth a warning */
	if (!timeout)
		shim_forwarded_wait_check("sigwait");
	if (timeout) {
		unsigned long long t = ts_ns(timeout), now = mono_ns();

		left = *timeout;
		deadline = t > ULLONG_MAX - now ? ULLONG_MAX : now + t;
	}
	for (;;) {
		unsigned long runs = shim_handler_runs();

		r = REAL(sigtimedwait)(s, info, timeout ? &left : NULL);
		/* EINTR from a doorbell that ran nothing: keep waiting */
		if (r >= 0 || errno != EINTR || shim_handler_runs() != runs)
			return r;
		if (timeout && remaining(deadline, &left) < 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	/* Invalid arguments fail exactly as in libc. */
	if (!enforcing() ||
	    (timeout && (timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L || timeout->tv_sec < 0)))
		return REAL(sigtimedwait)(set, info, timeout);
	return wait_enforced(set, info, timeout);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	if (!enforcing())
		return REAL(sigwaitinfo)(set, info);
	return wait_enforced(set, info, NULL);
}

/* glibc's sigwait: retry on EINTR, return the error number. */
EXPORT int sigwait(const sigset_t *set, int *sig)
{
	int r, saved = errno;

	if (!enforcing())
		return REAL(sigwait)(set, sig);
	do
		r = wait_enforced(set, NULL, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	errno = saved;
	return 0;
}
