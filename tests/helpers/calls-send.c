/* Sending signals: raise, gsignal, kill, tgkill, sigqueue, pthread_kill
 * (both symbol versions), pthread_sigqueue.  Handlers record si_code,
 * si_value and the thread that ran them.  Prints a deterministic
 * transcript (transcript.h). */
#include "transcript.h"

#include <errno.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* pthread_kill@GLIBC_2.2.5 returns ESRCH for an exited thread, the
 * default pthread_kill@@GLIBC_2.34 returns 0. */
extern int old_pthread_kill(pthread_t, int);
__asm__(".symver old_pthread_kill, pthread_kill@GLIBC_2.2.5");
extern int gsignal(int);

#define NO_SUCH_PID 0x3fffffff   /* above any pid_max */

static void h_info(int sig, siginfo_t *si, void *uc)
{
	tr_record("h_info", sig, si);
}

/* Calls an interposed function from inside a handler (in_handler). */
static void h_query(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	tr_record("h_query", sig, si);
}

/* A fault handler that jumps back out, as language runtimes do. */
static sigjmp_buf fault_env;
static volatile int *volatile fault_addr = (volatile int *)16;

static void h_segv(int sig, siginfo_t *si, void *uc)
{
	tr_record("h_segv", sig, si);
	siglongjmp(fault_env, 1);
}

#define CALL(expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
	tr_ret(#expr, r_, e_); } while (0)
#define CALL_PT(expr) do { errno = 0; int r_ = (expr); int e_ = errno; \
	tr_ret_pt(#expr, r_, e_); } while (0)

static union sigval val(uintptr_t v)
{
	union sigval s;

	memset(&s, 0, sizeof s);
	s.sival_ptr = (void *)v;
	return s;
}

static void install(int sig)
{
	struct sigaction a;

	memset(&a, 0, sizeof a);
	a.sa_sigaction = sig == SIGTERM ? h_query : sig == SIGSEGV ? h_segv : h_info;
	a.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&a.sa_mask);
	if (sigaction(sig, &a, NULL) != 0)
		tr_printf("install %d failed\n", sig);
}

/* --- single-threaded: process-directed signals land on main ------------ */

static void process_directed(void)
{
	pid_t me = getpid();

	tr_printf("== process\n");
	CALL(raise(SIGUSR1));
	CALL(gsignal(SIGUSR2));
	CALL(raise(0));
	CALL(raise(65));
	CALL(kill(me, SIGUSR1));
	CALL(kill(me, 0));
	CALL(kill(0, 0));
	CALL(kill(me, 65));
	CALL(kill(me, -1));
	CALL(kill(NO_SUCH_PID, SIGUSR1));
	CALL(kill(NO_SUCH_PID, 0));
	CALL(kill(-NO_SUCH_PID, 0));
	CALL(tgkill(me, tr_gettid(), SIGUSR2));
	CALL(tgkill(me, tr_gettid(), 0));
	CALL(tgkill(me, NO_SUCH_PID, SIGUSR2));
	CALL(tgkill(me, tr_gettid(), 65));
	CALL(sigqueue(me, SIGUSR1, val(42)));
	CALL(sigqueue(me, SIGRTMIN + 2, val(0x123456789)));
	CALL(sigqueue(me, 0, val(1)));
	CALL(sigqueue(NO_SUCH_PID, SIGUSR1, val(7)));
	CALL(sigqueue(me, 65, val(7)));
	CALL_PT(pthread_kill(pthread_self(), SIGUSR2));
	CALL_PT(pthread_kill(pthread_self(), 0));
	CALL_PT(pthread_kill(pthread_self(), 65));
	CALL_PT(pthread_kill(pthread_self(), -1));
	CALL_PT(pthread_kill(pthread_self(), 32));
	CALL_PT(old_pthread_kill(pthread_self(), SIGUSR1));
	CALL_PT(old_pthread_kill(pthread_self(), 0));
	CALL_PT(pthread_sigqueue(pthread_self(), SIGUSR2, val(43)));
	CALL_PT(pthread_sigqueue(pthread_self(), SIGRTMIN + 2, val(44)));
	CALL_PT(pthread_sigqueue(pthread_self(), 65, val(45)));
	CALL(raise(SIGTERM));
}

/* --- kernel-generated signals: timer, child exit, fault ----------------- */

static void kernel_generated(void)
{
	struct sigevent sev;
	struct itimerspec its = { .it_value = { 0, 1000000 } };
	timer_t timer;
	int before = tr_count();

	tr_printf("== kernel\n");
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 3;
	sev.sigev_value = val(0x55);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0 ||
	    timer_settime(timer, 0, &its, NULL) != 0)
		tr_printf("timer failed\n");
	tr_wait_count(before + 1);
	tr_printf("timer expired\n");
	tr_flush();
	timer_delete(timer);

	pid_t child = fork();
	if (child == 0)
		_exit(5);
	fprintf(stderr, "@child %d\n", (int)child);
	tr_wait_count(before + 2);
	int st = 0;
	waitpid(child, &st, 0);
	tr_printf("child exited %d\n", WEXITSTATUS(st));
	tr_flush();

	if (sigsetjmp(fault_env, 1) == 0)
		*fault_addr = 1;
	tr_printf("recovered from the fault\n");
	tr_flush();
}

/* --- a live worker ------------------------------------------------------ */

static _Atomic int stop;
static _Atomic int worker_done;

static void *idle_worker(void *arg)
{
	struct timespec ts = { 0, 1000000 };
	sigset_t none;

	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	while (!atomic_load(&stop))
		nanosleep(&ts, NULL);
	return NULL;
}

/* The worker signals main; main waits for the handler to run. */
static void *sender_worker(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;

	pthread_kill(main_thread, SIGUSR1);
	pthread_sigqueue(main_thread, SIGUSR2, val(99));
	atomic_store(&worker_done, 1);
	return NULL;
}

static void live_worker(void)
{
	pthread_t t, s, self = pthread_self();
	sigset_t hs;

	tr_printf("== worker\n");
	/* Only thread-directed signals while the worker lives. */
	pthread_create(&t, NULL, idle_worker, NULL);
	tr_name_thread("t1", t);
	CALL_PT(pthread_kill(t, 0));
	int before = tr_count();
	CALL_PT(pthread_kill(t, SIGUSR1));
	tr_wait_count(before + 1);
	tr_flush();
	CALL_PT(pthread_sigqueue(t, SIGUSR2, val(77)));
	tr_wait_count(before + 2);
	tr_flush();
	CALL_PT(old_pthread_kill(t, SIGUSR1));
	tr_wait_count(before + 3);
	tr_flush();
	CALL_PT(pthread_kill(t, 65));
	atomic_store(&stop, 1);
	pthread_join(t, NULL);

	/* A worker signals main; main has both signals blocked until the
	 * worker is done, so delivery happens inside the unblocking call. */
	sigemptyset(&hs);
	sigaddset(&hs, SIGUSR1);
	sigaddset(&hs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &hs, NULL);
	pthread_create(&s, NULL, sender_worker, &self);
	tr_name_thread("t2", s);
	pthread_join(s, NULL);
	tr_printf("worker sent SIGUSR1 and SIGUSR2 to main\n");
	CALL_PT(pthread_sigmask(SIG_UNBLOCK, &hs, NULL));
}

/* --- an exited, not yet joined thread ------------------------------------ */

static _Atomic pid_t gone_tid;

static void *quick_exit_worker(void *arg)
{
	atomic_store(&gone_tid, tr_gettid());
	return NULL;
}

static void wait_task_gone(pid_t tid)
{
	char path[64];
	struct timespec ts = { 0, 1000000 };

	snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
	for (int i = 0; i < 10000 && access(path, F_OK) == 0; i++)
		nanosleep(&ts, NULL);
}

static void exited_thread(void)
{
	pthread_t t;
	struct timespec ts = { 0, 1000000 };

	tr_printf("== exited thread\n");
	pthread_create(&t, NULL, quick_exit_worker, NULL);
	tr_name_thread("t3", t);
	while (atomic_load(&gone_tid) == 0)
		nanosleep(&ts, NULL);
	wait_task_gone(atomic_load(&gone_tid));
	CALL_PT(old_pthread_kill(t, SIGUSR1));
	CALL_PT(old_pthread_kill(t, 0));
	CALL_PT(pthread_kill(t, SIGUSR1));
	CALL_PT(pthread_kill(t, 0));
	CALL_PT(pthread_sigqueue(t, SIGUSR1, val(5)));
	pthread_join(t, NULL);
}

int main(void)
{
	tr_init();
	TR_FN(h_info);
	TR_FN(h_query);
	TR_FN(h_segv);
	install(SIGUSR1);
	install(SIGRTMIN + 3);
	install(SIGCHLD);
	install(SIGSEGV);
	install(SIGTERM);
	install(SIGUSR2);
	install(SIGRTMIN + 2);
	process_directed();
	kernel_generated();
	live_worker();
	exited_thread();
	tr_printf("done\n");
	return 0;
}
