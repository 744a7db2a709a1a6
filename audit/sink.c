/* async-signal-safe: audit_sink_write(), audit_sink_claims() and the
 * counters; the open/relocate paths run only in ordinary context. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"
#include "sink.h"

atomic_int audit_sink_fd_ = -1;
atomic_int audit_sink_lost_;
atomic_bool audit_sink_mapped_;
/* Writers in flight: relocation waits for those that may hold the old
 * number, so that no write started on it can land in the program's file
 * after the program takes the number.  They are counted by generation (its
 * parity): a relocation waits only for the writers that started before it,
 * not for the stream of new ones (eight busy threads keep a single count
 * above zero for good, and a bounded wait then gave up with writes still
 * aimed at the old number: EBADF, or lines written into the program's
 * /dev/null).  Relocations take turns (`relocator`). */
static atomic_uint gen;
static atomic_int inflight[2];
static atomic_int relocator;
static atomic_ullong n_events, n_dropped, n_dropped_bytes;
static atomic_int last_err;

int audit_sink_expand(const char *tmpl, pid_t pid, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = tmpl; *p; p++) {
		char num[24];
		size_t n = 1;
		const char *add = p;

		if (p[0] == '%' && p[1] == 'p') {
			n = audit_fmt_u64(num, (unsigned long long)pid);
			add = num;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			p++;
		}
		if (o + n >= outlen)
			return -ENAMETOOLONG;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* The file ends in a cut line (a short write): the next line goes out
 * after a newline of its own, so only the fragment is malformed. */
static atomic_bool torn;
/* The log is a pipe or socket (log_path=stderr, or a FIFO-like device):
 * a reader that went away must not kill the program with SIGPIPE. */
static atomic_bool pipe_like;
/* What the log's descriptor refers to (audit_sink_note_kind).  A raw
 * close or close_range (the system call, not glibc's wrapper) can close
 * it behind the shim's back, and the program's next descriptor can take
 * the number: before each write, and before the fd wrappers treat the
 * number as ours, the descriptor must still be that file. */
static atomic_ullong log_dev, log_ino;
static atomic_bool said_taken;
static bool still_ours_stat(int fd, struct stat *sb);
static void update_floor(void);

static bool still_ours(int fd)
{
	struct stat sb;

	return still_ours_stat(fd, &sb);
}

/* --- opening the log file safely ------------------------------------------------
 * The shim often runs as root on paths a CI job or a user chose, in
 * directories others may write.  Rules (README, "log_path"):
 *  - every directory component is resolved without following a symbolic
 *    link, unless the link belongs to root or to the effective user (so a
 *    distribution's /var/run -> /run keeps working, a planted link does not);
 *  - the file is opened with O_NOFOLLOW and O_NONBLOCK (a FIFO planted at
 *    the path cannot block the program before main);
 *  - it must be a regular file, owned by the effective user, and not
 *    writable by group or others (a file a third party prepared and can
 *    read back is never appended to), or a character device.
 * A refusal is -errno plus a reason for the message (audit_sink_refusal). */
static const char *refusal;

const char *audit_sink_refusal(void)
{
	return refusal;
}

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Every symbolic link among the directory components of `path` must be
 * trusted.  0 or -errno. */
static int check_dir_links(const char *path)
{
	char prefix[4096];
	size_t n = strlen(path);
	const char *slash = strrchr(path, '/');

	if (!slash || n >= sizeof prefix)
		return 0;
	for (size_t i = 1; path + i <= slash; i++) {
		struct stat sb;

		if (path[i] != '/' && path + i != slash)
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		if (lstat(prefix, &sb) != 0)
			return -errno;
		if (S_ISLNK(sb.st_mode) && !trusted_owner(sb.st_uid)) {
			refusal = "a directory in the path is a symbolic link owned by another user";
			return -ELOOP;
		}
	}
	return 0;
}

/* The directory of `path` opened without following any symbolic link
 * (openat2 RESOLVE_NO_SYMLINKS, Linux 5.6), or, when it has trusted links
 * or the kernel lacks openat2, -ENOSYS: open by path after the check. */
static int open_dir_no_symlinks(const char *path)
{
#ifdef SYS_openat2
	struct { unsigned long long flags, mode, resolve; } how = {
		O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0x04 /* RESOLVE_NO_SYMLINKS */
	};
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	long fd;

	if (!slash)
		return -ENOSYS;
	if (n == 0)
		n = 1;   /* "/name" */
	if (n >= sizeof dir)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	fd = syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
	if (fd >= 0)
		return (int)fd;
	return -errno;
#else
	(void)path;
	return -ENOSYS;
#endif
}

/* 0 when the file behind fd may be written, else -errno (refusal set). */
static int check_file(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return -errno;
	/* A character device (/dev/null, /dev/full, a terminal) is the
	 * user's choice and cannot be planted (mknod needs privilege). */
	if (S_ISCHR(sb.st_mode))
		return 0;
	if (!S_ISREG(sb.st_mode)) {
		refusal = "not a regular file";
		return -EINVAL;
	}
	if (sb.st_uid != geteuid()) {
		refusal = "the file is owned by another user";
		return -EPERM;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		refusal = "the file is writable by group or others";
		return -EPERM;
	}
	return 0;
}

int audit_sink_open_file(const char *path, int flags)
{
	const char *slash = strrchr(path, '/');
	int dfd, fd, err;

	refusal = NULL;
	flags |= O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	dfd = open_dir_no_symlinks(path);
	if (dfd < 0 && dfd != -ENOSYS && dfd != -ELOOP && dfd != -EXDEV)
		return dfd;
	if (dfd < 0) {
		/* links on the way (or no openat2): only trusted ones */
		err = check_dir_links(path);
		if (err)
			return err;
		fd = open(path, flags, 0600);
	} else {
		fd = openat(dfd, slash[1] ? slash + 1 : ".", flags, 0600);
		audit_raw_close(dfd);
	}
	if (fd < 0) {
		err = errno;
		if (err == ENXIO)
			refusal = "not a regular file (a FIFO with no reader)";
		else if (err == ELOOP)
			refusal = "the file is a symbolic link";
		return -err;
	}
	err = check_file(fd);
	if (err) {
		audit_raw_close(fd);
		return err;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* A copy of fd at the lowest free number at or above a base well clear of
 * the ones programs use; under a soft limit at or below that base, at the
 * highest free number under the limit, so that the program's own open()s
 * get the numbers they get natively (open returns the lowest free one).
 * Only the last resort takes a low number. */
/* Whether the soft RLIMIT_NOFILE leaves numbers above AUDIT_SINK_FD_BASE
 * (else the log takes the highest free number below the limit); *rl gets
 * the limit. */
static bool above_base_free(struct rlimit *rl)
{
	return getrlimit(RLIMIT_NOFILE, rl) != 0 || rl->rlim_cur == RLIM_INFINITY ||
	       rl->rlim_cur > (rlim_t)AUDIT_SINK_FD_BASE;
}

static int move_high(int fd)
{
	struct rlimit rl;
	int nfd;

	if (above_base_free(&rl)) {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, AUDIT_SINK_FD_BASE);
		return nfd >= 0 ? nfd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	for (int want = (int)rl.rlim_cur - 1; want >= 3; want--) {
		struct stat sb;

		/* fstat fails with EBADF on a free number */
		if (want != fd && fstat(want, &sb) != 0 && errno == EBADF) {
			nfd = fcntl(fd, F_DUPFD_CLOEXEC, want);
			if (nfd >= 0)
				return nfd;
		}
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int audit_sink_open(const char *tmpl, char *path_out, size_t outlen)
{
	int fd, hi, err;
	bool to_stderr = strcmp(tmpl, "stderr") == 0;

	if (to_stderr) {
		if (outlen < sizeof "stderr")
			return -ENAMETOOLONG;
		memcpy(path_out, "stderr", sizeof "stderr");
		fd = 2;
	} else {
		err = audit_sink_expand(tmpl, getpid(), path_out, outlen);
		if (err)
			return err;
		fd = audit_sink_open_file(path_out, O_WRONLY | O_APPEND);
		if (fd < 0)
			return fd;
	}
	hi = move_high(fd);
	err = errno;
	if (!to_stderr)
		audit_raw_close(fd);
	if (hi < 0)
		return -err;
	audit_sink_note_kind(hi);
	atomic_store(&said_taken, false);
	atomic_store(&torn, false);
	atomic_store(&audit_sink_lost_, 0);
	atomic_store(&audit_sink_fd_, hi);
	update_floor();
	return 0;
}

int audit_sink_open_mapped(const char *tmpl, char *path_out, size_t outlen)
{
	int err = audit_sink_expand(tmpl, getpid(), path_out, outlen);

	if (err == 0)
		err = audit_sinkmap_open(path_out);
	if (err == 0) {
		atomic_store(&audit_sink_lost_, 0);
		atomic_store(&audit_sink_mapped_, true);
	}
	return err;
}

void audit_sink_finish(void)
{
	if (atomic_exchange(&audit_sink_mapped_, false))
		audit_sinkmap_close(true);
}

bool audit_sink_vanished(void)
{
	struct stat sb;
	int fd = atomic_load(&audit_sink_fd_);

	if (atomic_load(&audit_sink_mapped_))
		return audit_sinkmap_vanished();
	/* one fstat: the identity check's */
	return fd >= 0 && still_ours_stat(fd, &sb) && sb.st_nlink == 0;
}

/* The log's descriptor had to go and there was nowhere to move it
 * (EMFILE): from now on events are counted as dropped with `err`, so that
 * the exit line says how many were lost. */
void audit_sink_lose(int err, int (*real_close)(int))
{
	atomic_store(&audit_sink_lost_, err);
	audit_sink_detach(real_close);
}

void audit_sink_detach(int (*real_close)(int))
{
	int fd = atomic_exchange(&audit_sink_fd_, -1);

	/* A forked child drops the parent's mapping without cutting the
	 * parent's file. */
	if (atomic_exchange(&audit_sink_mapped_, false))
		audit_sinkmap_close(false);

	if (fd >= 0 && real_close)
		real_close(fd);
}

int audit_sink_fd(void)
{
	int fd = atomic_load(&audit_sink_fd_);

	return fd >= 0 && still_ours(fd) ? fd : -1;
}

bool audit_sink_claims(int fd)
{
	return fd >= 0 && fd == atomic_load(&audit_sink_fd_) && still_ours(fd);
}

/* Writes this thread has in flight: a signal handler on a thread that was
 * interrupted inside audit_sink_write() may relocate, and must not wait for
 * itself. */
static __thread int my_writes __attribute__((tls_model("initial-exec")));
static __thread int my_slot_writes[2] __attribute__((tls_model("initial-exec")));
/* Where each of them runs: a handler that leaves by a jump abandons the
 * writes it interrupted, and the jump wrappers take them back
 * (audit_sink_unwind_to), or inflight would count them forever. */
#define MAX_WRITE_NEST 16
static __thread uintptr_t write_sp[MAX_WRITE_NEST] __attribute__((tls_model("initial-exec")));
static __thread unsigned char write_slot[MAX_WRITE_NEST] __attribute__((tls_model("initial-exec")));

static int nest_top(void)
{
	return my_writes <= MAX_WRITE_NEST ? my_writes - 1 : MAX_WRITE_NEST - 1;
}

/* Counts this write in the current generation and returns the descriptor
 * it may use: the one loaded after the generation was seen unchanged. */
static int write_enter(uintptr_t sp)
{
	unsigned g, sl;

	for (;;) {
		g = atomic_load(&gen);
		sl = g & 1;
		atomic_fetch_add(&inflight[sl], 1);
		if (atomic_load(&gen) == g)
			break;
		atomic_fetch_sub(&inflight[sl], 1);
	}
	my_writes++;
	write_sp[nest_top()] = sp;
	write_slot[nest_top()] = (unsigned char)sl;
	my_slot_writes[sl]++;
	return atomic_load(&audit_sink_fd_);
}

static void write_leave(void)
{
	unsigned sl = write_slot[nest_top()];

	my_slot_writes[sl]--;
	my_writes--;
	atomic_fetch_sub(&inflight[sl], 1);
}

/* 100 us, with the system call itself: the waits below happen inside the
 * program's dup2(), which is not a cancellation point (nanosleep() is: a
 * pending cancel acted there). */
static void pause_100us(void)
{
	struct timespec ts = { 0, 100000 };

	syscall(SYS_nanosleep, &ts, NULL);
}

/* Moves the log off its number, the relocator lock held. */
static int relocate_locked(void)
{
	int old = atomic_load(&audit_sink_fd_), nfd;

	if (old < 0)
		return 0;
	nfd = move_high(old);
	if (nfd < 0)
		return -errno;
	atomic_store(&audit_sink_fd_, nfd);
	update_floor();
	/* Writers that saw the old generation may hold `old`; those that see
	 * the new one load `nfd`.  Writers never block, so this wait is short;
	 * it is bounded all the same (~1 s), for a writer that will never come
	 * back (a thread cancelled inside a handler that had interrupted it). */
	unsigned sl = atomic_fetch_add(&gen, 1) & 1;

	for (int i = 0; atomic_load(&inflight[sl]) > my_slot_writes[sl] && i < 10000; i++)
		pause_100us();
	/* `old` is not closed here: the program is about to dup2()/dup3()
	 * onto that number, which replaces it atomically.  Closing it first
	 * could close the program's own descriptor if another thread's dup2
	 * got there in between (at worst a failed dup2 leaves the copy). */
	return 0;
}

/* --- holding the log's numbers still -------------------------------------------
 * A relocation picks a free number; another thread's dup2() onto that very
 * number, decided before (the program believes it free, natively it is),
 * would then replace the log.  A dup2()/dup3()/close() on a number a
 * relocation could pick holds the relocator lock across the real call.
 * Re-entrant on its thread (a handler), bounded for others (~2 s), and let
 * go by a jump out of the call (audit_sink_unwind_to) or a cancel in it
 * (the close wrapper's cleanup handler). */
static __thread uintptr_t hold_sp __attribute__((tls_model("initial-exec")));
/* The lowest number a relocation can pick (move_high): read at the log's
 * open and at each relocation, never per close (a program that lowers
 * RLIMIT_NOFILE below the base later is not held for). */
static atomic_int hold_floor = AUDIT_SINK_FD_BASE;

static void update_floor(void)
{
	struct rlimit rl;

	atomic_store(&hold_floor, above_base_free(&rl) ? AUDIT_SINK_FD_BASE : 3);
}

static bool take_relocator(void)
{
	int me = (int)syscall(SYS_gettid), other = 0;

	for (int i = 0; !atomic_compare_exchange_strong(&relocator, &other, me); i++) {
		if (other == me || i > 20000)
			return false;
		other = 0;
		pause_100us();
	}
	return true;
}

bool audit_sink_hold(int fd, uintptr_t sp)
{
	if (fd < atomic_load(&hold_floor) || atomic_load(&audit_sink_fd_) < 0 ||
	    atomic_load(&audit_sink_mapped_))
		return false;
	if (!take_relocator())
		return false;
	hold_sp = sp;
	return true;
}

void audit_sink_release(bool held)
{
	if (held) {
		hold_sp = 0;
		atomic_store(&relocator, 0);
	}
}

int audit_sink_relocate(void)
{
	int r;
	bool mine;

	if (atomic_load(&audit_sink_fd_) < 0)
		return 0;
	/* One relocation at a time; a handler on the relocating thread (or
	 * the dup2 that holds the lock) does not wait for itself, nor does
	 * anyone wait for a relocator that never comes back (~2 s). */
	mine = take_relocator();
	r = relocate_locked();
	if (mine)
		atomic_store(&relocator, 0);
	return r;
}

static void drop(size_t len, int err)
{
	atomic_fetch_add(&n_dropped, 1);
	atomic_fetch_add(&n_dropped_bytes, len);
	atomic_store(&last_err, err);
}

void audit_sink_note_kind(int fd)
{
	struct stat sb;
	bool ok = fstat(fd, &sb) == 0;

	atomic_store(&pipe_like, ok && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)));
	atomic_store(&log_dev, ok ? (unsigned long long)sb.st_dev : 0);
	atomic_store(&log_ino, ok ? (unsigned long long)sb.st_ino : 0);
}

/* Every write checking the descriptor's identity would cost a system
 * call per event (about a third of an event's cost on the machines in
 * docs/performance.md).  The ways a program closes a descriptor through
 * glibc (close, close_range, closefrom, dup2, dup3, syscall()) are wrapped
 * and check it exactly; only code that issues the system call instruction
 * itself can close it unseen, and that is noticed here within a
 * millisecond or one tick of CLOCK_MONOTONIC_COARSE, whichever is longer
 * (1-4 ms; the vDSO, no rdtsc). */
static atomic_llong next_check_ns;

static bool check_due(void)
{
	struct timespec ts;
	long long now, due = atomic_load_explicit(&next_check_ns, memory_order_relaxed);

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return true;
	now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return now >= due &&
	       atomic_compare_exchange_strong(&next_check_ns, &due, now + 1000000LL);
}

/* `fd` (the log's number) still refers to the log's file.  If not, the
 * number was closed behind our back: the log is lost (the number is the
 * program's now and is never closed by us), said once on stderr, and
 * every later event is counted as dropped with EBADF.  async-signal-safe
 * (fstat is). */
static bool still_ours_stat(int fd, struct stat *sb)
{
	if (fstat(fd, sb) == 0 && (unsigned long long)sb->st_dev == atomic_load(&log_dev) &&
	    (unsigned long long)sb->st_ino == atomic_load(&log_ino))
		return true;
	atomic_store(&audit_sink_lost_, EBADF);
	if (atomic_compare_exchange_strong(&audit_sink_fd_, &fd, -1) && !atomic_exchange(&said_taken, true))
		audit_stderr("sigshim: the audit log's descriptor was closed behind the shim's back "
			     "(a raw close or close_range system call); later events are counted, "
			     "not written\n");
	return false;
}

/* write(2) with SIGPIPE held blocked, and consumed if this write raised
 * it (it was not pending before): the program never wrote to that pipe,
 * natively it would not have been signalled. */
static ssize_t write_no_sigpipe(int fd, const struct iovec *iov, int cnt)
{
	unsigned long long pipe_bit = 1ULL << (SIGPIPE - 1), old, pend = 0;
	struct timespec zero = { 0, 0 };
	ssize_t n;
	int err;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &pipe_bit, &old, sizeof old);
	syscall(SYS_rt_sigpending, &pend, sizeof pend);
	do
		n = syscall(SYS_writev, fd, iov, cnt);
	while (n < 0 && errno == EINTR);
	err = errno;
	if (n < 0 && err == EPIPE && !(pend & pipe_bit))
		syscall(SYS_rt_sigtimedwait, &pipe_bit, NULL, &zero, sizeof pipe_bit);
	if (!(old & pipe_bit))
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
	errno = err;
	return n;
}

/* One write(2) per line on an O_APPEND descriptor: regular-file appends
 * are atomic with respect to each other, so lines from threads and forked
 * children sharing the file never interleave.  A short write (disk full
 * mid-line) leaves a cut line, counted as dropped; the next line is put
 * after a newline so that it stays whole. */
bool audit_sink_write(const char *line, size_t len)
{
	int saved = errno, fd, cnt = 0;
	ssize_t n;
	struct iovec iov[2];
	bool after_cut = atomic_load_explicit(&torn, memory_order_relaxed);

	if (atomic_load_explicit(&audit_sink_mapped_, memory_order_relaxed)) {
		int err = 0;
		bool ok = audit_sinkmap_write(line, len, &err);

		if (ok)
			atomic_fetch_add(&n_events, 1);
		else
			drop(len, err);
		errno = saved;
		return ok;
	}
	fd = write_enter((uintptr_t)__builtin_frame_address(0));
	if (fd >= 0 && check_due() && !still_ours(fd))
		fd = -1;
	if (fd < 0) {
		write_leave();
		if (atomic_load(&audit_sink_lost_))
			drop(len, atomic_load(&audit_sink_lost_));
		errno = saved;
		return false;
	}
	if (after_cut)
		iov[cnt++] = (struct iovec){ (void *)"\n", 1 };
	iov[cnt++] = (struct iovec){ (void *)line, len };
	/* The system call itself: glibc's write() is a cancellation point,
	 * and logging must not make the program's calls into ones. */
	if (atomic_load_explicit(&pipe_like, memory_order_relaxed)) {
		n = write_no_sigpipe(fd, iov, cnt);
	} else {
		do
			n = syscall(SYS_writev, fd, iov, cnt);
		while (n < 0 && errno == EINTR);
	}
	write_leave();
	if (n == (ssize_t)(len + (size_t)after_cut)) {
		if (after_cut)
			atomic_store(&torn, false);
		atomic_fetch_add(&n_events, 1);
		errno = saved;
		return true;
	}
	/* Part of it reached the file: a fragment of this line (torn), or
	 * only the newline that ended the last fragment (not torn). */
	if (n > 0)
		atomic_store(&torn, !(after_cut && n == 1));
	drop(len, n < 0 ? errno : ENOSPC);
	errno = saved;
	return false;
}

void audit_sink_stats(struct audit_sink_stats *out)
{
	out->events = atomic_load(&n_events);
	out->dropped = atomic_load(&n_dropped);
	out->dropped_bytes = atomic_load(&n_dropped_bytes);
	out->last_errno = atomic_load(&last_err);
}

/* A jump to the frame at `target_sp` leaves every write this thread had
 * started below it (in a handler's interrupted context). */
void audit_sink_unwind_to(uintptr_t target_sp)
{
	audit_sinkmap_unwind_to(target_sp);
	if (hold_sp && hold_sp < target_sp)
		audit_sink_release(true);
	while (my_writes > 0) {
		if (write_sp[nest_top()] >= target_sp)
			return;
		write_leave();
	}
}

/* In a forked child only the forking thread exists: no other writer is in
 * flight, whatever the parent's threads were doing at the fork. */
void audit_sink_after_fork(void)
{
	audit_sinkmap_after_fork();
	atomic_store(&inflight[0], my_slot_writes[0]);
	atomic_store(&inflight[1], my_slot_writes[1]);
	atomic_store(&relocator, 0);
	hold_sp = 0;
	audit_sink_reset_stats();
}

void audit_sink_reset_stats(void)
{
	atomic_store(&n_events, 0);
	atomic_store(&n_dropped, 0);
	atomic_store(&n_dropped_bytes, 0);
	atomic_store(&last_err, 0);
}

/* The shim's own lines on stderr ("sigshim: ..."): the raw system call
 * (no cancellation point), SIGPIPE held, as for the log itself: a stderr
 * pipe whose reader is gone must not kill a program that never writes
 * there.  async-signal-safe. */
void audit_stderr(const char *s)
{
	struct iovec iov = { (void *)s, strlen(s) };

	write_no_sigpipe(2, &iov, 1);
}
