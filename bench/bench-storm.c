/* Real-time signal storm: THREADS workers each pthread_sigqueue() SIGRTMIN
 * to themselves PER_THREAD times; the handler counts.  Every instance of a
 * real-time signal must run the handler exactly once, so the count must
 * match.
 *
 *   bench-storm THREADS PER_THREAD
 *
 * Natively each handler runs on its worker as the send returns; under
 * mode=enforce it runs on the main thread, which waits in pthread_join().
 * The run ends when the count is complete, or after 3 s without progress;
 * handled_per_s is the count over the time from the common start to the
 * last handler.  A send refused with EAGAIN (queue full) is retried after a
 * yield and counted in eagain.  Output: one line of key=value pairs. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define STALL_NS 3000000000LL

static pthread_t main_thread;
static atomic_long handled, handled_on_main, eagain, send_errors;
static atomic_llong t_last;
static atomic_int go;
static long per_thread;

static void on_rt(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
	if (pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&handled_on_main, 1);
	atomic_store(&t_last, bench_now_ns());
}

static void *sender(void *arg)
{
	pthread_t self = pthread_self();

	(void)arg;
	while (!atomic_load(&go))
		;
	for (long i = 0; i < per_thread; i++) {
		union sigval v = { .sival_int = (int)i };
		int r;

		while ((r = pthread_sigqueue(self, SIGRTMIN, v)) == EAGAIN) {
			atomic_fetch_add(&eagain, 1);
			sched_yield();
		}
		if (r != 0)
			atomic_fetch_add(&send_errors, 1);
	}
	return NULL;
}

/* Waits for the count to be complete or to stop moving. */
static void wait_count(long want)
{
	long last = -1;
	int64_t since = bench_now_ns();

	while (atomic_load(&handled) < want) {
		long now = atomic_load(&handled);

		if (now != last) {
			last = now;
			since = bench_now_ns();
		} else if (bench_now_ns() - since > STALL_NS) {
			return;
		}
		usleep(1000);
	}
}

int main(int argc, char **argv)
{
	int nthreads = argc == 3 ? atoi(argv[1]) : 0;
	pthread_t th[16];
	struct sigaction sa;
	int64_t t0;
	long want;

	per_thread = argc == 3 ? atol(argv[2]) : 0;
	if (nthreads < 1 || nthreads > 16 || per_thread < 1) {
		fprintf(stderr, "usage: %s THREADS PER_THREAD\n", argv[0]);
		return 2;
	}
	want = nthreads * per_thread;
	main_thread = pthread_self();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_rt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, sender, NULL);
	bench_spin_ns(2000000);
	t0 = bench_now_ns();
	atomic_store(&go, 1);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	wait_count(want);
	printf("sent=%ld handled=%ld shortfall=%ld on_main=%ld eagain=%ld send_errors=%ld "
	       "elapsed_s=%.4f handled_per_s=%.0f\n",
	       want, atomic_load(&handled), want - atomic_load(&handled),
	       atomic_load(&handled_on_main), atomic_load(&eagain),
	       atomic_load(&send_errors), (double)(atomic_load(&t_last) - t0) / 1e9,
	       (double)atomic_load(&handled) / ((double)(atomic_load(&t_last) - t0) / 1e9));
	return atomic_load(&handled) == want ? 0 : 1;
}
