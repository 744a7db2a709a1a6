/* sigwait, sigwaitinfo, sigtimedwait.
 *
 * In mode=enforce the main thread may block a signal and wait for it while
 * a forwarded instance's doorbell (the same signal, tagged) is pending on
 * it: the wait must not return our doorbell, which natively would not
 * exist (the signal went to another thread).  A swallowed doorbell is
 * remembered and rung again when the main thread next changes its mask
 * (interpose-mask.c).  Not logged: these calls change no disposition and
 * no mask.  signalfd reads cannot be filtered (docs/semantics.md). */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

atomic_ullong shim_wait_swallowed;
#define swallowed shim_wait_swallowed

static unsigned long long mono_ns(void)
{
	return shim_now_ns();
}

/* Remaining time until `deadline`, or -1 when it has passed. */
static int remaining(unsigned long long deadline, struct timespec *out)
{
	unsigned long long now = mono_ns();

	if (now >= deadline)
		return -1;
	out->tv_sec = (time_t)((deadline - now) / 1000000000ULL);
	out->tv_nsec = (long)((deadline - now) % 1000000000ULL);
	return 0;
}

static int wait_filtered(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	unsigned long long deadline = 0;
	struct timespec left;
	siginfo_t local;
	int r;

	if (timeout) {
		left = *timeout;
		deadline = mono_ns() + (unsigned long long)timeout->tv_sec * 1000000000ULL +
			   (unsigned long long)timeout->tv_nsec;
	}
	for (;;) {
		r = REAL(sigtimedwait)(set, &local, timeout ? &left : NULL);
		if (r <= 0 || !shim_is_doorbell(r, &local)) {
			if (r > 0 && info)
				*info = local;
			return r;
		}
		shim_forward_ack(r);
		atomic_fetch_or(&swallowed, 1ULL << (r - 1));
		if (timeout && remaining(deadline, &left) < 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

static bool filtering(void)
{
	return shim_ready() && shim.opt.mode == SHIM_MODE_ENFORCE && !shim_busy;
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	struct timespec first;

	if (!filtering())
		return REAL(sigtimedwait)(set, info, timeout);
	if (timeout) {
		/* The first wait gets the caller's own timeout, so invalid values
		 * fail exactly as in libc. */
		first = *timeout;
		if (first.tv_nsec < 0 || first.tv_nsec >= 1000000000L || first.tv_sec < 0)
			return REAL(sigtimedwait)(set, info, timeout);
	}
	return wait_filtered(set, info, timeout ? &first : NULL);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	if (!filtering())
		return REAL(sigwaitinfo)(set, info);
	return wait_filtered(set, info, NULL);
}

/* glibc's sigwait: retry on EINTR, return the error number. */
EXPORT int sigwait(const sigset_t *set, int *sig)
{
	int r, saved = errno;

	if (!filtering())
		return REAL(sigwait)(set, sig);
	do
		r = wait_filtered(set, NULL, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	errno = saved;
	return 0;
}

/* Called by the mask wrappers on the main thread after the mask changed:
 * a doorbell a wait swallowed is rung again, and acts once unblocked. */
void shim_wait_rering_slow(void)
{
	unsigned long long bits;

	if (!atomic_load(&swallowed) || !shim_is_main_thread())
		return;
	bits = atomic_exchange(&swallowed, 0);
	for (int sig = 1; sig < SHIM_NSIG; sig++)
		if (bits & (1ULL << (sig - 1)))
			shim_forward_rearm(sig);
}
