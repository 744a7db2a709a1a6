/* The minimal form of a stop-the-world collector (Boehm GC's protocol on
 * Linux): main sends SUSPEND to a worker; the worker's handler posts a
 * semaphore and waits in sigsuspend until RESTART's handler has run; main
 * waits for the semaphore, then sends RESTART.  Natively it prints
 * "resumed".  The handler must run on the thread it was sent to: run on
 * main, it waits for a signal only main would send.
 *
 *   gc-suspend pwr    SUSPEND=SIGPWR, RESTART=SIGXCPU (Boehm GC's defaults)
 *   gc-suspend usr    SUSPEND=SIGUSR1, RESTART=SIGUSR2
 *
 * Every wait is bounded: a deadlock shows as "suspend-timeout" or
 * "restart-timeout" and exit status 1, and an alarm ends a handler stuck
 * in sigsuspend (exit by SIGALRM). */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int sig_suspend, sig_restart;
static sem_t acked;
static volatile sig_atomic_t resumed;
static atomic_int stop;

static void h_restart(int sig)
{
	(void)sig;
	resumed = 1;
}

static void h_suspend(int sig)
{
	sigset_t wait;

	(void)sig;
	resumed = 0;
	sem_post(&acked);
	sigfillset(&wait);
	sigdelset(&wait, sig_restart);
	sigdelset(&wait, SIGALRM);
	while (!resumed)
		sigsuspend(&wait);
}

static void *worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void install(int sig, void (*h)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, NULL);
}

static int timed_wait(sem_t *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(s, &ts) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int usr = argc > 1 && strcmp(argv[1], "usr") == 0;

	sig_suspend = usr ? SIGUSR1 : SIGPWR;
	sig_restart = usr ? SIGUSR2 : SIGXCPU;
	sem_init(&acked, 0, 0);
	install(sig_suspend, h_suspend);
	install(sig_restart, h_restart);
	alarm(10);
	pthread_create(&t, NULL, worker, NULL);
	for (int round = 0; round < 20; round++) {
		pthread_kill(t, sig_suspend);
		if (timed_wait(&acked, 3000) != 0) {
			printf("suspend-timeout\n");
			return 1;
		}
		pthread_kill(t, sig_restart);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	printf("resumed\n");
	return 0;
}
