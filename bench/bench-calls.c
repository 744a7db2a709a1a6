/* Per-call cost of the signal API, and event-sink throughput.
 *
 *   bench-calls OP CALLS BATCHES [THREADS]
 *
 * OP is one of
 *   mask        pthread_sigmask(SIG_BLOCK, <empty set>, NULL)
 *   sa_query    sigaction(SIGUSR1, NULL, &old)
 *   sa_install  sigaction(SIGUSR1, &same, NULL), the same handler each time
 *   kill0       pthread_kill(t, 0), t a live thread parked in read()
 *
 * With one thread the CALLS calls are timed in BATCHES equal batches (after
 * one untimed warm-up batch) and ns_per_call is the median batch: robust to
 * a noisy neighbour taking the CPU for part of the run.  With more threads
 * each thread makes CALLS calls and calls_per_s is the total over the wall
 * time from a common start to the last thread's end.
 *
 * The program knows nothing of the shim: the runner starts it natively,
 * under LD_PRELOAD, or under strace/ltrace.  Output is one line of
 * key=value pairs. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

enum op { OP_MASK, OP_SA_QUERY, OP_SA_INSTALL, OP_KILL0 };

static enum op op;
static pthread_t target;
static sigset_t empty;
static struct sigaction same;
static long calls, batches;
static atomic_int go;
static atomic_long failures;

static void on_usr1(int sig)
{
	(void)sig;
}

static int parse_op(const char *s, enum op *out)
{
	static const char *const names[] = { "mask", "sa_query", "sa_install", "kill0" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum op)i;
			return 0;
		}
	}
	return -1;
}

static void run_calls(long n)
{
	struct sigaction old;
	long bad = 0;

	for (long i = 0; i < n; i++) {
		switch (op) {
		case OP_MASK:
			bad += pthread_sigmask(SIG_BLOCK, &empty, NULL) != 0;
			break;
		case OP_SA_QUERY:
			bad += sigaction(SIGUSR1, NULL, &old) != 0;
			break;
		case OP_SA_INSTALL:
			bad += sigaction(SIGUSR1, &same, NULL) != 0;
			break;
		case OP_KILL0:
			bad += pthread_kill(target, 0) != 0;
			break;
		}
	}
	if (bad)
		atomic_fetch_add(&failures, bad);
}

/* The target of pthread_kill(t, 0): parked in read() until the pipe's
 * write end is closed. */
static void *parked(void *arg)
{
	char c;
	int fd = *(int *)arg;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void *worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		;
	run_calls(calls);
	return NULL;
}

/* One thread: median and minimum batch, in ns per call. */
static void measure_one(void)
{
	long per = calls / batches;
	int64_t *v = calloc((size_t)batches, sizeof *v), t0, wall;
	int64_t lo;

	run_calls(per);         /* warm-up: shim init, libunwind caches */
	t0 = bench_now_ns();
	for (long b = 0; b < batches; b++) {
		int64_t s = bench_now_ns();

		run_calls(per);
		v[b] = bench_now_ns() - s;
	}
	wall = bench_now_ns() - t0;
	lo = bench_quantile(v, (size_t)batches, 0.0);
	printf("ns_per_call=%.2f ns_min=%.2f calls=%ld wall_s=%.4f calls_per_s=%.0f",
	       (double)bench_quantile(v, (size_t)batches, 0.5) / (double)per,
	       (double)lo / (double)per, per * batches, (double)wall / 1e9,
	       (double)(per * batches) / ((double)wall / 1e9));
	free(v);
}

static void measure_threads(int nthreads)
{
	int64_t wall;

	calls /= nthreads;
	wall = bench_run_threads(nthreads, worker, &go);
	printf("calls=%ld wall_s=%.4f calls_per_s=%.0f ns_per_call=%.2f",
	       calls * nthreads, (double)wall / 1e9,
	       (double)(calls * nthreads) / ((double)wall / 1e9),
	       (double)wall / (double)calls);
}

int main(int argc, char **argv)
{
	int nthreads = argc > 4 ? atoi(argv[4]) : 1;
	int pfd[2];

	if (argc < 4 || parse_op(argv[1], &op) < 0 || nthreads < 1 || nthreads > 16) {
		fprintf(stderr, "usage: %s mask|sa_query|sa_install|kill0 CALLS BATCHES [THREADS]\n", argv[0]);
		return 2;
	}
	calls = atol(argv[2]);
	batches = atol(argv[3]);
	if (calls < 1 || batches < 1 || batches > calls) {
		fprintf(stderr, "%s: need 1 <= BATCHES <= CALLS\n", argv[0]);
		return 2;
	}
	sigemptyset(&empty);
	memset(&same, 0, sizeof same);
	same.sa_handler = on_usr1;
	sigemptyset(&same.sa_mask);
	sigaction(SIGUSR1, &same, NULL);
	if (pipe(pfd) < 0 || pthread_create(&target, NULL, parked, &pfd[0]) != 0) {
		perror("bench-calls: setup");
		return 1;
	}
	printf("op=%s threads=%d ", argv[1], nthreads);
	if (nthreads == 1)
		measure_one();
	else
		measure_threads(nthreads);
	printf(" failures=%ld\n", atomic_load(&failures));
	close(pfd[1]);
	pthread_join(target, NULL);
	return atomic_load(&failures) ? 1 : 0;
}
