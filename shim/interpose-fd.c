/* Keeping the log descriptor alive in a hostile host.  Programs close every
 * descriptor (daemons, test harnesses), or dup2() onto "free" numbers.
 * Natively our descriptor does not exist, so the program must see exactly
 * that: close() of it fails with EBADF, and dup2() onto it succeeds after
 * the log has moved elsewhere.  No events: these are not signal calls. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "sink.h"

#define EXPORT __attribute__((visibility("default")))

static void release_on_cancel(void *held)
{
	audit_sink_release(*(bool *)held);
}

#define FRAME() ((uintptr_t)__builtin_frame_address(0))

EXPORT int close(int fd)
{
	bool held = audit_sink_hold(fd, FRAME());
	int r;

	if (audit_sink_claims(fd)) {
		audit_sink_release(held);
		errno = EBADF;
		return -1;
	}
	if (!held)      /* every close of a low number: nothing more */
		return REAL(close)(fd);
	/* close() is a cancellation point: a cancel in it lets the lock go */
	pthread_cleanup_push(release_on_cancel, &held);
	r = REAL(close)(fd);
	pthread_cleanup_pop(0);
	audit_sink_release(held);   /* leaves errno alone */
	return r;
}

/* The program wants `newfd`: give it up first (errno kept). */
static void make_room(int newfd)
{
	int err = errno, r;

	if (audit_sink_claims(newfd) && (r = audit_sink_relocate()) < 0) {
		/* No descriptor left to move to: the log is lost, the
		 * program must still get its descriptor.  Said now, and every
		 * later event is counted for the exit line. */
		audit_stderr("sigshim: the audit log is lost: the program takes its descriptor and "
			     "no free one is left to move it to (");
		audit_stderr(strerror(-r));
		audit_stderr("); later events are counted, not written\n");
		audit_sink_lose(-r, REAL(close));
	}
	errno = err;
}

EXPORT int dup2(int oldfd, int newfd)
{
	bool held;
	int r;

	if (audit_sink_claims(oldfd)) {
		errno = EBADF;
		return -1;
	}
	held = audit_sink_hold(newfd, FRAME());
	make_room(newfd);
	r = REAL(dup2)(oldfd, newfd);
	audit_sink_release(held);
	return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	bool held;
	int r;

	if (oldfd == newfd)
		return REAL(dup3)(oldfd, newfd, flags);   /* EINVAL, nothing done */
	if (audit_sink_claims(oldfd)) {
		errno = EBADF;
		return -1;
	}
	held = audit_sink_hold(newfd, FRAME());
	make_room(newfd);
	r = REAL(dup3)(oldfd, newfd, flags);
	audit_sink_release(held);
	return r;
}

/* Closes [first, last] but the log's descriptor, in at most two calls. */
static int close_range_held(unsigned first, unsigned last, int flags);

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	/* no relocation may move the log into the range meanwhile */
	bool held = audit_sink_hold(last > INT_MAX ? INT_MAX : (int)last, FRAME());
	int r = close_range_held(first, last, flags);

	audit_sink_release(held);
	return r;
}

static int close_range_held(unsigned first, unsigned last, int flags)
{
	int fd = audit_sink_fd(), r = 0;

	if (fd < 0 || (unsigned)fd < first || (unsigned)fd > last || first > last)
		return REAL(close_range)(first, last, flags);
	/* Let the kernel judge the flags first, on a range that holds no
	 * descriptor, so bad flags fail as natively. */
	r = REAL(close_range)(~0U, ~0U, flags);
	if (r < 0)
		return r;
	if ((unsigned)fd > first)
		r = REAL(close_range)(first, (unsigned)fd - 1, flags);
	if (r == 0 && (unsigned)fd < last)
		r = REAL(close_range)((unsigned)fd + 1, last, flags);
	return r;
}

/* [lo, hi] with close_range, or one by one where the kernel lacks it
 * (what glibc's own fallback amounts to). */
static void close_span(unsigned lo, unsigned hi)
{
	long max;

	if (lo > hi || REAL(close_range)(lo, hi, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (long i = lo; i <= (long)hi && i < max; i++)
		REAL(close)((int)i);
}

/* glibc's closefrom calls close_range internally (not through the PLT),
 * so it needs its own wrapper. */
EXPORT void closefrom(int lowfd)
{
	bool held = audit_sink_hold(INT_MAX, FRAME());
	int fd = audit_sink_fd();
	unsigned lo = lowfd < 0 ? 0 : (unsigned)lowfd;

	if (fd < 0 || (unsigned)fd < lo)
		REAL(closefrom)(lowfd);
	else {
		if ((unsigned)fd > lo)
			close_span(lo, (unsigned)fd - 1);
		close_span((unsigned)fd + 1, UINT_MAX);
	}
	audit_sink_release(held);
}

/* --- glibc's syscall() -------------------------------------------------------
 * Programs close descriptors with the raw system call too:
 * syscall(SYS_close_range, 3, ~0U, 0) after fork is common.  That would close
 * the log behind our back, and the program's next descriptor could take its
 * number (the sink notices the stranger at its next identity check, but
 * lines written before it would land in the program's file).  glibc's
 * syscall() is interposed: the numbers that close or replace descriptors
 * go to the wrappers above, every other number straight to the kernel,
 * exactly as glibc's syscall() does it (six argument registers, -1 and
 * errno on failure; not a cancellation point).  The shim's own syscall()
 * calls land here as well and take the raw path.  Code that issues the
 * instruction itself (Go, static code) is not seen: README, Limits. */
#if defined(__x86_64__) || defined(__aarch64__)
static long raw_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#else
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	ret = x0;
#endif
	return ret;
}

/* Not instrumented by ASan: like glibc's syscall(), it reads six
 * arguments whatever the caller passed, the last from the caller's stack
 * (always mapped, its value unused by shorter system calls). */
EXPORT __attribute__((no_sanitize_address)) long syscall(long n, ...)
{
	uintptr_t from = (uintptr_t)__builtin_return_address(0);
	va_list ap;
	long a[6];
	long r;

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	/* The shim's own calls (audit_raw_close and the rest) mean the
	 * system call itself. */
	if (from < shim.self_lo || from >= shim.self_hi) {
		switch (n) {
		case SYS_close:
			return close((int)a[0]);
#ifdef SYS_close_range
		case SYS_close_range:
			return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
#endif
#ifdef SYS_dup2
		case SYS_dup2:
			return dup2((int)a[0], (int)a[1]);
#endif
		case SYS_dup3:
			return dup3((int)a[0], (int)a[1], (int)a[2]);
		default:
			break;
		}
	}
	r = raw_syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
#endif
