/* The log writer's soak (issue 10): for SOAK_MS milliseconds, 8 threads
 * make logged calls as fast as they can while other threads fork (the
 * children log, then _exit or exec this program as "child"), cancel
 * threads in the middle of logged calls, dup2 onto the numbers the log
 * sits at, and the main thread's SIGALRM handler siglongjmps out of the
 * logged calls it interrupts.
 *
 *   soak MS [WHAT] prints "soak ok" and counts that do not depend on timing;
 *                  WHAT is "all" (default), "jump" (loggers and main's
 *                  jumps only) or "dup" (loggers and dup2 only)
 *   soak child     an exec'd child: a few logged calls, exit 0
 *
 * Everything is bounded: a hang is the failure the test looks for. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static atomic_int children_bad;
static atomic_int forks;

static void logged_calls(int n)
{
	sigset_t s;
	struct sigaction old;

	sigemptyset(&s);
	for (int i = 0; i < n; i++) {
		pthread_sigmask(SIG_BLOCK, &s, NULL);
		sigaction(SIGUSR2, NULL, &old);
		kill(getpid(), 0);
	}
}

/* Loggers pause between bursts (arg != NULL): what matters is that
 * writes overlap forks, cancels, relocations and jumps, not their volume
 * (sigaudit must read every log in a test's time). */
static void *logger(void *arg)
{
	struct timespec ts = { 0, 4000000 };

	while (!atomic_load(&stop)) {
		logged_calls(16);
		if (arg)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *forker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int exec_it = atomic_fetch_add(&forks, 1) % 2;
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			logged_calls(20);
			if (exec_it)
				execl("/proc/self/exe", "soak", "child", (char *)NULL);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			atomic_fetch_add(&children_bad, 1);
	}
	return NULL;
}

static void *doomed(void *arg)
{
	struct timespec ts = { 0, 50000 };

	(void)arg;
	for (;;) {
		logged_calls(8);
		pthread_testcancel();
		nanosleep(&ts, NULL);   /* a cancellation point too */
	}
	return NULL;
}

static void *canceller(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		pthread_t t;
		struct timespec ts = { 0, 300000 };

		pthread_create(&t, NULL, doomed, NULL);
		nanosleep(&ts, NULL);
		pthread_cancel(t);
		pthread_join(t, NULL);
	}
	return NULL;
}

/* dup2 onto the numbers a log may hold (1000 and up), then close them:
 * the log must move out of the way every time. */
static void *duper(void *arg)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct timespec ts = { 0, 200000 };

	while (!atomic_load(&stop)) {
		for (int k = 1000; k < 1004; k++)
			if (dup2(fd, k) == k)
				close(k);
		logged_calls(4);
		if (arg)
			nanosleep(&ts, NULL);
	}
	close(fd);
	return NULL;
}

/* A hang is the failure the test looks for: said, and ended, well inside
 * the test's timeout (the raw system calls: nothing the shim wraps). */
static void *watchdog(void *arg)
{
	struct timespec ts = { (long)arg / 1000 + 20, 0 };
	static const char msg[] = "soak hung\n";

	nanosleep(&ts, NULL);
	syscall(SYS_write, 1, msg, sizeof msg - 1);
	syscall(SYS_exit_group, 3);
	return NULL;
}

static sigjmp_buf alarm_env;
static volatile sig_atomic_t armed;

static void on_alarm(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(alarm_env, 1);
}

int main(int argc, char **argv)
{
	pthread_t t[12];
	struct itimerval it = { { 0, 700 }, { 0, 700 } };
	struct timespec start, now;
	long ms;
	sigset_t alrm;
	int n = 0;
	volatile int jumps = 0;

	if (argc == 2 && strcmp(argv[1], "child") == 0) {
		logged_calls(10);
		return 0;
	}
	ms = argc > 1 ? atol(argv[1]) : 2000;
	const char *what = argc > 2 ? argv[2] : "all";
	bool all = strcmp(what, "all") == 0, jump = all || strcmp(what, "jump") == 0,
	     dup = all || strcmp(what, "dup") == 0;

	signal(SIGALRM, on_alarm);
	/* SIGALRM is process-directed: only main may take it (its handler
	 * jumps into main's frame), so every other thread starts blocking it. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	pthread_t wd;
	pthread_create(&wd, NULL, watchdog, (void *)ms);
	pthread_detach(wd);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[n++], NULL, logger, strcmp(what, "dup") == 0 ? NULL : (void *)1);
	if (all) {
		pthread_create(&t[n++], NULL, forker, NULL);
		pthread_create(&t[n++], NULL, canceller, NULL);
	}
	if (dup)
		pthread_create(&t[n++], NULL, duper, all ? (void *)1 : NULL);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	if (jump)
		setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
			break;
		if (sigsetjmp(alarm_env, 1)) {
			armed = 0;
			jumps++;
			continue;
		}
		armed = 1;
		logged_calls(4);
		armed = 0;
		if (all) {   /* a pause: the volume sigaudit must read stays small */
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
		}
	}
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("soak ok, bad children %d, jumped %s\n", atomic_load(&children_bad),
	       jumps > 0 || !jump ? "yes" : "no");
	return 0;
}
