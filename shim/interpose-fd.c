/* Keeping the log descriptor alive in a hostile host.  Programs close every
 * descriptor (daemons, test harnesses), or dup2() onto "free" numbers.
 * Natively our descriptor does not exist, so the program must see exactly
 * that: close() of it fails with EBADF, and dup2() onto it succeeds after
 * the log has moved elsewhere.  No events: these are not signal calls. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"
#include "sink.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int close(int fd)
{
	if (audit_sink_claims(fd)) {
		errno = EBADF;
		return -1;
	}
	return REAL(close)(fd);
}

/* The program wants `newfd`: give it up first. */
static int make_room(int newfd)
{
	int err = errno;

	int r;

	if (audit_sink_claims(newfd) && (r = audit_sink_relocate(REAL(close))) < 0) {
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
	return 0;
}

EXPORT int dup2(int oldfd, int newfd)
{
	if (audit_sink_claims(oldfd)) {
		errno = EBADF;
		return -1;
	}
	make_room(newfd);
	return REAL(dup2)(oldfd, newfd);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd == newfd)
		return REAL(dup3)(oldfd, newfd, flags);   /* EINVAL, nothing done */
	if (audit_sink_claims(oldfd)) {
		errno = EBADF;
		return -1;
	}
	make_room(newfd);
	return REAL(dup3)(oldfd, newfd, flags);
}

/* Closes [first, last] but the log's descriptor, in at most two calls. */
EXPORT int close_range(unsigned first, unsigned last, int flags)
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
	int fd = audit_sink_fd();
	unsigned lo = lowfd < 0 ? 0 : (unsigned)lowfd;

	if (fd < 0 || (unsigned)fd < lo) {
		REAL(closefrom)(lowfd);
		return;
	}
	if ((unsigned)fd > lo)
		close_span(lo, (unsigned)fd - 1);
	close_span((unsigned)fd + 1, UINT_MAX);
}
