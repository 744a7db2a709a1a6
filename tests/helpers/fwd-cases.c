/* Forwarding regressions: the cases of the 2026-12 review of mode=enforce
 * (issue 8), one named case per run:
 *
 *   fwd-cases CASE
 *
 * Each case prints only what the program itself observed (handler runs,
 * what a wait returned, a child's status): never tids, pids or addresses.
 * Natively, under mode=audit and under mode=enforce the lines must be the
 * same (tests/integration/test-forwarding.c compares them); where the
 * model differs on purpose (where a handler runs) the case prints nothing
 * about it.  Every wait is bounded, so a lost delivery shows as a wrong
 * count, never as a hang.
 *
 * Setup "P" (most cases): main installs h for SIGUSR1 and blocks SIGUSR1;
 * workers start with an empty mask, so a worker's pthread_kill(self) is
 * received by the worker (natively it runs h there at once; under enforce
 * it is queued for main, which blocks it). */
#define _GNU_SOURCE 1
#include "transcript.h"
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int runs;            /* handler runs, all threads */
static atomic_int runs_parent;     /* by pid, for vfork */
static atomic_int runs_child;
static pid_t parent_pid;
static const char *self_path;

#define say tr_say

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits (bounded) until `n` runs have happened; returns the count.  On
 * main this sleeps in short steps, so forwarded handlers get to run. */
static int wait_runs(atomic_int *c, int n, long limit_ms)
{
	for (long t = 0; atomic_load(c) < n && t < limit_ms; t++)
		sleep_ms(1);
	return atomic_load(c);
}

static void h_count(int sig)
{
	(void)sig;
	atomic_fetch_add(&runs, 1);
	if (getpid() == parent_pid)
		atomic_fetch_add(&runs_parent, 1);
	else
		atomic_fetch_add(&runs_child, 1);
}

static void install(int sig, void (*h)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		say("sigaction %d failed: %s", sig, strerror(errno));
		exit(1);
	}
}

static void mask_one(int how, int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

/* --- workers ------------------------------------------------------------------ */

struct job {
	int sig;
	int times;
	int gap_ms;
};

static void *self_kill(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < j->times; i++) {
		pthread_kill(pthread_self(), j->sig);
		if (j->gap_ms)
			sleep_ms(j->gap_ms);
	}
	return NULL;
}

/* A worker with an empty mask receives `sig` from itself `times` times. */
static void worker_receipts(int sig, int times, int gap_ms)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t none;
	struct job j = { sig, times, gap_ms };

	sigemptyset(&none);
	pthread_attr_init(&a);
	pthread_attr_setsigmask_np(&a, &none);
	pthread_create(&t, &a, self_kill, &j);
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
}

static void setup_p(int sig)
{
	install(sig, h_count, 0);
	mask_one(SIG_BLOCK, sig);
}

/* --- 1. a lost doorbell must not disable forwarding -------------------------------- */

static int case_lost_doorbell_sigwait(void)
{
	sigset_t s;
	int got = 0;

	setup_p(SIGUSR1);
	raise(SIGUSR1);                  /* genuine, pending on main */
	worker_receipts(SIGUSR1, 1, 0);  /* natively: h on the worker */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigwait(&s, &got);               /* takes the genuine one */
	say("sigwait %s", got == SIGUSR1 ? "SIGUSR1" : "other");
	mask_one(SIG_UNBLOCK, SIGUSR1);
	worker_receipts(SIGUSR1, 4, 2);
	say("runs %d", wait_runs(&runs, 5, 3000));
	sleep_ms(20);
	say("runs-after-settle %d", atomic_load(&runs));
	return 0;
}

/* glibc's system() sets SIGINT/SIGQUIT to SIG_IGN internally (behind the
 * shim), which discards a pending SIGINT. */
static int case_lost_doorbell_system(void)
{
	setup_p(SIGINT);
	worker_receipts(SIGINT, 1, 0);
	say("system %d", system("true"));
	mask_one(SIG_UNBLOCK, SIGINT);
	worker_receipts(SIGINT, 3, 2);
	say("runs %d", wait_runs(&runs, 4, 3000));
	return 0;
}

/* --- 2. a genuine signal to main must not merge with a forward --------------------- */

static pthread_t main_thread;
static atomic_int go_round;
static atomic_int rounds_done;
static int n_rounds;
static atomic_int lost_rounds;

static void *merge_sender(void *arg)
{
	pthread_t worker = *(pthread_t *)arg;

	for (int i = 0; i < n_rounds; i++) {
		int before = atomic_load(&runs);

		pthread_kill(worker, SIGUSR1);
		pthread_kill(main_thread, SIGUSR1);
		if (wait_runs(&runs, before + 2, 300) < before + 2) {
			if (atomic_fetch_add(&lost_rounds, 1) >= 5)
				break;   /* enough to tell */
			/* resynchronise: a late run belongs to this round */
			sleep_ms(5);
			atomic_store(&runs, before + 2);
		}
	}
	atomic_store(&rounds_done, 1);
	return NULL;
}

static void *idle_worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&rounds_done))
		sleep_ms(1);
	return NULL;
}

static int case_merge_genuine(void)
{
	pthread_t w, s;

	install(SIGUSR1, h_count, 0);
	main_thread = pthread_self();
	n_rounds = 2000;
	pthread_create(&w, NULL, idle_worker, NULL);
	pthread_create(&s, NULL, merge_sender, &w);
	while (!atomic_load(&rounds_done))
		sleep_ms(1);
	pthread_join(s, NULL);
	pthread_join(w, NULL);
	say("lost-rounds %d", atomic_load(&lost_rounds));
	return 0;
}

/* Main blocks SIGUSR1 and waits for the genuine one while a worker
 * receives another: the wait gets the genuine one, the worker's runs. */
static void *merge_sigwait_sender(void *arg)
{
	pthread_t worker = *(pthread_t *)arg;

	for (int i = 0; i < n_rounds; i++) {
		while (atomic_load(&go_round) != i + 1)
			if (atomic_load(&go_round) < 0)
				return NULL;
		pthread_kill(worker, SIGUSR1);
		pthread_kill(main_thread, SIGUSR1);
	}
	return NULL;
}

static int case_merge_sigwait(void)
{
	pthread_t w, s;
	sigset_t set;
	struct timespec to = { 1, 0 };
	int waited = 0, timeouts = 0;

	install(SIGUSR1, h_count, 0);
	main_thread = pthread_self();
	n_rounds = 200;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_create(&w, NULL, idle_worker, NULL);
	pthread_create(&s, NULL, merge_sigwait_sender, &w);
	for (int i = 0; i < n_rounds; i++) {
		int before = atomic_load(&runs);

		mask_one(SIG_BLOCK, SIGUSR1);
		atomic_store(&go_round, i + 1);
		if (sigtimedwait(&set, NULL, &to) == SIGUSR1)
			waited++;
		else if (++timeouts >= 3)
			break;   /* enough to tell */
		mask_one(SIG_UNBLOCK, SIGUSR1);
		if (wait_runs(&runs, before + 1, 1000) < before + 1 &&
		    atomic_fetch_add(&lost_rounds, 1) >= 3)
			break;   /* enough to tell */
	}
	atomic_store(&rounds_done, 1);
	atomic_store(&go_round, -1);
	pthread_join(s, NULL);
	pthread_join(w, NULL);
	say("waited %d timeouts %d lost-rounds %d", waited, timeouts, atomic_load(&lost_rounds));
	return 0;
}

/* --- 3. abort() and assert() on a worker: the crash handler runs there ------------- */

static void h_crash(int sig)
{
	static const char msg[] = "crash handler ran\n";

	(void)sig;
	if (write(1, msg, sizeof msg - 1) < 0)
		_exit(98);
	_exit(3);
}

static void *aborter(void *arg)
{
	if (arg)
		assert(arg == NULL);
	abort();
}

static int crash_children(int use_assert)
{
	int ok = 0;

	for (int i = 0; i < 30; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			pthread_t t;

			install(SIGABRT, h_crash, 0);
			/* an assert message on stderr is not part of the transcript */
			if (use_assert && freopen("/dev/null", "w", stderr) == NULL)
				_exit(97);
			pthread_create(&t, NULL, aborter, use_assert ? &ok : NULL);
			pthread_join(t, NULL);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 3;
	}
	return ok;
}

static int case_abort_worker(void)
{
	say("crash-handler-exits %d/30", crash_children(0));
	return 0;
}

static int case_assert_worker(void)
{
	say("crash-handler-exits %d/30", crash_children(1));
	return 0;
}

/* --- 4. SIG_IGN installed, or a second SA_RESETHAND receipt, while queued ---------- */

static int case_ign_while_queued(void)
{
	setup_p(SIGUSR1);
	worker_receipts(SIGUSR1, 1, 0);  /* natively: h runs */
	install(SIGUSR1, SIG_IGN, 0);
	worker_receipts(SIGUSR1, 1, 0);  /* ignored */
	mask_one(SIG_UNBLOCK, SIGUSR1);
	say("runs %d", wait_runs(&runs, 1, 1000));
	return 0;
}

static int case_resethand_second(void)
{
	install(SIGURG, h_count, SA_RESETHAND);
	mask_one(SIG_BLOCK, SIGURG);
	worker_receipts(SIGURG, 1, 0);   /* claims the one-shot handler */
	worker_receipts(SIGURG, 1, 0);   /* SIG_DFL now: SIGURG is ignored */
	mask_one(SIG_UNBLOCK, SIGURG);
	say("runs %d", wait_runs(&runs, 1, 1000));
	sleep_ms(20);
	say("runs-after-settle %d", atomic_load(&runs));
	return 0;
}

/* --- 5. nothing of the shim survives exec ------------------------------------------ */

static int exec_self(const char *target)
{
	char *argv[] = { (char *)self_path, (char *)target, NULL };

	execv("/proc/self/exe", argv);
	say("exec failed: %s", strerror(errno));
	return 1;
}

static int case_exec_after_receipt(void)
{
	setup_p(SIGUSR1);
	worker_receipts(SIGUSR1, 1, 0);
	return exec_self("exec-target-unblock");
}

static int case_exec_after_receipt_wait(void)
{
	setup_p(SIGUSR1);
	worker_receipts(SIGUSR1, 1, 0);
	return exec_self("exec-target-wait");
}

/* The new image has no handler: a pending SIGUSR1 would kill it. */
static int target_unblock(void)
{
	mask_one(SIG_UNBLOCK, SIGUSR1);
	sleep_ms(20);
	say("new image survived");
	return 0;
}

static int target_wait(void)
{
	sigset_t s;
	struct timespec zero = { 0, 0 };
	int r;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	r = sigtimedwait(&s, NULL, &zero);
	say("sigtimedwait %d %s", r, r < 0 ? (errno == EAGAIN ? "EAGAIN" : "other") : "");
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	sleep_ms(20);
	say("new image survived");
	return 0;
}

/* --- 6. main's pthread_exit with an instance queued -------------------------------- */

static void *survivor(void *arg)
{
	(void)arg;
	say("runs %d", wait_runs(&runs, 1, 2000));
	exit(0);
}

static int case_main_exit_queued(void)
{
	pthread_t t;

	setup_p(SIGUSR1);
	worker_receipts(SIGUSR1, 1, 0);
	pthread_create(&t, NULL, survivor, NULL);
	pthread_exit(NULL);
}

/* --- 7. a vfork child must not take the parent's queue ------------------------------ */

static int case_vfork_queue(void)
{
	pid_t pid;
	int st;

	setup_p(SIGUSR1);
	worker_receipts(SIGUSR1, 1, 0);
	pid = vfork();
	if (pid == 0) {
		/* the child's own instance, run in the child */
		sigset_t s;

		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		raise(SIGUSR1);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	mask_one(SIG_UNBLOCK, SIGUSR1);
	wait_runs(&runs_parent, 1, 1000);
	sleep_ms(20);
	say("parent %d child %d", atomic_load(&runs_parent), atomic_load(&runs_child));
	return 0;
}

/* --- 8. RLIMIT_SIGPENDING 0: no siginfo can be queued ----------------------------- */

static void h_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	atomic_fetch_add(&runs, 1);
}

static int case_rlimit_sigpending(void)
{
	struct rlimit rl = { 0, 0 };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
		say("setrlimit failed");
	for (int i = 0; i < 5; i++) {
		worker_receipts(SIGUSR1, 1, 0);
		wait_runs(&runs, i + 1, 1000);
	}
	sleep_ms(20);
	say("runs %d", atomic_load(&runs));
	return 0;
}

/* --- 9. sigtimedwait with a huge timeout waits ------------------------------------ */

static void *late_genuine(void *arg)
{
	(void)arg;
	sleep_ms(200);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static int case_timedwait_huge(void)
{
	sigset_t s;
	struct timespec forever = { LONG_MAX, 0 };
	pthread_t t;
	int r;

	setup_p(SIGUSR1);
	main_thread = pthread_self();
	worker_receipts(SIGUSR1, 1, 0);
	pthread_create(&t, NULL, late_genuine, NULL);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	r = sigtimedwait(&s, NULL, &forever);
	say("sigtimedwait %s", r == SIGUSR1 ? "SIGUSR1" : errno == EAGAIN ? "EAGAIN" : "other");
	pthread_join(t, NULL);
	mask_one(SIG_UNBLOCK, SIGUSR1);
	say("runs %d", wait_runs(&runs, 1, 1000));
	return 0;
}

/* --- 10. sigpending on main shows nothing of the shim ---------------------------- */

static int case_sigpending_clean(void)
{
	sigset_t p;
	char buf[256];
	int n = 0;

	setup_p(SIGUSR1);
	worker_receipts(SIGUSR1, 1, 0);
	sigpending(&p);
	buf[0] = '\0';
	for (int sig = 1; sig < 65; sig++)
		if (sigismember(&p, sig) == 1)
			n += snprintf(buf + n, sizeof buf - (size_t)n, " %d", sig);
	say("pending [%s ]", buf);
	mask_one(SIG_UNBLOCK, SIGUSR1);
	say("runs %d", wait_runs(&runs, 1, 1000));
	return 0;
}

/* --- 11. small alternate stacks ---------------------------------------------------- */

/* 8 KiB with 768 bytes to spare by default.  Sanitizer builds pad every
 * frame (the program's and the shim's) with redzones: the test gives them
 * a larger stack and margin (FWD_ALT_SIZE, FWD_ALT_MARGIN); the shim's own
 * bound is held by the stack-usage test of the plain build. */
static size_t env_size(const char *name, size_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? (size_t)strtoul(v, NULL, 10) : dflt;
}
#define ALT_SIZE env_size("FWD_ALT_SIZE", 8192)

static void *alt_stack(void)
{
	/* a guard page below the stack: an overflow faults at once */
	char *m = mmap(NULL, ALT_SIZE + 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss;

	mprotect(m, 4096, PROT_NONE);
	ss.ss_sp = m + 4096;
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
	return m;
}

/* What a handler may use of the alternate stack: all of it but the
 * kernel's signal frame (AT_MINSIGSTKSZ: about 3.4 KiB with AVX-512) and a
 * margin of 768 bytes for libc and for what the shim adds. */
static size_t alt_budget(void)
{
	size_t frame = (size_t)getauxval(AT_MINSIGSTKSZ);

	if (frame == 0 || frame > ALT_SIZE / 2)
		frame = ALT_SIZE / 2;
	return ALT_SIZE - frame - env_size("FWD_ALT_MARGIN", 768);
}

static void use_stack(size_t n)
{
	volatile char *use = __builtin_alloca(n);

	for (size_t i = 0; i < n; i += 64)
		use[i] = (char)i;
	__asm__ volatile("" : : "r"(use) : "memory");
}

static void h_deep(int sig)
{
	(void)sig;
	use_stack(alt_budget());
	atomic_fetch_add(&runs, 1);
}

static void h_deep_crash(int sig)
{
	use_stack(alt_budget());
	h_crash(sig);
}

static int alt_child(int fault)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		alt_stack();
		install(fault ? SIGSEGV : SIGUSR1, fault ? h_deep_crash : h_deep, SA_ONSTACK);
		if (fault) {
			int *volatile null_page = NULL;

			null_page[2] = 1;
		}
		raise(SIGUSR1);
		_exit(atomic_load(&runs) == 1 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int case_altstack_deep(void)
{
	say("child status %d", alt_child(0));
	return 0;
}

static int case_altstack_crash(void)
{
	say("child status %d", alt_child(1));
	return 0;
}

/* --- 12. rdtsc trapped: the trampoline must not read the TSC ----------------------- */

static sigjmp_buf tsc_env;

static void h_tsc(int sig)
{
	(void)sig;
	atomic_fetch_add(&runs, 1);
	siglongjmp(tsc_env, 1);
}

static int case_rdtsc_trap(void)
{
	volatile int trapped = 0;

	install(SIGSEGV, h_tsc, 0);
	if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0) {
		say("prctl failed");
		return 1;
	}
	for (int i = 0; i < 10; i++) {
		if (sigsetjmp(tsc_env, 1) == 0) {
			unsigned lo, hi;

			__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
			(void)lo;
			(void)hi;
		} else {
			trapped++;
		}
	}
	prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
	say("trapped %d", trapped);
	return 0;
}

/* --- 13. a sampling profiler samples the busy thread ------------------------------- */

static atomic_int samples_total, samples_busy;
static atomic_int busy_tid;
static volatile int spin_stop;

static void h_prof(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	atomic_fetch_add(&samples_total, 1);
	if (gettid() == atomic_load(&busy_tid))
		atomic_fetch_add(&samples_busy, 1);
}

static void *spinner(void *arg)
{
	(void)arg;
	atomic_store(&busy_tid, gettid());
	while (!spin_stop)
		;
	return NULL;
}

static int case_prof_samples(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	pthread_t t;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	pthread_create(&t, NULL, spinner, NULL);
	setitimer(ITIMER_PROF, &it, NULL);
	for (int i = 0; i < 3000 && atomic_load(&samples_total) < 60; i++)
		sleep_ms(1);
	setitimer(ITIMER_PROF, &off, NULL);
	spin_stop = 1;
	pthread_join(t, NULL);
	/* natively nearly every sample lands in the spinning thread */
	say("samples-mostly-in-busy-thread %s",
	    atomic_load(&samples_busy) * 10 >= atomic_load(&samples_total) * 8 ? "yes" : "no");
	return 0;
}

/* --- 14. what main's mask is, as the workers read it ------------------------------ */

/* Two signals pending for main at once: the kernel builds both frames
 * before main returns to user space, so the second handler runs first,
 * interrupting the first at its entry, under the first's mask.  Main is
 * held in vfork (signals to it stay pending) while a worker sends
 * SIGRTMIN+3 to main and receives a SIGUSR2 itself (forwarded: a doorbell
 * for main).  Then a worker receives SIGRTMIN+3 three times: main does
 * not block it, so all must run. */
static atomic_int stacked_go, stacked_sent;

static void *stacked_sender(void *arg)
{
	(void)arg;
	for (int t = 0; !atomic_load(&stacked_go) && t < 2000; t++)
		sleep_ms(1);
	pthread_kill(main_thread, SIGRTMIN + 3);
	pthread_kill(pthread_self(), SIGUSR2);
	atomic_store(&stacked_sent, 1);
	return NULL;
}

static int case_stacked_frames(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t none;
	pid_t pid;
	int st;

	main_thread = pthread_self();
	install(SIGRTMIN + 3, h_count, 0);
	install(SIGUSR2, h_count, 0);
	sigemptyset(&none);
	pthread_attr_init(&a);
	pthread_attr_setsigmask_np(&a, &none);
	pthread_create(&t, &a, stacked_sender, NULL);
	pid = vfork();
	if (pid == 0) {
		atomic_store(&stacked_go, 1);
		for (int i = 0; !atomic_load(&stacked_sent) && i < 200000000; i++)
			;
		_exit(0);
	}
	waitpid(pid, &st, 0);
	pthread_join(t, NULL);
	say("both %d", wait_runs(&runs, 2, 2000));
	worker_receipts(SIGRTMIN + 3, 3, 2);
	say("after %d", wait_runs(&runs, 5, 2000));
	pthread_attr_destroy(&a);
	return 0;
}

/* A handler that leaves by siglongjmp restores the mask sigsetjmp saved:
 * here one without SIGUSR1, which main had blocked since.  The receipt
 * queued while it was blocked runs once the jump unblocks it, and so
 * does one that comes after. */
static sigjmp_buf jump_env;

static void h_jump(int sig)
{
	(void)sig;
	siglongjmp(jump_env, 1);
}

static int case_jump_restores_mask(void)
{
	install(SIGUSR1, h_count, 0);
	install(SIGUSR2, h_jump, 0);
	if (sigsetjmp(jump_env, 1) == 0) {
		mask_one(SIG_BLOCK, SIGUSR1);
		worker_receipts(SIGUSR1, 1, 0);
		raise(SIGUSR2);
		say("not reached");
	}
	say("jumped, first %d", wait_runs(&runs, 1, 2000));
	worker_receipts(SIGUSR1, 1, 0);
	say("second %d", wait_runs(&runs, 2, 2000));
	return 0;
}

/* --- every signal number, as a runtime's start-up walks them ---------------------- */

/* gccgo's runtime queries and installs a handler for every signal 1..64
 * and aborts ("sigaction read failure") on any error but glibc's 32 and
 * 33; then the program sends itself 63.  The shim's reserved doorbells
 * must look like any free signal. */
static atomic_int runs63;

static void h63(int sig)
{
	if (sig == 63)
		atomic_fetch_add(&runs63, 1);
}

static int case_every_signal(void)
{
	char qf[256] = "", inf[256] = "";
	struct sigaction sa, old;

	for (int sig = 1; sig <= 64; sig++)
		if (sigaction(sig, NULL, &old) != 0)
			snprintf(qf + strlen(qf), sizeof qf - strlen(qf), " %d", sig);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h63;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU && sig != SIGSTOP &&
		    sig != SIGKILL && sigaction(sig, &sa, NULL) != 0)
			snprintf(inf + strlen(inf), sizeof inf - strlen(inf), " %d", sig);
	say("query failures:%s", qf);
	say("install failures:%s", inf);
	sigaction(63, NULL, &old);
	say("63 reads back: %s", old.sa_handler == h63 ? "h63" : "other");
	kill(getpid(), 63);
	say("63 runs %d", wait_runs(&runs63, 1, 1000));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig <= 64; sig++)
		sigaction(sig, &sa, NULL);
	return 0;
}

/* --- main_thread=first-installer --------------------------------------------------- */

/* A second thread installs the first handler; then the primordial thread
 * receives the signal and installs one of its own.  Natively and by
 * default the primordial thread is main; with first-installer the
 * installer is, so the handler runs there and the primordial thread's
 * install is off main. */
static atomic_int inst_done;
static atomic_int ran_tid;
static atomic_int inst_tid;

static void h_where(int sig)
{
	(void)sig;
	atomic_store(&ran_tid, gettid());
	atomic_fetch_add(&runs, 1);
}

static void *first_installer(void *arg)
{
	struct sigaction sa;
	int ok;

	(void)arg;
	atomic_store(&inst_tid, gettid());
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h_where;
	sigemptyset(&sa.sa_mask);
	ok = sigaction(SIGUSR1, &sa, NULL) == 0;
	say("installer: %s", ok ? "ok" : strerror(errno));
	atomic_store(&inst_done, ok ? 1 : 2);
	if (ok)
		wait_runs(&runs, 1, 2000);
	return NULL;
}

static int case_first_installer(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t none;
	int tid;

	sigemptyset(&none);
	pthread_attr_init(&a);
	pthread_attr_setsigmask_np(&a, &none);
	pthread_create(&t, &a, first_installer, NULL);
	for (int i = 0; !atomic_load(&inst_done) && i < 2000; i++)
		sleep_ms(1);
	if (atomic_load(&inst_done) == 1)
		raise(SIGUSR1);
	pthread_join(t, NULL);
	tid = atomic_load(&ran_tid);
	say("ran on %s", !tid ? "nothing" : tid == atomic_load(&inst_tid) ? "installer" :
			 tid == getpid() ? "primordial" : "other");
	errno = 0;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = h_count;
		say("primordial install: %s", sigaction(SIGUSR2, &sa, NULL) == 0 ? "ok" : strerror(errno));
	}
	pthread_attr_destroy(&a);
	return 0;
}

/* --- dispatch ------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "lost-doorbell-sigwait", case_lost_doorbell_sigwait },
	{ "lost-doorbell-system", case_lost_doorbell_system },
	{ "merge-genuine", case_merge_genuine },
	{ "merge-sigwait", case_merge_sigwait },
	{ "abort-worker", case_abort_worker },
	{ "assert-worker", case_assert_worker },
	{ "ign-while-queued", case_ign_while_queued },
	{ "resethand-second", case_resethand_second },
	{ "exec-after-receipt", case_exec_after_receipt },
	{ "exec-after-receipt-wait", case_exec_after_receipt_wait },
	{ "exec-target-unblock", target_unblock },
	{ "exec-target-wait", target_wait },
	{ "main-exit-queued", case_main_exit_queued },
	{ "vfork-queue", case_vfork_queue },
	{ "rlimit-sigpending", case_rlimit_sigpending },
	{ "timedwait-huge", case_timedwait_huge },
	{ "sigpending-clean", case_sigpending_clean },
	{ "altstack-deep", case_altstack_deep },
	{ "altstack-crash", case_altstack_crash },
	{ "rdtsc-trap", case_rdtsc_trap },
	{ "prof-samples", case_prof_samples },
	{ "stacked-frames", case_stacked_frames },
	{ "jump-restores-mask", case_jump_restores_mask },
	{ "first-installer", case_first_installer },
	{ "every-signal", case_every_signal },
};

int main(int argc, char **argv)
{
	self_path = argv[0];
	parent_pid = getpid();
	if (argc != 2) {
		fprintf(stderr, "usage: fwd-cases CASE\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(argv[1], cases[i].name) == 0)
			return cases[i].fn();
	fprintf(stderr, "fwd-cases: unknown case '%s'\n", argv[1]);
	return 2;
}
