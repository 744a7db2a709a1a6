/* async-signal-safe: audit_sinkmap_write(); opening and closing run in
 * ordinary context.
 *
 * The shared-mapping sink (sink=mmap): a per-process log file mapped
 * MAP_SHARED; a line is reserved with one atomic add and copied in, no
 * system call.  The page cache keeps what was copied if the process
 * crashes.  The file grows ahead of the writers in 1 MiB steps with
 * fallocate(), which never shrinks a file, so concurrent growers need no
 * lock; a grower reopens the file by name (no descriptor stays open: the
 * program sees none) and checks it is still the same file.  At exit the
 * file is cut back to what was written; a crash leaves NUL padding after
 * the last line, which readers skip. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

#define MAP_SPAN (1UL << 30)     /* virtual reservation: 1 GiB of log */
#define GROW_STEP (1UL << 20)

static char *base;
/* Set when the mapping can no longer be written (the file was cut under
 * us, or the process is exiting): the errno every later event is
 * dropped with. */
static atomic_int dead;
static atomic_int copying;
/* This thread is copying into the mapping: where a SIGBUS in the copy
 * (the file was truncated by someone else) jumps back to. */
/* volatile: memcpy is known not to read it, so the stores around the
 * copy would otherwise be merged away */
static __thread sigjmp_buf *volatile copy_env __attribute__((tls_model("initial-exec")));
static char path[4096];
static dev_t dev;
static ino_t ino;
static atomic_size_t tail, alloc;

/* Growing happens inside a logged call: its system calls go through
 * syscall(2), because glibc's open and fallocate are cancellation points (a
 * pending cancel acted in the middle of a line: the soak's cancelled
 * threads left a seq gap at every MiB, with no record; the callers keep
 * the program's errno). */
static int reopen(void)
{
	struct stat sb;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			      O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || sb.st_dev != dev || sb.st_ino != ino) {
		audit_raw_close(fd);
		return -ESTALE;   /* replaced or removed: not ours any more */
	}
	return fd;
}

/* Makes the file at least `need` bytes long. */
static int grow(size_t need)
{
	size_t want = (need + GROW_STEP) & ~(GROW_STEP - 1);
	size_t cur = atomic_load(&alloc);
	int fd, r = 0;

	if (cur >= need)
		return 0;
	fd = reopen();
	if (fd < 0)
		return fd;
	if (syscall(SYS_fallocate, fd, 0, (off_t)0, (off_t)want) < 0) {
		if (errno == ENOSPC) {
			/* under 1 MiB free: grow by what this line needs, so
			 * the events that still fit are written */
			want = (need + 4095) & ~(size_t)4095;
			if (syscall(SYS_fallocate, fd, 0, (off_t)0, (off_t)want) < 0)
				r = -errno;
		} else if (errno != EOPNOTSUPP || ftruncate(fd, (off_t)want) < 0) {
			r = -errno;
		}
	}
	audit_raw_close(fd);
	/* Only what the file covers is accessible (see audit_sinkmap_open). */
	if (r == 0 && mprotect(base, want, PROT_READ | PROT_WRITE) < 0)
		r = -errno;
	while (r == 0 && cur < want && !atomic_compare_exchange_weak(&alloc, &cur, want))
		;
	return r;
}

/* Where the last image of this process left off: exec keeps the pid, so
 * an exec'd program appends to the same file, after its last line (a
 * previous image that could not cut the file back left NUL padding). */
static size_t content_end(int fd, size_t size)
{
	char buf[4096];
	size_t end = size;

	while (end > 0) {
		size_t chunk = end < sizeof buf ? end : sizeof buf, k = chunk;

		if (pread(fd, buf, chunk, (off_t)(end - chunk)) != (ssize_t)chunk)
			return end;
		while (k > 0 && buf[k - 1] == '\0')
			k--;
		if (k > 0)
			return end - chunk + k;
		end -= chunk;
	}
	return 0;
}

int audit_sinkmap_open(const char *p)
{
	struct stat sb;
	size_t end;
	int fd;

	if (strlen(p) >= sizeof path)
		return -ENAMETOOLONG;
	fd = audit_sink_open_file(p, O_RDWR);
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		audit_raw_close(fd);
		return -EINVAL;   /* a mapping needs a regular file */
	}
	/* Reserved inaccessible: pages past the end of the file would raise
	 * SIGBUS on any touch (a debugger's or valgrind's memory scan
	 * included); grow() opens them up as the file covers them. */
	base = mmap(NULL, MAP_SPAN, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED) {
		int err = errno;

		audit_raw_close(fd);
		base = NULL;
		return -err;
	}
	end = content_end(fd, (size_t)sb.st_size);
	if (ftruncate(fd, (off_t)end) == 0)
		sb.st_size = (off_t)end;
	audit_raw_close(fd);
	if (end > 0 && mprotect(base, end, PROT_READ | PROT_WRITE) < 0) {
		int err = errno;

		munmap(base, MAP_SPAN);
		base = NULL;
		return -err;
	}
	strcpy(path, p);
	atomic_store(&dead, 0);
	atomic_store(&copying, 0);
	dev = sb.st_dev;
	ino = sb.st_ino;
	atomic_store(&tail, end);
	atomic_store(&alloc, end);
	return 0;
}

/* The copies this thread has started, innermost last: a handler that
 * interrupts one and leaves by a jump would leave its bytes NUL or half
 * copied (a malformed line in the middle of the log).  The jump wrappers
 * finish them (audit_sinkmap_unwind_to): the line's buffer is still intact
 * in the abandoned frame, above the handler's. */
#define MAX_COPY_NEST 16
struct copy {
	size_t off, len;
	const char *line;
	uintptr_t sp;
};
static __thread struct copy copies[MAX_COPY_NEST] __attribute__((tls_model("initial-exec")));
static __thread int n_copies __attribute__((tls_model("initial-exec")));

/* Grows the file to cover the line and copies it, a SIGBUS (the file cut
 * by someone else) returning false. */
static bool place(size_t off, const char *line, size_t len, int *err)
{
	sigjmp_buf env;
	sigjmp_buf *volatile outer = copy_env;
	int r = grow(off + len);

	if (r < 0) {
		*err = -r;
		return false;   /* the reserved bytes stay NUL: readers skip them */
	}
	/* mask not saved: the fault path restores the interrupted mask */
	if (sigsetjmp(env, 0)) {
		copy_env = outer;
		*err = atomic_load(&dead);
		return false;
	}
	copy_env = &env;
	memcpy(base + off, line, len);
	copy_env = outer;
	return true;
}

static bool write_line(const char *line, size_t len, uintptr_t sp, int *err)
{
	size_t off;
	int d = atomic_load(&dead), k;
	bool ok;

	if (d) {
		*err = d;
		return false;
	}
	k = n_copies;
	if (k < MAX_COPY_NEST) {
		copies[k].len = 0;   /* nothing reserved yet */
		copies[k].line = line;
		copies[k].sp = sp;
		atomic_signal_fence(memory_order_seq_cst);
		n_copies = k + 1;
	}
	off = atomic_fetch_add(&tail, len);
	if (k < MAX_COPY_NEST) {
		copies[k].off = off;
		atomic_signal_fence(memory_order_seq_cst);
		copies[k].len = len;
	}
	if (!base || off + len > MAP_SPAN) {
		*err = atomic_load(&dead) ? atomic_load(&dead) : EFBIG;
		ok = false;
	} else {
		ok = place(off, line, len, err);
	}
	if (k < MAX_COPY_NEST)
		n_copies = k;
	return ok;
}

/* Writers in a copy are counted, so that exit cuts the file only after
 * they are done (a cut line would be a malformed one). */
bool audit_sinkmap_write(const char *line, size_t len, int *err)
{
	bool ok;

	atomic_fetch_add(&copying, 1);
	ok = write_line(line, len, (uintptr_t)__builtin_frame_address(0), err);
	atomic_fetch_sub(&copying, 1);
	return ok;
}

/* A jump to the frame at `target_sp` abandons the copies this thread
 * started below it: each is finished here (the jump wrapper, still on the
 * handler's stack), and stops counting as in flight. */
void audit_sinkmap_unwind_to(uintptr_t target_sp)
{
	while (n_copies > 0 && copies[n_copies - 1].sp < target_sp) {
		struct copy c = copies[n_copies - 1];
		int err;

		if (c.len && base && c.off + c.len <= MAP_SPAN && !atomic_load(&dead))
			place(c.off, c.line, c.len, &err);
		n_copies--;
		atomic_fetch_sub(&copying, 1);
	}
}

void audit_sinkmap_after_fork(void)
{
	n_copies = 0;
}

/* From the SIGBUS handler: a fault at `addr` in this thread's copy into
 * the mapping means the file was cut under us.  Returns where to jump
 * (the sink is dead from now on), or NULL when it is not ours. */
sigjmp_buf *audit_sinkmap_fault(const void *addr)
{
	const char *a = addr;

	if (!copy_env || !base || a < base || a >= base + MAP_SPAN)
		return NULL;
	if (!atomic_exchange(&dead, ESTALE))
		audit_stderr("sigshim: the mmap log was truncated or cut by another process; "
			     "later events are counted, not written\n");
	return copy_env;
}

/* At exit: cut the file back to what was written, and keep the mapping:
 * other threads may still be copying a line in (unmapping under them
 * crashed them), and every byte reserved so far stays inside the cut
 * file.  Later writers find the sink dead and count their events.
 * After fork: only drop the parent's mapping (the parent still writes
 * it; the child has no other thread). */
void audit_sinkmap_close(bool truncate_file)
{
	if (!base)
		return;
	if (truncate_file) {
		size_t end;
		int fd;

		/* a file cut by someone else is left as they left it */
		int was = atomic_exchange(&dead, ESHUTDOWN);

		/* copies already started finish first (bounded: a thread
		 * that will never come back must not hold exit) */
		for (int i = 0; atomic_load(&copying) > 0 && i < 1000; i++) {
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
		}
		end = atomic_exchange(&tail, MAP_SPAN);
		fd = was == ESTALE ? -1 : reopen();
		if (fd >= 0) {
			/* If this fails the padding stays; readers skip it. */
			(void)!ftruncate(fd, (off_t)end);
			audit_raw_close(fd);
		}
		return;
	}
	munmap(base, MAP_SPAN);
	base = NULL;
}

bool audit_sinkmap_vanished(void)
{
	struct stat sb;

	return base && (stat(path, &sb) < 0 || sb.st_dev != dev || sb.st_ino != ino);
}
