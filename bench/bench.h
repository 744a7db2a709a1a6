/* Helpers shared by the benchmark programs: a monotonic clock in
 * nanoseconds, a spin wait, and order statistics.  Header-only so that
 * each program stays one file plus this. */
#ifndef SIGSHIM_BENCH_H
#define SIGSHIM_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* async-signal-safe: clock_gettime is on the POSIX list (vDSO here). */
static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void bench_spin_ns(int64_t ns)
{
	int64_t end = bench_now_ns() + ns;

	while (bench_now_ns() < end)
		;
}

static int bench_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v[0..n), by nearest rank; sorts v. */
static inline int64_t bench_quantile(int64_t *v, size_t n, double q)
{
	size_t i;

	qsort(v, n, sizeof *v, bench_cmp_i64);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* Starts n threads running fn (they wait for *go), lets them settle,
 * releases them together and returns the wall time until all have
 * finished, in ns. */
static inline int64_t bench_run_threads(int n, void *(*fn)(void *), atomic_int *go)
{
	pthread_t th[16];
	int64_t t0;

	if (n > 16)
		n = 16;
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, fn, NULL);
	bench_spin_ns(2000000);
	t0 = bench_now_ns();
	atomic_store(go, 1);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return bench_now_ns() - t0;
}

#endif
