/* The two sink designs, without the shim and without formatting: what one
 * 200-byte event line costs to append.
 *
 *   bench-sink write|mmap|mmap_prefault PATH EVENTS [THREADS]
 *
 * write: one write(2) per line on an O_APPEND descriptor (what the shim does).
 * mmap:  the file is sized up front and mapped MAP_SHARED; a writer claims
 *        its range with one atomic add and copies the line in.  The page
 *        cache holds what was copied, so a crash of the process loses
 *        nothing that was appended (a crash of the machine may).
 * Page faults of the mapping's first touch are part of the measured cost;
 * mmap_prefault writes the whole mapping once before timing (MAP_POPULATE
 * would not do: it maps a shared file read-only, and the first store still
 * faults), the floor of a sink that faults its next chunk in ahead of need.
 * Output: one line of key=value pairs; the file is removed afterwards. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define LINE_LEN 200

static char line[LINE_LEN];
static int fd = -1;
static char *map;
static atomic_size_t offset;
static long per_thread;
static atomic_int go;
static int use_mmap, prefault;
static atomic_long short_writes;

static void append(void)
{
	if (use_mmap) {
		size_t at = atomic_fetch_add_explicit(&offset, LINE_LEN, memory_order_relaxed);

		memcpy(map + at, line, LINE_LEN);
	} else if (write(fd, line, LINE_LEN) != LINE_LEN) {
		atomic_fetch_add(&short_writes, 1);
	}
}

static void *writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		;
	for (long i = 0; i < per_thread; i++)
		append();
	return NULL;
}

static int open_sink(const char *path, size_t bytes)
{
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | (use_mmap ? 0 : O_APPEND), 0600);
	if (fd < 0)
		return -1;
	if (!use_mmap)
		return 0;
	if (ftruncate(fd, (off_t)bytes) < 0)
		return -1;
	map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	if (prefault)
		memset(map, ' ', bytes);
	return 0;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 4 ? atoi(argv[4]) : 1;
	long events = argc > 3 ? atol(argv[3]) : 0;
	int64_t wall;

	if (argc < 4 || (strcmp(argv[1], "write") && strncmp(argv[1], "mmap", 4)) ||
	    events < 1 || nthreads < 1 || nthreads > 16) {
		fprintf(stderr, "usage: %s write|mmap|mmap_prefault PATH EVENTS [THREADS]\n", argv[0]);
		return 2;
	}
	use_mmap = strncmp(argv[1], "mmap", 4) == 0;
	prefault = strcmp(argv[1], "mmap_prefault") == 0;
	per_thread = events / nthreads;
	memset(line, 'x', sizeof line - 1);
	line[LINE_LEN - 1] = '\n';
	if (open_sink(argv[2], (size_t)per_thread * (size_t)nthreads * LINE_LEN) < 0) {
		perror(argv[2]);
		return 1;
	}
	wall = bench_run_threads(nthreads, writer, &go);
	printf("sink=%s threads=%d events=%ld ns_per_event=%.1f events_per_s=%.0f short_writes=%ld\n",
	       argv[1], nthreads, per_thread * nthreads,
	       (double)wall * nthreads / (double)(per_thread * nthreads),
	       (double)(per_thread * nthreads) / ((double)wall / 1e9), atomic_load(&short_writes));
	if (map)
		munmap(map, (size_t)per_thread * (size_t)nthreads * LINE_LEN);
	close(fd);
	unlink(argv[2]);
	return 0;
}
