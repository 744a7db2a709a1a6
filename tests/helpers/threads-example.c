/* The README's example: main installs a SIGUSR1 handler, worker w1 sends
 * SIGUSR1 to worker w2, and w2, once its handler has run, sends SIGUSR1 to
 * main.  Natively (and under mode=audit) each handler runs on the thread
 * the signal was sent to; Python's model wants every handler on main.
 *
 *   sigshim run -- ./threads-example
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static pthread_t main_thread, w1, w2;
static _Atomic int go, handled_on_w2, handled_on_main, handled;
static int w1_ret = -1, w2_ret = -1;

static void on_usr1(int sig)
{
	if (pthread_equal(pthread_self(), w2))
		atomic_store(&handled_on_w2, 1);
	else if (pthread_equal(pthread_self(), main_thread))
		atomic_store(&handled_on_main, 1);
	atomic_fetch_add(&handled, 1);
}

static void wait_for(_Atomic int *flag)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 10000 && !atomic_load(flag); i++)
		nanosleep(&ms, NULL);
}

static void wait_until(_Atomic int *counter, int n)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 10000 && atomic_load(counter) < n; i++)
		nanosleep(&ms, NULL);
}

static void *worker1(void *arg)
{
	wait_for(&go);
	w1_ret = pthread_kill(w2, SIGUSR1);
	return NULL;
}

static void *worker2(void *arg)
{
	wait_for(&go);
	wait_for(&handled);   /* w1's signal was handled, wherever it ran */
	w2_ret = pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	main_thread = pthread_self();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&w1, NULL, worker1, NULL);
	pthread_create(&w2, NULL, worker2, NULL);
	/* ids for the tests, on stderr: the transcript stays deterministic */
	fprintf(stderr, "@thread main %lu\n@thread w1 %lu\n@thread w2 %lu\n",
		(unsigned long)main_thread, (unsigned long)w1, (unsigned long)w2);
	atomic_store(&go, 1);
	pthread_join(w1, NULL);
	pthread_join(w2, NULL);
	wait_until(&handled, 2);   /* main's own signal too */
	printf("w1: pthread_kill(w2, SIGUSR1) = %d\n", w1_ret);
	printf("w2: pthread_kill(main, SIGUSR1) = %d\n", w2_ret);
	printf("handler ran on w2: %s\n", handled_on_w2 ? "yes" : "no");
	printf("handler ran on main: %s\n", handled_on_main ? "yes" : "no");
	return handled_on_w2 && handled_on_main ? 0 : 1;
}
