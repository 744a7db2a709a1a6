/* Regression programs for bugs found in review of the enforce path.  Each
 * scenario prints what it observed; the test compares the output under the
 * shim (mode=enforce and mode=audit) with the native run.
 *
 *   lost-ign   SIG_IGN then the handler again, while a forwarded instance
 *              waits for a main thread that blocks the signal: the
 *              doorbell was discarded by the kernel and no forwarded
 *              handler ever ran again.
 *   lost-dfl   SIG_DFL while one waits, then unblock: the doorbell met
 *              SIG_DFL and killed the process.
 *   nodefer    SA_NODEFER with 1000 queued instances: handlers nested once
 *              per instance, newest first.
 *   ufork      a child made by _Fork() from a worker: its handler never ran.
 *   reset      SA_RESETHAND after siginterrupt(sig, 0): the reset dropped
 *              the SA_RESTART that siginterrupt had set. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern pid_t _Fork(void);

static atomic_int runs, ready, go, depth, maxdepth, cnt;
static int order[1000];

static void h_count(int sig)
{
	(void)sig;
	atomic_fetch_add(&runs, 1);
}

static void *idle_worker(void *arg)
{
	(void)arg;
	atomic_store(&ready, 1);
	while (!atomic_load(&go))
		usleep(1000);
	return NULL;
}

static pthread_t start_worker(void)
{
	pthread_t t;

	pthread_create(&t, NULL, idle_worker, NULL);
	while (!atomic_load(&ready))
		usleep(1000);
	return t;
}

static void block(int how, int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

/* One instance forwarded and waiting (main blocks it), then a change of
 * disposition; natively the worker ran it at once. */
static int lost(int dfl)
{
	pthread_t t = start_worker();

	signal(SIGUSR1, h_count);
	block(SIG_BLOCK, SIGUSR1);
	pthread_kill(t, SIGUSR1);
	usleep(100000);
	signal(SIGUSR1, dfl ? SIG_DFL : SIG_IGN);
	if (!dfl)
		signal(SIGUSR1, h_count);
	block(SIG_UNBLOCK, SIGUSR1);
	usleep(100000);
	if (!dfl) {
		for (int i = 0; i < 10; i++) {
			pthread_kill(t, SIGUSR1);
			usleep(20000);
		}
		usleep(100000);
	}
	printf("alive, handler runs=%d\n", atomic_load(&runs));
	atomic_store(&go, 1);
	pthread_join(t, NULL);
	return 0;
}

static void h_order(int sig, siginfo_t *si, void *uc)
{
	int d = atomic_fetch_add(&depth, 1) + 1, n;

	(void)sig;
	(void)uc;
	if (d > atomic_load(&maxdepth))
		atomic_store(&maxdepth, d);
	n = atomic_fetch_add(&cnt, 1);
	if (n < 1000)
		order[n] = si->si_value.sival_int;
	atomic_fetch_sub(&depth, 1);
}

static int nodefer(void)
{
	struct sigaction sa;
	pthread_t t = start_worker();
	int inversions = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h_order;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGRTMIN, &sa, NULL);
	block(SIG_BLOCK, SIGRTMIN);
	for (int i = 0; i < 1000; i++) {
		union sigval v = { .sival_int = i };

		pthread_sigqueue(t, SIGRTMIN, v);
		usleep(50);
	}
	usleep(100000);
	block(SIG_UNBLOCK, SIGRTMIN);
	usleep(200000);
	for (int i = 1; i < atomic_load(&cnt) && i < 1000; i++)
		inversions += order[i] < order[i - 1];
	/* Under SA_NODEFER the kernel itself may run a newer instance first
	 * when several are pending at once (on a loaded machine, natively too:
	 * some inversions, a small depth).  The bug nested once per instance
	 * (depth ~1000, order fully reversed): the bounds tell the two apart
	 * without depending on the machine's load. */
	printf("ran %d, nested at most 16: %s, inversions under 25%%: %s\n", atomic_load(&cnt),
	       atomic_load(&maxdepth) <= 16 ? "yes" : "no", inversions < 250 ? "yes" : "no");
	atomic_store(&go, 1);
	pthread_join(t, NULL);
	return 0;
}

static atomic_int child_got;

static void h_child(int sig)
{
	(void)sig;
	atomic_store(&child_got, 1);
}

static void *fork_worker(void *arg)
{
	pid_t c = _Fork();
	int st;

	(void)arg;
	if (c == 0) {
		for (int i = 0; i < 200 && !atomic_load(&child_got); i++)
			usleep(10000);
		_exit(atomic_load(&child_got) ? 0 : 3);
	}
	usleep(50000);
	kill(c, SIGUSR1);
	waitpid(c, &st, 0);
	printf("_Fork child from a worker: handler %s\n", WEXITSTATUS(st) == 0 ? "ran" : "never ran");
	return NULL;
}

static int ufork(void)
{
	pthread_t t;

	signal(SIGUSR1, h_child);
	pthread_create(&t, NULL, fork_worker, NULL);
	pthread_join(t, NULL);
	return 0;
}

static void h_plain(int sig)
{
	(void)sig;
}

static int reset(void)
{
	struct sigaction sa, o;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h_plain;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGUSR1, &sa, NULL);
	siginterrupt(SIGUSR1, 0);
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &o);
	printf("after the one-shot: %s flags=%#x\n", o.sa_handler == SIG_DFL ? "SIG_DFL" : "?",
	       (unsigned)o.sa_flags);
	return 0;
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	if (strcmp(s, "lost-ign") == 0)
		return lost(0);
	if (strcmp(s, "lost-dfl") == 0)
		return lost(1);
	if (strcmp(s, "nodefer") == 0)
		return nodefer();
	if (strcmp(s, "ufork") == 0)
		return ufork();
	if (strcmp(s, "reset") == 0)
		return reset();
	fprintf(stderr, "usage: regress-review lost-ign|lost-dfl|nodefer|ufork|reset\n");
	return 2;
}
