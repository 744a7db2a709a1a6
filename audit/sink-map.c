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
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink.h"

#define MAP_SPAN (1UL << 30)     /* virtual reservation: 1 GiB of log */
#define GROW_STEP (1UL << 20)

static char *base;
static char path[4096];
static dev_t dev;
static ino_t ino;
static atomic_size_t tail, alloc;

static int reopen(void)
{
	struct stat sb;
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

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
	if (fallocate(fd, 0, 0, (off_t)want) < 0 && (errno != EOPNOTSUPP ||
	    ftruncate(fd, (off_t)want) < 0))
		r = -errno;
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
	dev = sb.st_dev;
	ino = sb.st_ino;
	atomic_store(&tail, end);
	atomic_store(&alloc, end);
	return 0;
}

bool audit_sinkmap_write(const char *line, size_t len, int *err)
{
	size_t off = atomic_fetch_add(&tail, len);
	int r;

	if (!base || off + len > MAP_SPAN) {
		*err = EFBIG;
		return false;
	}
	r = grow(off + len);
	if (r < 0) {
		*err = -r;
		return false;   /* the reserved bytes stay NUL: readers skip them */
	}
	memcpy(base + off, line, len);
	return true;
}

/* At exit: cut the file back to what was written.  After fork: only drop
 * the parent's mapping (the parent still writes it). */
void audit_sinkmap_close(bool truncate_file)
{
	if (!base)
		return;
	if (truncate_file) {
		int fd = reopen();

		if (fd >= 0) {
			/* If this fails the padding stays; readers skip it. */
			(void)!ftruncate(fd, (off_t)atomic_load(&tail));
			audit_raw_close(fd);
		}
	}
	munmap(base, MAP_SPAN);
	base = NULL;
}

bool audit_sinkmap_vanished(void)
{
	struct stat sb;

	return base && (stat(path, &sb) < 0 || sb.st_dev != dev || sb.st_ino != ino);
}
