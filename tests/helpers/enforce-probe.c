/* Probes of mode=enforce (Python's signal/thread model), one scenario per
 * run.  Each scenario prints what the program itself observed on stdout,
 * as "key value" lines the integration test (test-enforce.c) asserts on;
 * the lines never hold pids, tids or addresses, so a native run prints the
 * same text wherever the native behaviour is the same.  Run-specific ids
 * the test needs to match log fields go to stderr as '@' lines:
 * "@tid NAME N", "@child N", "@fn NAME 0x…", "@addr NAME 0x…".
 *
 *   enforce-probe install | eintr | eintr-restart | siginfo | blocked-main |
 *                 sigwait-main | longjmp-main | rt N [cross] | resethand | resethand-usr1 | mask | fault | fork |
 *                 fault-kernel | exec | exec-target | main-exit
 *
 * Handlers record into fixed slots (async-signal-safe); the main flow
 * prints them afterwards.  "on=main" means the handler's gettid() was the
 * pid, "on=worker" the worker thread named by the scenario. */
#include "transcript.h"

#include <errno.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define P tr_printf

/* Not declared by <signal.h> under _GNU_SOURCE. */
typedef void (*handler_fn)(int);
handler_fn bsd_signal(int sig, handler_fn handler);

/* --- observations ----------------------------------------------------------- */

struct obs {
	const char *handler;
	int sig;
	pid_t tid;
	int has_info;
	int code;
	pid_t spid;
	uid_t suid;
	long value;
	uintptr_t addr;
	int has_mask;
	int m_self, m_usr2, m_rt1;
	int flag_seen;
};

#define MAX_OBS 64
static struct obs obs[MAX_OBS];
static atomic_int nobs;
static atomic_int ndone;
static atomic_int flag;              /* scenario-specific, read by handlers */
static pid_t worker_tid;             /* the scenario's worker */
static _Atomic pid_t worker_tid_pub;
static pid_t child_pid;              /* the last child, for si_pid */
static int nprinted;

static void record(const char *name, int sig, const siginfo_t *si, int with_mask)
{
	int saved = errno;
	int i = atomic_fetch_add(&nobs, 1);

	if (i < MAX_OBS) {
		struct obs *o = &obs[i];
		o->handler = name;
		o->sig = sig;
		o->tid = (pid_t)syscall(SYS_gettid);
		o->flag_seen = atomic_load(&flag);
		if (si) {
			o->has_info = 1;
			o->code = si->si_code;
			o->spid = si->si_pid;
			o->suid = si->si_uid;
			o->value = (long)(intptr_t)si->si_value.sival_ptr;
			o->addr = (uintptr_t)si->si_addr;
		}
		if (with_mask) {
			sigset_t cur;

			sigemptyset(&cur);
			/* the program's own view of its mask, as the brief asks */
			pthread_sigmask(SIG_BLOCK, NULL, &cur);
			o->has_mask = 1;
			o->m_self = sigismember(&cur, sig);
			o->m_usr2 = sigismember(&cur, SIGUSR2);
			o->m_rt1 = sigismember(&cur, SIGRTMIN + 1);
		}
	}
	atomic_fetch_add(&ndone, 1);
	errno = saved;
}

static void h_main(int sig) { record("h_main", sig, NULL, 0); }
static void h_worker(int sig) { record("h_worker", sig, NULL, 0); }
static void h_plain(int sig) { record("h_plain", sig, NULL, 0); }
static void h_info(int sig, siginfo_t *si, void *uc) { (void)uc; record("h_info", sig, si, 0); }
static void h_mask(int sig) { record("h_mask", sig, NULL, 1); }

static const char *where(pid_t tid)
{
	if (tid == getpid())
		return "main";
	if (tid == worker_tid)
		return "worker";
	return "other";
}

static const char *sender(pid_t p)
{
	if (p == getpid())
		return "self";
	if (child_pid && p == child_pid)
		return "child";
	return "other";
}

static void print_obs(void)
{
	int n = atomic_load(&ndone);

	for (; nprinted < n && nprinted < MAX_OBS; nprinted++) {
		struct obs *o = &obs[nprinted];
		char info[200] = "", mask[80] = "";

		if (o->has_info && o->sig == SIGSEGV && o->code > 0)
			snprintf(info, sizeof info, " code=%s addr=%s",
				 o->code == SI_KERNEL ? "SI_KERNEL" :
				 o->code == SEGV_ACCERR ? "SEGV_ACCERR" :
				 o->code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_other",
				 o->addr ? "set" : "null");
		else if (o->has_info)
			snprintf(info, sizeof info, " code=%s pid=%s uid=%s value=%ld",
				 tr_sicode(o->code), sender(o->spid),
				 o->suid == getuid() ? "ok" : "bad",
				 o->code == SI_QUEUE ? o->value : 0);
		if (o->has_mask)
			snprintf(mask, sizeof mask, " blocked_self=%d blocked_usr2=%d blocked_rt1=%d",
				 o->m_self, o->m_usr2, o->m_rt1);
		P("handled %s %s on=%s flag=%d%s%s\n", o->handler, tr_signame(o->sig),
		  where(o->tid), o->flag_seen, info, mask);
	}
}

static int wait_obs(int n, int ms)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < ms; i++) {
		if (atomic_load(&ndone) >= n)
			return 0;
		nanosleep(&ts, NULL);
	}
	P("timeout waiting for %d observations (have %d)\n", n, atomic_load(&ndone));
	return -1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- small tools ------------------------------------------------------------ */

static int install(int sig, void *h, int flags, const sigset_t *mask)
{
	struct sigaction a;

	memset(&a, 0, sizeof a);
	if (flags & SA_SIGINFO)
		a.sa_sigaction = (void (*)(int, siginfo_t *, void *))h;
	else
		a.sa_handler = (void (*)(int))h;
	if (mask)
		a.sa_mask = *mask;
	else
		sigemptyset(&a.sa_mask);
	a.sa_flags = flags;
	return sigaction(sig, &a, NULL);
}

static void query(const char *who, int sig)
{
	struct sigaction o;

	memset(&o, 0, sizeof o);
	int r = sigaction(sig, NULL, &o);
	P("%s query %s -> %d handler=%s resethand=%d siginfo=%d nodefer=%d\n", who,
	  tr_signame(sig), r, tr_handler((void *)o.sa_handler),
	  !!(o.sa_flags & SA_RESETHAND), !!(o.sa_flags & SA_SIGINFO),
	  !!(o.sa_flags & SA_NODEFER));
}

static void ret_int(const char *call, int r, int e)
{
	P("%s -> %d errno=%s\n", call, r, r < 0 ? tr_errname(e) : "0");
}

static void ret_h(const char *call, void *r, int e)
{
	P("%s -> %s errno=%s\n", call, tr_handler(r),
	  r == (void *)SIG_ERR ? tr_errname(e) : "0");
}

/* Evaluates the call, then reads errno (never in the same argument list). */
#define CALL(name, expr) do { errno = 0; int r_ = (expr); int e_ = errno; \
	ret_int(name, r_, e_); } while (0)

static void publish_worker(void)
{
	pid_t t = (pid_t)syscall(SYS_gettid);

	worker_tid = t;
	atomic_store(&worker_tid_pub, t);
	fprintf(stderr, "@tid worker %d\n", (int)t);
}

static pid_t await_worker(void)
{
	while (atomic_load(&worker_tid_pub) == 0)
		sched_yield();
	worker_tid = atomic_load(&worker_tid_pub);
	return worker_tid;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg) != 0) {
		P("pthread_create failed\n");
		exit(2);
	}
	return t;
}

static void wait_child(const char *who, pid_t pid)
{
	int st = 0;

	pid_t w;

	/* mode=enforce: a signal another thread received runs its handler
	 * here, on main, and interrupts a blocking call as it would natively
	 * on the thread that received it */
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w != pid) {
		P("%s waitpid failed\n", who);
		return;
	}
	if (WIFEXITED(st))
		P("%s child exited %d\n", who, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		P("%s child killed by %s\n", who, tr_signame(WTERMSIG(st)));
}

/* A worker that just lives until told to stop. */
static atomic_int stop_idle;
static void *idle_worker(void *arg)
{
	(void)arg;
	publish_worker();
	while (!atomic_load(&stop_idle))
		sleep_ms(1);
	return NULL;
}

/* --- 1. install from a worker ------------------------------------------------ */

static void *install_worker(void *arg)
{
	struct sigaction a;
	void *r;
	int e;

	(void)arg;
	publish_worker();
	memset(&a, 0, sizeof a);
	a.sa_handler = h_worker;
	sigemptyset(&a.sa_mask);
	errno = 0;
	int ri = sigaction(SIGUSR1, &a, NULL);
	ret_int("worker sigaction(SIGUSR1, h_worker)", ri, errno);
	query("worker", SIGUSR1);
	errno = 0;
	r = (void *)signal(SIGUSR1, h_worker);
	e = errno;
	ret_h("worker signal(SIGUSR1, h_worker)", r, e);
	query("worker", SIGUSR1);
	errno = 0;
	r = (void *)sigset(SIGUSR1, h_worker);
	e = errno;
	ret_h("worker sigset(SIGUSR1, h_worker)", r, e);
	query("worker", SIGUSR1);
	errno = 0;
	r = (void *)sysv_signal(SIGUSR1, h_worker);
	e = errno;
	ret_h("worker sysv_signal(SIGUSR1, h_worker)", r, e);
	query("worker", SIGUSR1);
	errno = 0;
	r = (void *)bsd_signal(SIGUSR1, h_worker);
	e = errno;
	ret_h("worker bsd_signal(SIGUSR1, h_worker)", r, e);
	query("worker", SIGUSR1);
	/* a signal with no handler yet */
	errno = 0;
	ri = sigaction(SIGUSR2, &a, NULL);
	ret_int("worker sigaction(SIGUSR2, h_worker)", ri, errno);
	query("worker", SIGUSR2);
	/* SIG_IGN / SIG_DFL from a worker are not function handlers */
	a.sa_handler = SIG_IGN;
	errno = 0;
	ri = sigaction(SIGHUP, &a, NULL);
	ret_int("worker sigaction(SIGHUP, SIG_IGN)", ri, errno);
	query("worker", SIGHUP);
	errno = 0;
	r = (void *)signal(SIGHUP, SIG_DFL);
	e = errno;
	ret_h("worker signal(SIGHUP, SIG_DFL)", r, e);
	query("worker", SIGHUP);
	errno = 0;
	r = (void *)sigset(SIGHUP, SIG_IGN);
	e = errno;
	ret_h("worker sigset(SIGHUP, SIG_IGN)", r, e);
	errno = 0;
	r = (void *)sysv_signal(SIGHUP, SIG_DFL);
	e = errno;
	ret_h("worker sysv_signal(SIGHUP, SIG_DFL)", r, e);
	errno = 0;
	r = (void *)bsd_signal(SIGHUP, SIG_IGN);
	e = errno;
	ret_h("worker bsd_signal(SIGHUP, SIG_IGN)", r, e);
	a.sa_handler = SIG_DFL;
	errno = 0;
	ri = sigaction(SIGHUP, &a, NULL);
	ret_int("worker sigaction(SIGHUP, SIG_DFL)", ri, errno);
	query("worker", SIGHUP);
	return NULL;
}

static int s_install(void)
{
	TR_FN(h_main);
	TR_FN(h_worker);
	CALL("main sigaction(SIGUSR1, h_main)", install(SIGUSR1, h_main, 0, NULL));
	pthread_join(spawn(install_worker, NULL), NULL);
	query("main", SIGUSR1);
	query("main", SIGUSR2);
	CALL("main raise(SIGUSR1)", raise(SIGUSR1));
	print_obs();
	return 0;
}

/* --- 2. pthread_kill to a worker blocked in read() --------------------------- */

static int pfd[2];
static atomic_int read_done;

static void *reader(void *arg)
{
	char c;

	(void)arg;
	publish_worker();
	errno = 0;
	ssize_t n = read(pfd[0], &c, 1);
	int e = errno;
	atomic_store(&read_done, 1);
	P("worker read -> %zd errno=%s\n", n, n < 0 ? tr_errname(e) : "0");
	return NULL;
}

static int s_eintr(int restart)
{
	if (pipe(pfd) != 0)
		return 2;
	CALL("main sigaction(SIGUSR1, h_info)", install(SIGUSR1, h_info, SA_SIGINFO | (restart ? SA_RESTART : 0), NULL));
	pthread_t t = spawn(reader, NULL);
	pid_t tid = await_worker();
	if (tr_wait_in_syscall(tid, SYS_read) != 0)
		P("worker never blocked in read\n");
	ret_int("main pthread_kill(worker, SIGUSR1)", pthread_kill(t, SIGUSR1), 0);
	wait_obs(1, 10000);
	print_obs();
	if (restart) {
		sleep_ms(200);
		P("worker still blocked after handler: %d\n",
		  !atomic_load(&read_done) && tr_wait_in_syscall(tid, SYS_read) == 0);
		if (write(pfd[1], "x", 1) != 1)
			P("write failed\n");
	}
	pthread_join(t, NULL);
	return 0;
}

/* --- 3. siginfo preserved ---------------------------------------------------- */

static void *tgkill_sender(void *arg)
{
	(void)arg;
	CALL("sender tgkill(worker, SIGUSR1)", tgkill(getpid(), worker_tid, SIGUSR1));
	return NULL;
}

static int s_siginfo(void)
{
	union sigval v = { .sival_int = 4242 };
	sigset_t usr1;
	pid_t parent = getpid();

	CALL("main sigaction(SIGUSR1, h_info)", install(SIGUSR1, h_info, SA_SIGINFO, NULL));
	pthread_t t = spawn(idle_worker, NULL);
	await_worker();
	/* a) pthread_sigqueue to the worker */
	ret_int("main pthread_sigqueue(worker, SIGUSR1, 4242)", pthread_sigqueue(t, SIGUSR1, v), 0);
	wait_obs(1, 10000);
	print_obs();
	/* b) tgkill from another thread */
	pthread_join(spawn(tgkill_sender, NULL), NULL);
	wait_obs(2, 10000);
	print_obs();
	/* c) tgkill from another process */
	child_pid = fork();
	if (child_pid == 0) {
		syscall(SYS_tgkill, parent, worker_tid, SIGUSR1);
		_exit(0);
	}
	fprintf(stderr, "@child %d\n", (int)child_pid);
	wait_child("tgkill", child_pid);
	wait_obs(3, 10000);
	print_obs();
	/* d) kill() from another process while main blocks the signal: the
	 * kernel gives it to the worker */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	child_pid = fork();
	if (child_pid == 0) {
		syscall(SYS_kill, parent, SIGUSR1);
		_exit(0);
	}
	fprintf(stderr, "@child %d\n", (int)child_pid);
	wait_child("kill", child_pid);
	/* natively the worker runs the handler; under enforce the instance
	 * waits in the shim's queue until main unblocks the signal (the
	 * worker has long taken it after 100 ms) */
	for (int i = 0; i < 100 && atomic_load(&ndone) < 4; i++)
		sleep_ms(1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	wait_obs(4, 10000);
	print_obs();
	atomic_store(&stop_idle, 1);
	pthread_join(t, NULL);
	return 0;
}

/* --- 4. process-directed signal while main blocks it -------------------------- */

static int s_blocked_main(void)
{
	sigset_t usr1;

	CALL("main sigaction(SIGUSR1, h_plain)", install(SIGUSR1, h_plain, 0, NULL));
	/* the worker first: it inherits the mask of the thread creating it */
	pthread_t t = spawn(idle_worker, NULL);
	await_worker();
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	CALL("main kill(getpid(), SIGUSR1)", kill(getpid(), SIGUSR1));
	/* the worker takes it (main blocks it); under enforce the instance
	 * waits in the shim's queue, not as a pending signal on main */
	sleep_ms(100);
	sigset_t pend;
	sigpending(&pend);
	P("SIGUSR1 pending: %d\n", sigismember(&pend, SIGUSR1));
	P("handled while blocked: %d\n", atomic_load(&ndone));
	atomic_store(&flag, 1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	wait_obs(1, 10000);
	print_obs();
	atomic_store(&stop_idle, 1);
	pthread_join(t, NULL);
	return 0;
}

/* --- 4b. main waits for the signal with sigtimedwait -------------------------- */

/* The worker receives a signal directed at it while main blocks that
 * signal and waits for it with sigtimedwait: natively main's wait times
 * out (nothing was sent to main) and the handler runs on the worker. */
static int s_sigwait_main(void)
{
	sigset_t usr1;
	siginfo_t si;
	struct timespec ts = { 0, 300 * 1000000L };

	CALL("main sigaction(SIGUSR1, h_info)", install(SIGUSR1, h_info, SA_SIGINFO, NULL));
	pthread_t t = spawn(idle_worker, NULL);
	await_worker();
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	CALL("main pthread_kill(worker, SIGUSR1)", pthread_kill(t, SIGUSR1));
	sleep_ms(100);
	memset(&si, 0, sizeof si);
	errno = 0;
	int r = sigtimedwait(&usr1, &si, &ts);
	int e = errno;
	if (r < 0)
		P("main sigtimedwait(SIGUSR1) -> -1 errno=%s\n", tr_errname(e));
	else
		P("main sigtimedwait(SIGUSR1) -> %s code=%s pid=%s\n", tr_signame(r),
		  tr_sicode(si.si_code), sender(si.si_pid));
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	wait_obs(1, 2000);
	sleep_ms(50);
	P("handled count=%d\n", atomic_load(&ndone));
	print_obs();
	atomic_store(&stop_idle, 1);
	pthread_join(t, NULL);
	return 0;
}

/* --- 4c. a handler on main that leaves with siglongjmp ------------------------ */

/* Two real-time instances received by a worker while main blocks the
 * signal; the handler, run on main, leaves the first with siglongjmp (the
 * usual way out of a SIGINT handler).  Natively each instance is a
 * delivery of its own: the second runs the handler too. */
static sigjmp_buf main_jb;
static atomic_int main_jb_armed;

static void h_jump(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	record("h_jump", sig, si, 0);
	if ((pid_t)syscall(SYS_gettid) == getpid() && atomic_exchange(&main_jb_armed, 0))
		siglongjmp(main_jb, 1);
}

static void *rt_twice(void *arg)
{
	(void)arg;
	publish_worker();
	while (!atomic_load(&flag))
		sleep_ms(1);
	for (int i = 1; i <= 2; i++) {
		union sigval v = { .sival_int = i };
		CALL("worker pthread_sigqueue(self, SIGRTMIN)", pthread_sigqueue(pthread_self(), SIGRTMIN, v));
	}
	return NULL;
}

static int s_longjmp_main(void)
{
	sigset_t rt;

	CALL("main sigaction(SIGRTMIN, h_jump)", install(SIGRTMIN, h_jump, SA_SIGINFO, NULL));
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	/* the worker first: it inherits the mask of the thread creating it */
	pthread_t t = spawn(rt_twice, NULL);
	await_worker();
	if (sigsetjmp(main_jb, 1) == 0) {
		pthread_sigmask(SIG_BLOCK, &rt, NULL);
		atomic_store(&main_jb_armed, 1);
		atomic_store(&flag, 1);
		pthread_join(t, NULL);
		sleep_ms(50);
		pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
		wait_obs(2, 1000);
		P("main: no jump\n");
	} else {
		P("main: back from siglongjmp\n");
		wait_obs(2, 1000);
	}
	sleep_ms(50);
	P("handled count=%d\n", atomic_load(&ndone));
	print_obs();
	return 0;
}

/* --- 5 / 11. real-time storms ---------------------------------------------------- */

static atomic_long rt_total, rt_main, rt_off, rt_order, rt_next[2], rt_bad;
static atomic_int rt_go;
static long rt_per;
static atomic_long rt_eagain;
static int rt_cross;             /* each worker sends to the other one */
static pthread_t rt_threads[2];
static atomic_int rt_stop;

static void h_rt(int sig, siginfo_t *si, void *uc)
{
	long v = si->si_value.sival_int;
	int w = (int)(v >> 24) - 1;
	long seq = v & 0xffffff;

	(void)sig;
	(void)uc;
	if (si->si_code != SI_QUEUE || w < 0 || w > 1) {
		atomic_fetch_add(&rt_bad, 1);
	} else if (atomic_exchange(&rt_next[w], seq + 1) != seq) {
		atomic_fetch_add(&rt_order, 1);
	}
	if ((pid_t)syscall(SYS_gettid) == getpid())
		atomic_fetch_add(&rt_main, 1);
	else
		atomic_fetch_add(&rt_off, 1);
	atomic_fetch_add(&rt_total, 1);
}

static void *rt_sender(void *arg)
{
	long w = (long)(intptr_t)arg;

	while (!atomic_load(&rt_go))
		sched_yield();
	for (long i = 0; i < rt_per; i++) {
		union sigval v = { .sival_int = (int)(((w + 1) << 24) | i) };
		int r;

		pthread_t to = rt_cross ? rt_threads[1 - w] : pthread_self();

		while ((r = pthread_sigqueue(to, SIGRTMIN, v)) == EAGAIN) {
			atomic_fetch_add(&rt_eagain, 1);
			sched_yield();
		}
		if (r != 0) {
			P("pthread_sigqueue failed: %s\n", tr_errname(r));
			break;
		}
	}
	/* a thread that exits discards what is still queued for it */
	while (!atomic_load(&rt_stop))
		sleep_ms(1);
	return NULL;
}

static int s_rt(long n, int cross)
{
	struct timespec t0, t1;

	alarm(50);   /* a lock-up fails the run instead of stalling it */
	rt_per = n / 2;
	rt_cross = cross;
	CALL("main sigaction(SIGRTMIN, h_rt)", install(SIGRTMIN, h_rt, SA_SIGINFO, NULL));
	pthread_t a = rt_threads[0] = spawn(rt_sender, (void *)0);
	pthread_t b = rt_threads[1] = spawn(rt_sender, (void *)1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	atomic_store(&rt_go, 1);
	for (int i = 0; i < 40000 && atomic_load(&rt_total) < 2 * rt_per; i++)
		sleep_ms(1);
	sleep_ms(100);   /* any duplicate would show up now */
	atomic_store(&rt_stop, 1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	P("rt total=%ld expected=%ld\n", atomic_load(&rt_total), 2 * rt_per);
	P("rt order_errors=%ld bad=%ld\n", atomic_load(&rt_order), atomic_load(&rt_bad));
	P("rt last0=%ld last1=%ld\n", atomic_load(&rt_next[0]), atomic_load(&rt_next[1]));
	fprintf(stderr, "@count on_main %ld\n@count off_main %ld\n@count eagain %ld\n@count ms %ld\n",
		atomic_load(&rt_main), atomic_load(&rt_off), atomic_load(&rt_eagain),
		(long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}

/* --- 6. SA_RESETHAND via a worker ---------------------------------------------- */

static atomic_int raise_sig;
static atomic_int raise_req;   /* requests served by raiser() */
static atomic_int raise_ack;

static void *raiser(void *arg)
{
	(void)arg;
	publish_worker();
	for (;;) {
		int want = atomic_load(&raise_req);

		if (want < 0)
			return NULL;
		if (want > atomic_load(&raise_ack)) {
			int sig = atomic_load(&raise_sig);

			if (sig == -SIGSEGV)   /* fault scenario: kill() the process */
				kill(getpid(), SIGSEGV);
			else
				raise(sig);
			atomic_fetch_add(&raise_ack, 1);
		}
		sleep_ms(1);
	}
}

/* Makes the raiser thread raise `sig` on itself, and waits until done. */
static void worker_raise(int sig)
{
	atomic_store(&raise_sig, sig);
	int n = atomic_fetch_add(&raise_req, 1) + 1;
	while (atomic_load(&raise_ack) < n)
		sleep_ms(1);
}

static void stop_raiser(pthread_t t)
{
	atomic_store(&raise_req, -1);
	pthread_join(t, NULL);
}

/* The child: SA_RESETHAND SIGUSR1, raised twice by a worker: the first
 * runs the handler once (on main), the second takes the default action. */
static void resethand_child(void)
{
	nobs = 0;
	ndone = 0;
	nprinted = 0;
	atomic_store(&raise_req, 0);
	atomic_store(&raise_ack, 0);
	atomic_store(&worker_tid_pub, 0);
	CALL("child sigaction(SIGUSR1, h_plain, SA_RESETHAND)", install(SIGUSR1, h_plain, SA_RESETHAND, NULL));
	pthread_t t = spawn(raiser, NULL);
	await_worker();
	worker_raise(SIGUSR1);
	wait_obs(1, 10000);
	sleep_ms(50);
	P("child handled count=%d\n", atomic_load(&ndone));
	print_obs();
	query("child", SIGUSR1);
	worker_raise(SIGUSR1);
	sleep_ms(500);
	P("child still alive after second SIGUSR1\n");
	stop_raiser(t);
	_exit(0);
}

static int s_resethand(void)
{
	TR_FN(h_plain);
	/* SIGURG: default is to ignore, so the process survives the second */
	CALL("main sigaction(SIGURG, h_plain, SA_RESETHAND)", install(SIGURG, h_plain, SA_RESETHAND, NULL));
	pthread_t t = spawn(raiser, NULL);
	await_worker();
	worker_raise(SIGURG);
	wait_obs(1, 5000);
	sleep_ms(50);
	P("SIGURG handled count=%d\n", atomic_load(&ndone));
	print_obs();
	query("main", SIGURG);
	worker_raise(SIGURG);
	sleep_ms(100);
	P("SIGURG handled count after second=%d\n", atomic_load(&ndone));
	stop_raiser(t);

	fflush(stdout);
	child_pid = fork();
	if (child_pid == 0)
		resethand_child();
	fprintf(stderr, "@child %d\n", (int)child_pid);
	wait_child("resethand", child_pid);
	P("alive\n");
	return 0;
}

/* SIGUSR1 in the process itself: once on main, then SIG_DFL. */
static int s_resethand_usr1(void)
{
	CALL("main sigaction(SIGUSR1, h_plain, SA_RESETHAND)", install(SIGUSR1, h_plain, SA_RESETHAND | SA_SIGINFO, NULL));
	pthread_t t = spawn(raiser, NULL);
	await_worker();
	worker_raise(SIGUSR1);
	wait_obs(1, 5000);
	sleep_ms(50);
	P("SIGUSR1 handled count=%d\n", atomic_load(&ndone));
	print_obs();
	query("main", SIGUSR1);
	stop_raiser(t);
	P("alive\n");
	return 0;
}

/* --- 7. sa_mask and SA_NODEFER inside the handler -------------------------------- */

static int s_mask(void)
{
	sigset_t m;
	char buf[128];

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + 1);
	CALL("main sigaction(SIGUSR1, h_mask, mask=[USR2 RTMIN+1])", install(SIGUSR1, h_mask, 0, &m));
	pthread_t t = spawn(raiser, NULL);
	await_worker();
	worker_raise(SIGUSR1);
	wait_obs(1, 10000);
	print_obs();
	CALL("main sigaction(SIGUSR1, h_mask, SA_NODEFER, mask=[USR2 RTMIN+1])", install(SIGUSR1, h_mask, SA_NODEFER, &m));
	worker_raise(SIGUSR1);
	wait_obs(2, 10000);
	print_obs();
	stop_raiser(t);
	sigemptyset(&m);
	pthread_sigmask(SIG_BLOCK, NULL, &m);
	P("main mask after %s\n", tr_mask(&m, buf, sizeof buf));
	return 0;
}

/* --- 8. faults on a worker ----------------------------------------------------- */

static sigjmp_buf fault_jb;
static _Atomic pid_t fault_armed;   /* the thread whose fault we expect */
static void *fault_page;

static void h_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	record("h_segv", sig, si, 0);
	if (si->si_code > 0 && atomic_load(&fault_armed) == (pid_t)syscall(SYS_gettid)) {
		atomic_store(&fault_armed, 0);
		siglongjmp(fault_jb, 1);
	}
}

static void *fault_worker(void *arg)
{
	(void)arg;
	publish_worker();
	fault_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fprintf(stderr, "@addr page %#lx\n", (unsigned long)(uintptr_t)fault_page);
	atomic_store(&fault_armed, worker_tid);
	if (sigsetjmp(fault_jb, 1) == 0) {
		*(volatile int *)fault_page = 1;
		P("worker: write did not fault\n");
	} else {
		P("worker: recovered from the fault\n");
	}
	return NULL;
}

/* A general-protection fault (a non-canonical address on x86_64): the
 * kernel sends SIGSEGV with si_code SI_KERNEL, and it is as synchronous as
 * any other fault: returning re-executes the instruction. */
static void *gp_worker(void *arg)
{
	(void)arg;
	publish_worker();
	atomic_store(&fault_armed, worker_tid);
	if (sigsetjmp(fault_jb, 1) == 0) {
		*(volatile int *)(uintptr_t)0x8000000000000000ULL = 1;
		P("worker: write did not fault\n");
	} else {
		P("worker: recovered from the fault\n");
	}
	return NULL;
}

static int s_fault_kernel(void)
{
	alarm(20);
	CALL("main sigaction(SIGSEGV, h_segv)", install(SIGSEGV, h_segv, SA_SIGINFO, NULL));
	pthread_join(spawn(gp_worker, NULL), NULL);
	sleep_ms(100);
	P("handled count=%d\n", atomic_load(&ndone));
	print_obs();
	P("alive\n");
	return 0;
}

static int s_fault(void)
{
	TR_FN(h_segv);
	CALL("main sigaction(SIGSEGV, h_segv)", install(SIGSEGV, h_segv, SA_SIGINFO, NULL));
	pthread_join(spawn(fault_worker, NULL), NULL);
	print_obs();
	atomic_store(&worker_tid_pub, 0);
	pthread_t t = spawn(raiser, NULL);
	await_worker();
	worker_raise(SIGSEGV);          /* SI_TKILL from the worker to itself */
	wait_obs(2, 10000);
	print_obs();
	worker_raise(-SIGSEGV);         /* kill(getpid(), SIGSEGV) from the worker */
	wait_obs(3, 10000);
	print_obs();
	stop_raiser(t);
	CALL("main kill(getpid(), SIGSEGV)", kill(getpid(), SIGSEGV));
	wait_obs(4, 10000);
	print_obs();
	P("alive\n");
	return 0;
}

/* --- 9. fork from a worker --------------------------------------------------------- */

static void *child_raiser(void *arg)
{
	(void)arg;
	CALL("child-thread raise(SIGUSR1)", raise(SIGUSR1));
	return NULL;
}

static void *forking_worker(void *arg)
{
	(void)arg;
	publish_worker();
	pid_t pid = fork();
	if (pid == 0) {
		atomic_store(&nobs, 0);
		atomic_store(&ndone, 0);
		nprinted = 0;
		worker_tid = -1;
		P("child tid==pid: %d\n", (pid_t)syscall(SYS_gettid) == getpid());
		CALL("child sigaction(SIGUSR1, h_info)", install(SIGUSR1, h_info, SA_SIGINFO, NULL));
		CALL("child raise(SIGUSR1)", raise(SIGUSR1));
		wait_obs(1, 10000);
		print_obs();
		pthread_join(spawn(child_raiser, NULL), NULL);
		wait_obs(2, 10000);
		print_obs();
		exit(0);
	}
	fprintf(stderr, "@child %d\n", (int)pid);
	wait_child("worker", pid);
	return NULL;
}

static int s_fork(void)
{
	pthread_join(spawn(forking_worker, NULL), NULL);
	return 0;
}

/* --- 10. exec ------------------------------------------------------------------------ */

static void *exec_worker(void *arg)
{
	(void)arg;
	publish_worker();
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "enforce-exec-target", "exec-target", NULL };

		execv("/proc/self/exe", argv);
		_exit(127);
	}
	fprintf(stderr, "@child %d\n", (int)pid);
	wait_child("exec", pid);
	return NULL;
}

static int s_exec(void)
{
	pthread_join(spawn(exec_worker, NULL), NULL);
	return 0;
}

static void *target_worker(void *arg)
{
	(void)arg;
	publish_worker();
	CALL("target worker sigaction(SIGUSR2, h_info)", install(SIGUSR2, h_info, SA_SIGINFO, NULL));
	CALL("target worker raise(SIGUSR1)", raise(SIGUSR1));
	return NULL;
}

static int s_exec_target(void)
{
	CALL("target main sigaction(SIGUSR1, h_info)", install(SIGUSR1, h_info, SA_SIGINFO, NULL));
	pthread_join(spawn(target_worker, NULL), NULL);
	wait_obs(1, 10000);
	print_obs();
	return 0;
}

/* --- 12. the main thread has exited -------------------------------------------------- */

static void *survivor(void *arg)
{
	(void)arg;
	publish_worker();
	while (!atomic_load(&flag))
		sleep_ms(1);
	sleep_ms(200);   /* main is gone (its TSD destructors have run) */
	CALL("survivor raise(SIGUSR1)", raise(SIGUSR1));
	wait_obs(1, 5000);
	print_obs();
	exit(0);
}

static int s_main_exit(void)
{
	CALL("main sigaction(SIGUSR1, h_plain)", install(SIGUSR1, h_plain, 0, NULL));
	spawn(survivor, NULL);
	await_worker();
	atomic_store(&flag, 1);
	pthread_exit(NULL);
}

/* ------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	setvbuf(stderr, NULL, _IONBF, 0);
	tr_init();
	TR_FN(h_info);
	TR_FN(h_mask);
	if (strcmp(s, "install") == 0)
		return s_install();
	if (strcmp(s, "eintr") == 0)
		return s_eintr(0);
	if (strcmp(s, "eintr-restart") == 0)
		return s_eintr(1);
	if (strcmp(s, "siginfo") == 0)
		return s_siginfo();
	if (strcmp(s, "blocked-main") == 0)
		return s_blocked_main();
	if (strcmp(s, "sigwait-main") == 0)
		return s_sigwait_main();
	if (strcmp(s, "longjmp-main") == 0)
		return s_longjmp_main();
	if (strcmp(s, "rt") == 0 && argc > 2)
		return s_rt(atol(argv[2]), argc > 3 && strcmp(argv[3], "cross") == 0);
	if (strcmp(s, "resethand") == 0)
		return s_resethand();
	if (strcmp(s, "resethand-usr1") == 0)
		return s_resethand_usr1();
	if (strcmp(s, "mask") == 0)
		return s_mask();
	if (strcmp(s, "fault-kernel") == 0)
		return s_fault_kernel();
	if (strcmp(s, "fault") == 0)
		return s_fault();
	if (strcmp(s, "fork") == 0)
		return s_fork();
	if (strcmp(s, "exec") == 0)
		return s_exec();
	if (strcmp(s, "exec-target") == 0)
		return s_exec_target();
	if (strcmp(s, "main-exit") == 0)
		return s_main_exit();
	fprintf(stderr, "usage: enforce-probe SCENARIO\n");
	return 2;
}
