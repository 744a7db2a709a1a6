/* Signal delivery latency: from just before the send to the first
 * instruction of the program's handler.
 *
 *   bench-latency SCENARIO SAMPLES [nopin]
 *
 * SCENARIO is one of
 *   read        main pthread_kill()s a worker blocked in read() on an empty pipe
 *   sigsuspend  main pthread_kill()s a worker waiting in sigsuspend()
 *   busy        main pthread_kill()s a worker spinning in user space
 *   process     a worker kill(getpid())s; main spins in user space
 *
 * The sender stores t0 (CLOCK_MONOTONIC) just before the send; the handler
 * stores t1 first thing, then raises `done`.  The sender waits for `done`,
 * for the target to be back in its waiting state, and 30 us more, so each
 * sample starts from the same state.  Natively a thread-directed handler runs
 * on the worker; under mode=enforce it runs on the main thread (forwarded):
 * on_main counts the samples whose handler ran on main, which says which
 * path was measured.  Output: one line of key=value pairs. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SETTLE_NS 30000
#define TIMEOUT_NS 2000000000LL
#define WARMUP 100

enum scenario { SC_READ, SC_SIGSUSPEND, SC_BUSY, SC_PROCESS };

static enum scenario sc;
static pthread_t main_thread, worker_thread;
static atomic_llong t1;
static atomic_int done, ready, on_main, stop;
static int pipe_fd[2];
static long nsamples;
static int64_t *lat;
static long timeouts;
static int no_pin;

static void on_usr1(int sig)
{
	atomic_store(&t1, bench_now_ns());
	(void)sig;
	if (pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&on_main, 1);
	atomic_store(&done, 1);
}

static int parse_scenario(const char *s, enum scenario *out)
{
	static const char *const names[] = { "read", "sigsuspend", "busy", "process" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum scenario)i;
			return 0;
		}
	}
	return -1;
}

/* Main on CPU 0, the other thread on CPU 1: every sample crosses CPUs, and
 * the scheduler's placement (same CPU now, other CPU next run) does not
 * split runs into two populations (p50 5 us in one run, 20 us in the next).
 * The price: a pinned thread cannot flee a CPU that another process holds,
 * so p99 shows every millisecond someone else runs there.  No-op on a
 * single CPU or with "nopin". */
static void pin(int cpu)
{
	cpu_set_t set;

	if (no_pin || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* The target's waiting states.  `ready` is raised just before it waits. */
static void *target(void *arg)
{
	sigset_t usr1, none;
	char c;

	(void)arg;
	pin(1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	if (sc == SC_SIGSUSPEND)
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	while (!atomic_load(&stop)) {
		atomic_store(&ready, 1);
		if (sc == SC_READ) {
			if (read(pipe_fd[0], &c, 1) == 0)
				break;
		} else if (sc == SC_SIGSUSPEND) {
			sigsuspend(&none);
		}
	}
	return NULL;
}

/* One sample: settle, stamp, send, wait.  Returns the latency or -1. */
static int64_t one_sample(void)
{
	int64_t t0, start;

	while (!atomic_load(&ready))
		;
	if (sc == SC_READ || sc == SC_SIGSUSPEND)
		atomic_store(&ready, 0);
	bench_spin_ns(SETTLE_NS);
	atomic_store(&done, 0);
	t0 = bench_now_ns();
	if (sc == SC_PROCESS)
		kill(getpid(), SIGUSR1);
	else
		pthread_kill(worker_thread, SIGUSR1);
	start = bench_now_ns();
	while (!atomic_load(&done)) {
		if (bench_now_ns() - start > TIMEOUT_NS)
			return -1;
	}
	return atomic_load(&t1) - t0;
}

static void run_samples(void)
{
	long n = 0;

	for (long i = 0; i < WARMUP + nsamples; i++) {
		int64_t l = one_sample();

		if (l < 0) {
			timeouts++;
			if (timeouts > 3)
				break;
			continue;
		}
		if (i >= WARMUP)
			lat[n++] = l;
	}
	nsamples = n;
}

/* process scenario: the worker sends, main spins until it has finished. */
static void *process_sender(void *arg)
{
	(void)arg;
	pin(1);
	run_samples();
	atomic_store(&stop, 1);
	return NULL;
}

static void setup_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;    /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || parse_scenario(argv[1], &sc) < 0 || atol(argv[2]) < 1 ||
	    (argc == 4 && strcmp(argv[3], "nopin") != 0)) {
		fprintf(stderr, "usage: %s read|sigsuspend|busy|process SAMPLES [nopin]\n", argv[0]);
		return 2;
	}
	nsamples = atol(argv[2]);
	no_pin = argc == 4;
	lat = calloc((size_t)nsamples, sizeof *lat);
	main_thread = pthread_self();
	pin(0);
	setup_handler();                /* from main: enforce denies it elsewhere */
	if (pipe(pipe_fd) < 0) {
		perror("pipe");
		return 1;
	}
	if (sc == SC_PROCESS) {
		atomic_store(&ready, 1);
		pthread_create(&worker_thread, NULL, process_sender, NULL);
		while (!atomic_load(&stop))
			;
		pthread_join(worker_thread, NULL);
	} else {
		pthread_create(&worker_thread, NULL, target, NULL);
		run_samples();
		atomic_store(&stop, 1);
		close(pipe_fd[1]);
		pthread_kill(worker_thread, SIGUSR1);
		pthread_join(worker_thread, NULL);
	}
	if (nsamples < 1) {
		printf("scenario=%s samples=0 timeouts=%ld\n", argv[1], timeouts);
		return 1;
	}
	printf("scenario=%s samples=%ld p50_ns=%lld p99_ns=%lld on_main=%d timeouts=%ld\n",
	       argv[1], nsamples, (long long)bench_quantile(lat, (size_t)nsamples, 0.5),
	       (long long)bench_quantile(lat, (size_t)nsamples, 0.99),
	       atomic_load(&on_main), timeouts);
	return timeouts ? 1 : 0;
}
