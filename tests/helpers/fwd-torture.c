/* Forwarding torture: a seeded, randomized mix of signal sends, waits,
 * temporary masks, installs, forks and resource limits, counting handler
 * runs per signal (tests/integration/test-torture.c).
 *
 *   fwd-torture SEED ITERATIONS [trace]
 *   fwd-torture --exec-check    (the image the exec step runs)
 *
 * Half the seeds end the run with main's pthread_exit while main blocks a
 * signal a worker has received; a worker then reports.
 *
 * The sequence of choices comes from our own PRNG (splitmix64) and depends
 * only on SEED and on what the program itself decided before, never on
 * timing or on what a delivery did, so every run of one seed makes the
 * same calls.  Every step ends with a bounded wait (settle()) until each
 * signal's handler count reaches what the step expects, and only then goes
 * on; a send whose delivery the kernel could coalesce with another is
 * never made before the first one has run, unless the coalescing is
 * certain (the receiver blocks the signal) and accounted for.  So a native
 * run prints the same counts every time, and mode=enforce, which only
 * changes *where* handlers run, must print the same counts.
 *
 * stdout: "runs SIG N" per signal, then "waited", "child-ok", "eintr",
 * "restarted", "bad-siginfo", "bad-queries", "send-errors", "extra-steps",
 * "lost-steps" and "done".  stderr: '@' lines only (lost or extra
 * deliveries with the step that expected them, step statistics, and with
 * "trace" every step). */
#include "transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* --- the signals ------------------------------------------------------------ */

/* Indexes into the tables below.  Everything before X_CHLD is sent by the
 * steps; SIGCHLD only ever comes from our children exiting. */
enum { X_USR1, X_USR2, X_URG, X_INT, X_RT1, X_RT2, X_RT3, X_CHLD, NX };
#define N_SEND X_CHLD

static const char *const sig_name[NX] = {
	"SIGUSR1", "SIGUSR2", "SIGURG", "SIGINT",
	"SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGCHLD",
};
static int sig_of[NX];          /* filled at start: SIGRTMIN is a runtime value */

static int is_rt(int x)
{
	return x >= X_RT1 && x <= X_RT3;
}

/* Handler runs per signal, on any thread (and in vfork children, which
 * share our memory). */
static atomic_int runs[NX];
/* Armed by main before a send: the next run of that signal raises it once
 * more from inside the handler (nested under SA_NODEFER, right after the
 * handler returns otherwise). */
static atomic_int reraise[NX];
static atomic_int bad_siginfo;
/* The last bad one, for the step's '@bad-siginfo' line. */
static atomic_int bad_sig, bad_code, bad_pid, bad_value;

/* si_value of every sigqueue/pthread_sigqueue we make: a shim doorbell or
 * any other foreign value that reached a handler shows as bad-siginfo. */
#define TAG 0x5a000000
#define TAG_MASK 0xff000000

static int index_of(int sig)
{
	for (int x = 0; x < NX; x++)
		if (sig_of[x] == sig)
			return x;
	return -1;
}

static void note_run(int sig)
{
	int x = index_of(sig);

	if (x < 0)
		return;
	atomic_fetch_add(&runs[x], 1);
	if (atomic_exchange(&reraise[x], 0))
		raise(sig);
}

static void h_plain(int sig)
{
	int saved = errno;

	note_run(sig);
	errno = saved;
}

/* Everything we send comes from our own process: a tkill or sigqueue
 * carries our pid, a sigqueue our tag; SI_USER with pid 0 is what the
 * kernel leaves when RLIMIT_SIGPENDING made it drop the siginfo. */
static int siginfo_ok(int sig, const siginfo_t *si)
{
	if (si->si_signo != sig)
		return 0;
	if (sig == SIGCHLD)
		return 1;
	switch (si->si_code) {
	case SI_QUEUE:
		return si->si_pid == getpid() &&
		       (si->si_value.sival_int & TAG_MASK) == TAG;
	case SI_TKILL:
		return si->si_pid == getpid();
	case SI_USER:
		return si->si_pid == getpid() || si->si_pid == 0;
	default:
		return 0;
	}
}

static void h_info(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (!siginfo_ok(sig, si)) {
		atomic_store(&bad_sig, sig);
		atomic_store(&bad_code, si->si_code);
		atomic_store(&bad_pid, si->si_pid);
		atomic_store(&bad_value, si->si_value.sival_int);
		atomic_fetch_add(&bad_siginfo, 1);
	}
	note_run(sig);
	errno = saved;
}

/* --- deterministic choices ---------------------------------------------------- */

static uint64_t rng;

static uint64_t next_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int pick(int n)
{
	return (int)(next_rand() % (uint64_t)n);
}

static int chance(int pct)
{
	return pick(100) < pct;
}

/* --- time ---------------------------------------------------------------------- */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A short sleep; an EINTR (a handler ran here) just ends it early. */
static void nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* --- run state (main thread only unless said otherwise) ------------------------ */

static int expect[NX];          /* handler runs the steps so far account for */
static int waited, child_ok, n_eintr, n_restarted, bad_queries, send_errors;
static int lost_steps, extra_steps;
static int step_no;
static const char *step_name;
static char step_desc[600];
static int step_lost, step_extra;
static int tracing;

#define LOST_BOUND_US 1000000LL       /* the first loss: a generous wait */
#define LOST_AGAIN_US 50000LL         /* once lost: the run fails anyway */
#define MAX_LOST 50                   /* then stop, so a bad run stays short */
#define RUN_BUDGET_US 30000000LL

/* How long a wait may take: 1 s is ample on a loaded machine (a delivery
 * takes microseconds, a busy scheduler milliseconds); once a run has lost
 * a delivery it fails anyway, and each further loss should cost little. */
static long long bound_us(void)
{
	return lost_steps + step_lost == 0 ? LOST_BOUND_US : LOST_AGAIN_US;
}

static void say_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0)
		_exit(99);
}

/* Appends to the description of the current step (printed with a loss). */
static void desc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void desc(const char *fmt, ...)
{
	size_t o = strlen(step_desc);
	va_list ap;

	if (o >= sizeof step_desc - 2)
		return;
	if (o)
		step_desc[o++] = ';';
	va_start(ap, fmt);
	vsnprintf(step_desc + o, sizeof step_desc - o, fmt, ap);
	va_end(ap);
}

/* Main's pending and blocked sets as the kernel has them, for the @lost
 * line: a signal that waits pending behind a mask shows here. */
static void main_sigstate(char *out, size_t n)
{
	char path[64], line[128];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)getpid());
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "SigPnd:", 7) || !strncmp(line, "ShdPnd:", 7) ||
		    !strncmp(line, "SigBlk:", 7)) {
			size_t o = strlen(out);

			line[strcspn(line, "\n")] = '\0';
			snprintf(out + o, n - o, "%s%s", o ? " " : "", line);
		}
	fclose(f);
}

static void note_lost(const char *what)
{
	char st[160];

	main_sigstate(st, sizeof st);
	say_err("@lost step=%d kind=%s %s | %s | main %s", step_no, step_name, what, step_desc, st);
	step_lost = 1;
}

/* --- the rescue signal ----------------------------------------------------------------
 * A wait for a signal that never comes (sigwait, sigsuspend) would hang
 * the run.  A watchdog thread (all signals blocked: it never takes one of
 * ours) sends SIGRTMIN+4 to main when such a wait outlasts the bound:
 * sigwait waits for it too, sigsuspend, ppoll and pselect unblock it and
 * return after its handler.  Main blocks it everywhere else, and takes any
 * late one out with a zero-timeout sigtimedwait before the next wait. */

static int sig_rescue;
static atomic_int watching;
static _Atomic long long watch_deadline;
static atomic_int rescued;

static void h_rescue(int sig)
{
	(void)sig;
	atomic_store(&rescued, 1);
}

static void *watchdog(void *arg)
{
	for (;;) {
		nap_us(5000);
		if (atomic_load(&watching) && now_us() > atomic_load(&watch_deadline) &&
		    atomic_exchange(&watching, 0))
			pthread_kill(*(pthread_t *)arg, sig_rescue);
	}
	return NULL;
}

static void watch_begin(void)
{
	sigset_t r;
	struct timespec zero = { 0, 0 };

	sigemptyset(&r);
	sigaddset(&r, sig_rescue);
	while (sigtimedwait(&r, NULL, &zero) == sig_rescue)
		;
	atomic_store(&rescued, 0);
	atomic_store(&watch_deadline, now_us() + bound_us());
	atomic_store(&watching, 1);
}

/* 1 when the watchdog had to end the wait. */
static int watch_end(void)
{
	int late = !atomic_exchange(&watching, 0);

	return late || atomic_load(&rescued);
}

/* --- masks and installs ------------------------------------------------------------ */

static sigset_t one_set(int x)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig_of[x]);
	return s;
}

static void mask_main(int how, const sigset_t *s)
{
	pthread_sigmask(how, s, NULL);
}

/* Main's mask between steps: only the rescue signal. */
static void unblock_all(void)
{
	sigset_t only;

	sigemptyset(&only);
	sigaddset(&only, sig_rescue);
	mask_main(SIG_SETMASK, &only);
}

/* Installs our handler with random flags and sa_mask.  SA_RESETHAND only
 * when asked; never SA_NOCLDWAIT (our waitpid calls need the zombies). */
static void install_handler(int x, int extra_flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_flags = extra_flags;
	if (chance(50))
		sa.sa_flags |= SA_RESTART;
	if (chance(20))
		sa.sa_flags |= SA_NODEFER;
	if (chance(50)) {
		sa.sa_flags |= SA_SIGINFO;
		sa.sa_sigaction = h_info;
	} else {
		sa.sa_handler = h_plain;
	}
	sigemptyset(&sa.sa_mask);
	if (chance(25))
		for (int y = 0; y < NX; y++)
			if (chance(30))
				sigaddset(&sa.sa_mask, sig_of[y]);
	if (sigaction(sig_of[x], &sa, NULL) != 0) {
		say_err("@fatal sigaction %s: %s", sig_name[x], strerror(errno));
		exit(1);
	}
}

/* Like install_handler, with SA_RESTART forced on or off. */
static void install_restart(int x, int restart)
{
	struct sigaction sa;

	install_handler(x, 0);
	sigaction(sig_of[x], NULL, &sa);
	if (restart)
		sa.sa_flags |= SA_RESTART;
	else
		sa.sa_flags &= ~SA_RESTART;
	sigaction(sig_of[x], &sa, NULL);
}

static void install_disp(int x, void (*h)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	sigaction(sig_of[x], &sa, NULL);
}

/* --- sends ---------------------------------------------------------------------- */

enum route {
	R_THREAD,       /* pthread_kill(to) */
	R_QUEUE,        /* pthread_sigqueue(to) */
	R_RAISE,        /* raise(): the sender itself */
	R_PROC,         /* kill(getpid()) */
	R_PROCQ,        /* sigqueue(getpid()) */
	N_ROUTES
};
static const char *const route_name[N_ROUTES] = {
	"pthread_kill", "pthread_sigqueue", "raise", "kill", "sigqueue",
};

#define TO_MAIN (-1)
#define TO_SELF (-2)           /* pthread_self(): used in children */
#define TO_PROC 100            /* dest_of(): process-directed */
#define NW 3

struct send {
	int route;
	int to;                 /* TO_MAIN, TO_SELF or a worker */
	int x;
	int n;                  /* instances (real-time signals only) */
};

struct worker {
	pthread_t thr;
	_Atomic pid_t tid;
	sem_t go;
	int op;
	struct send s;
	const struct child_plan *plan;
	int seq;                /* last command posted (main) */
	atomic_int done;        /* last command completed (worker) */
	int result;
};

static struct worker workers[NW];
static pthread_t main_thr;
static atomic_int tag_seq;

static pthread_t thread_of(int to)
{
	if (to == TO_MAIN)
		return main_thr;
	if (to == TO_SELF)
		return pthread_self();
	return workers[to].thr;
}

static union sigval next_tag(void)
{
	union sigval v;

	v.sival_ptr = NULL;
	v.sival_int = TAG | (atomic_fetch_add(&tag_seq, 1) & 0xffffff);
	return v;
}

/* Makes one send; 1 when the call succeeded.  Any thread. */
static int send_one(const struct send *s)
{
	int sig = sig_of[s->x];

	switch (s->route) {
	case R_THREAD:
		return pthread_kill(thread_of(s->to), sig) == 0;
	case R_QUEUE:
		return pthread_sigqueue(thread_of(s->to), sig, next_tag()) == 0;
	case R_RAISE:
		return raise(sig) == 0;
	case R_PROC:
		return kill(getpid(), sig) == 0;
	default:
		return sigqueue(getpid(), sig, next_tag()) == 0;
	}
}

static int do_send(const struct send *s)
{
	int ok = 0;

	for (int i = 0; i < s->n; i++)
		ok += send_one(s);
	return ok;
}

/* Who receives it: TO_MAIN, a worker, or TO_PROC (the kernel chooses). */
static int dest_of(int from, const struct send *s)
{
	if (s->route == R_PROC || s->route == R_PROCQ)
		return TO_PROC;
	if (s->route == R_RAISE || s->to == TO_SELF)
		return from;
	return s->to;
}

static void desc_send(int from, const struct send *s)
{
	char who[16], to[16];

	snprintf(who, sizeof who, from == TO_MAIN ? "main" : "w%d", from);
	snprintf(to, sizeof to, s->to == TO_MAIN ? "main" : "w%d", s->to);
	desc("%s %s(%s%s%s)x%d", who, route_name[s->route], sig_name[s->x],
	     s->route == R_THREAD || s->route == R_QUEUE ? "->" : "",
	     s->route == R_THREAD || s->route == R_QUEUE ? to : "", s->n);
}

/* A random send of signal x by `from` (TO_MAIN or a worker). */
static struct send rand_send(int from, int x)
{
	struct send s;

	s.x = x;
	s.route = pick(N_ROUTES);
	s.to = pick(NW + 1) - 1;
	if (s.route == R_RAISE)
		s.to = from;
	s.n = is_rt(x) ? 1 + pick(8) : 1;
	return s;
}

/* A send of x that nothing blocks when it is made: to the sender itself
 * (a worker runs commands outside handlers, with an empty mask), to main,
 * or process-wide (the kernel then checks main's mask).  Another worker
 * may still be returning from a handler whose mask blocks x: an ignored x
 * sent to it would stay pending instead of being discarded, and run once
 * the handler is back. */
static struct send unblocked_send(int from, int x)
{
	struct send s = rand_send(from, x);

	if ((s.route == R_THREAD || s.route == R_QUEUE) && s.to != TO_MAIN)
		s.to = from;
	return s;
}

/* A send the sender receives itself, at once (its mask is empty). */
static struct send self_send(int from, int x)
{
	struct send s;

	s.x = x;
	s.route = pick(3) == 0 ? R_RAISE : pick(2) ? R_THREAD : R_QUEUE;
	s.to = from;
	s.n = is_rt(x) ? 1 + pick(8) : 1;
	return s;
}

/* --- workers -------------------------------------------------------------------- */

enum op { OP_SEND, OP_READ, OP_FORK };
enum { RES_RESTARTED = 1, RES_EINTR = 2, RES_OTHER = 3 };

static int pipe_fd[2];

static void child_main(const struct child_plan *p) __attribute__((noreturn));

/* Blocks in read() until main writes a byte: how the first read() ended
 * is the result (restarted under SA_RESTART, EINTR without). */
static int op_read(void)
{
	char c;
	ssize_t r = read(pipe_fd[0], &c, 1);
	int res = r == 1 ? RES_RESTARTED : r < 0 && errno == EINTR ? RES_EINTR : RES_OTHER;

	while (r != 1 && (r >= 0 || errno == EINTR))
		r = read(pipe_fd[0], &c, 1);
	return res;
}

static int run_op(struct worker *me)
{
	switch (me->op) {
	case OP_SEND:
		return do_send(&me->s);
	case OP_READ:
		return op_read();
	default: {
		pid_t pid = fork();

		if (pid == 0)
			child_main(me->plan);
		return pid;
	}
	}
}

static void *worker_main(void *arg)
{
	struct worker *me = arg;

	atomic_store(&me->tid, (pid_t)syscall(SYS_gettid));
	for (;;) {
		/* EINTR: a handler (or, under enforce, a trampoline) ran here */
		while (sem_wait(&me->go) != 0)
			;
		me->result = run_op(me);
		atomic_store_explicit(&me->done, me->seq, memory_order_release);
	}
	return NULL;
}

static void start_workers(void)
{
	pthread_attr_t a;
	sigset_t none;

	sigemptyset(&none);
	pthread_attr_init(&a);
	/* workers take every signal: natively a handler runs where the
	 * kernel delivers, under enforce the trampoline forwards it */
	pthread_attr_setsigmask_np(&a, &none);
	for (int i = 0; i < NW; i++) {
		sem_init(&workers[i].go, 0, 0);
		if (pthread_create(&workers[i].thr, &a, worker_main, &workers[i]) != 0) {
			say_err("@fatal pthread_create");
			exit(1);
		}
	}
	pthread_attr_destroy(&a);
	for (int i = 0; i < NW; i++)
		while (atomic_load(&workers[i].tid) == 0)
			nap_us(50);
}

static void worker_post(int i, int op)
{
	workers[i].op = op;
	workers[i].seq++;
	sem_post(&workers[i].go);
}

/* Waits (bounded) for worker i's last command; its result, or -1. */
static int worker_wait(int i)
{
	long long end = now_us() + bound_us();

	while (atomic_load_explicit(&workers[i].done, memory_order_acquire) != workers[i].seq) {
		if (now_us() > end) {
			char what[64];

			snprintf(what, sizeof what, "worker w%d never finished", i);
			note_lost(what);
			return -1;
		}
		nap_us(20);
	}
	return workers[i].result;
}

/* Sends from main directly or through worker `from`; instances sent. */
static int send_from(int from, const struct send *s)
{
	desc_send(from, s);
	if (from == TO_MAIN)
		return do_send(s);
	workers[from].s = *s;
	worker_post(from, OP_SEND);
	int ok = worker_wait(from);
	return ok < 0 ? 0 : ok;
}

/* Outside the RLIMIT_SIGPENDING step every send must succeed. */
static void check_sent(int ok, int n)
{
	if (ok != n) {
		send_errors++;
		desc("sent %d of %d", ok, n);
	}
}

/* --- waiting for the expected handler runs ------------------------------------ */

/* Which signals are short of (-1) or over (1) their expectation; x < 0:
 * all of them. */
static int compare(int x, int *over)
{
	int short_of = 0;

	*over = 0;
	for (int y = 0; y < NX; y++) {
		if (x >= 0 && y != x)
			continue;
		int r = atomic_load(&runs[y]);
		short_of |= r < expect[y];
		*over |= r > expect[y];
	}
	return short_of;
}

/* Counts and reports, then adopts the observed count so that one lost or
 * extra delivery is reported once, not at every later step. */
static void resync(int x, int lost)
{
	for (int y = 0; y < NX; y++) {
		int r = atomic_load(&runs[y]);
		char what[96];

		if ((x >= 0 && y != x) || r == expect[y] || (lost && r > expect[y]) ||
		    (!lost && r < expect[y]))
			continue;
		snprintf(what, sizeof what, "%s sig=%s want=%d have=%d",
			 lost ? "lost" : "extra", sig_name[y], expect[y], r);
		if (lost)
			note_lost(what);
		else
			say_err("@extra step=%d kind=%s %s | %s", step_no, step_name, what, step_desc);
		expect[y] = r;
	}
	if (!lost)
		step_extra = 1;
	for (int y = 0; y < NX; y++)
		atomic_store(&reraise[y], 0);
}

/* Waits (bounded) until signal x (x < 0: every signal) has run as often
 * as expected.  Main sleeps in short naps: under enforce the handlers of
 * signals received by workers run here, on main. */
static void settle_sig(int x)
{
	long long end = now_us() + bound_us();
	int over;

	while (compare(x, &over) && now_us() < end)
		nap_us(20);
	if (compare(x, &over))
		resync(x, 1);
	if (over)
		resync(x, 0);
}

static void settle(void)
{
	settle_sig(-1);
}

/* --- steps: sends with main's mask empty ------------------------------------------ */

/* One send by main or a worker, by any route, to anyone; sometimes the
 * handler raises the signal once more.  Each step waits for its runs, so
 * two standard instances are never pending at once. */
static void step_send(void)
{
	int x = pick(N_SEND), from = pick(NW + 1) - 1;
	struct send s = rand_send(from, x);
	int again = s.n == 1 && chance(15);

	if (again) {
		atomic_store(&reraise[x], 1);
		desc("reraise");
	}
	int ok = send_from(from, &s);
	check_sent(ok, s.n);
	if (!ok)
		atomic_store(&reraise[x], 0);
	expect[x] += ok + (again && ok);
	settle();
}

/* Every worker (and sometimes main) sends real-time bursts at once, by
 * random routes to random threads: real-time instances never coalesce,
 * so the counts stay exact whatever the interleaving. */
static void step_storm(void)
{
	struct send ms;
	int main_too = chance(50);

	for (int i = 0; i < NW; i++) {
		workers[i].s = rand_send(i, X_RT1 + pick(3));
		workers[i].s.n = 1 + pick(16);
		desc_send(i, &workers[i].s);
		worker_post(i, OP_SEND);
	}
	if (main_too) {
		ms = rand_send(TO_MAIN, X_RT1 + pick(3));
		int ok = send_from(TO_MAIN, &ms);
		check_sent(ok, ms.n);
		expect[ms.x] += ok;
	}
	for (int i = 0; i < NW; i++) {
		int ok = worker_wait(i);
		check_sent(ok, workers[i].s.n);
		expect[workers[i].s.x] += ok < 0 ? 0 : ok;
	}
	settle();
}

/* --- steps: main blocks some signals for a while ---------------------------------- */

struct window {
	sigset_t blocked;
	int in_b[NX];
	int main_pend[NX];        /* instances pending on main (thread-directed) */
	int sent_to[NW][NX];      /* a standard signal already sent to that worker */
	int sent_proc[NX];        /* a standard signal already sent process-wide */
	int delta[NX];            /* runs owed once main unblocks */
};

static void window_open(struct window *wd)
{
	memset(wd, 0, sizeof *wd);
	sigemptyset(&wd->blocked);
	for (int x = 0; x < N_SEND; x++)
		if (chance(40)) {
			wd->in_b[x] = 1;
			sigaddset(&wd->blocked, sig_of[x]);
		}
	if (sigisemptyset(&wd->blocked)) {
		int x = pick(N_SEND);

		wd->in_b[x] = 1;
		sigaddset(&wd->blocked, sig_of[x]);
	}
	for (int x = 0; x < N_SEND; x++)
		if (wd->in_b[x])
			desc("block %s", sig_name[x]);
	mask_main(SIG_BLOCK, &wd->blocked);
}

/* Can this send be made now without a coalescing the native run could
 * not predict?  A standard signal main blocks may be pending on main any
 * number of times (certain coalescing), but only once on a worker or
 * process-wide, where its delivery is asynchronous. */
static int window_allows(const struct window *wd, int from, int dest, int x)
{
	if (is_rt(x) || !wd->in_b[x] || dest == TO_MAIN)
		return 1;
	if (dest == from)
		return 1;               /* a worker's own: delivered at once */
	if (dest == TO_PROC)
		return !wd->sent_proc[x];
	return !wd->sent_to[dest][x];
}

static void window_account(struct window *wd, int from, int dest, int x, int ok)
{
	if (!wd->in_b[x]) {
		/* main takes it now (under enforce too): wait for it */
		expect[x] += ok;
		settle_sig(x);
		return;
	}
	if (dest == TO_MAIN) {
		/* pending on main until the window closes */
		int add = is_rt(x) ? ok : ok && !wd->main_pend[x];
		wd->delta[x] += add;
		wd->main_pend[x] += add;
		return;
	}
	wd->delta[x] += ok;
	if (dest == TO_PROC)
		wd->sent_proc[x] = 1;
	else if (dest != from)
		wd->sent_to[dest][x] = 1;
}

static void window_send(struct window *wd)
{
	int x = pick(N_SEND), from = pick(NW + 1) - 1;
	struct send s = rand_send(from, x);
	int dest = dest_of(from, &s);

	if (!window_allows(wd, from, dest, x)) {
		from = pick(NW);
		s = self_send(from, x);
		dest = from;
	}
	int ok = send_from(from, &s);
	check_sent(ok, s.n);
	window_account(wd, from, dest, x, ok);
}

/* A random part U of the blocked set holding a signal pending on main, if
 * `need_pending`; the temporary mask is blocked \ U. */
static int temp_mask(const struct window *wd, int need_pending, sigset_t *tmp)
{
	int have = 0;

	*tmp = wd->blocked;
	for (int x = 0; x < N_SEND; x++)
		if (wd->in_b[x] && chance(50)) {
			sigdelset(tmp, sig_of[x]);
			have |= wd->main_pend[x] > 0;
		}
	if (need_pending && !have)
		for (int x = 0; x < N_SEND && !have; x++)
			if (wd->main_pend[x] > 0) {
				sigdelset(tmp, sig_of[x]);
				have = 1;
			}
	return have;
}

/* sigsuspend needs a pending signal it unblocks, or it would wait for
 * ever natively; ppoll and pselect get a timeout instead. */
static void exit_suspend(struct window *wd)
{
	sigset_t tmp;

	if (!temp_mask(wd, 1, &tmp)) {
		desc("no pending: unblock");
		return;
	}
	desc("sigsuspend");
	watch_begin();
	sigsuspend(&tmp);
	if (watch_end())
		note_lost("sigsuspend never returned");
}

static void exit_poll(struct window *wd, int use_select)
{
	sigset_t tmp;
	int pending = temp_mask(wd, 0, &tmp);
	struct timespec to = { pending ? 5 : 0, pending ? 0 : pick(2) * 500000 };

	desc("%s(%s)", use_select ? "pselect" : "ppoll", pending ? "pending" : "timeout");
	watch_begin();
	if (use_select)
		pselect(0, NULL, NULL, NULL, &to, &tmp);
	else
		ppoll(NULL, 0, &to, &tmp);
	if (watch_end() && pending)
		note_lost("ppoll/pselect timed out with a signal pending");
}

/* One of sigwait, sigwaitinfo, sigtimedwait on signals pending on main:
 * they take thread-directed instances before process-wide ones.  The
 * rescue signal is in the set: it ends a wait that would never end. */
static int wait_one(const sigset_t *wanted, int how)
{
	struct timespec to = { bound_us() / 1000000, bound_us() % 1000000 * 1000 };
	sigset_t set = *wanted;
	int got = -1, r = -1;

	sigaddset(&set, sig_rescue);
	watch_begin();
	for (int tries = 0; tries < 100; tries++) {
		if (how == 0)
			r = sigwait(&set, &got) == 0 ? got : -1;
		else if (how == 1)
			r = sigwaitinfo(&set, NULL);
		else
			r = sigtimedwait(&set, NULL, &to);
		/* EINTR: a handler ran on main (under enforce, a forwarded one) */
		if (r >= 0 || errno != EINTR)
			break;
	}
	watch_end();
	return r == sig_rescue ? -1 : r;
}

static void exit_sigwait(struct window *wd)
{
	static const char *const how_name[] = { "sigwait", "sigwaitinfo", "sigtimedwait" };
	sigset_t set;
	int how = pick(3), n = 0;

	sigemptyset(&set);
	for (int x = 0; x < N_SEND; x++)
		if (wd->main_pend[x] > 0 && (n == 0 || chance(50))) {
			sigaddset(&set, sig_of[x]);
			n += wd->main_pend[x];
		}
	if (n == 0) {
		desc("nothing to wait for: unblock");
		return;
	}
	n = 1 + pick(n);
	desc("%s x%d", how_name[how], n);
	for (int i = 0; i < n; i++) {
		int x = index_of(wait_one(&set, how));

		if (x < 0 || wd->main_pend[x] <= 0) {
			note_lost(x < 0 ? "wait returned nothing" : "wait returned an unsent signal");
			return;
		}
		/* consumed by the wait: that instance runs no handler */
		wd->main_pend[x]--;
		wd->delta[x]--;
		waited++;
		if (wd->main_pend[x] == 0)
			sigdelset(&set, sig_of[x]);
	}
}

/* Reinstalling a handler while an instance is pending changes nothing
 * about the count: the pending instance runs the new one. */
static void window_reinstall(struct window *wd)
{
	int x = pick(N_SEND);

	(void)wd;
	desc("reinstall %s", sig_name[x]);
	install_handler(x, 0);
}

static void window_close(struct window *wd)
{
	sigset_t half;

	switch (pick(5)) {
	case 0:
		/* unblock in two halves */
		sigemptyset(&half);
		for (int x = 0; x < N_SEND; x++)
			if (wd->in_b[x] && chance(50))
				sigaddset(&half, sig_of[x]);
		desc("unblock halves");
		mask_main(SIG_UNBLOCK, &half);
		break;
	case 1:
		exit_suspend(wd);
		break;
	case 2:
		exit_poll(wd, 0);
		break;
	case 3:
		exit_poll(wd, 1);
		break;
	default:
		exit_sigwait(wd);
		break;
	}
	unblock_all();
	for (int x = 0; x < NX; x++)
		expect[x] += wd->delta[x];
	settle();
}

static void step_window(void)
{
	struct window wd;
	int actions = 1 + pick(4);

	window_open(&wd);
	for (int i = 0; i < actions; i++) {
		if (chance(10))
			window_reinstall(&wd);
		else
			window_send(&wd);
		if (chance(20))
			nap_us(pick(200));
	}
	window_close(&wd);
}

/* --- steps: installs ----------------------------------------------------------------- */

static void step_reinstall(void)
{
	int x = pick(NX);

	desc("reinstall %s", sig_name[x]);
	install_handler(x, 0);
	if (x < N_SEND && chance(30))
		step_send();
}

/* SIG_IGN, or SIG_DFL of a signal ignored by default, discards what is
 * pending of that signal and what is sent meanwhile; SIG_DFL of a
 * terminating one only keeps it pending until the handler is back. */
static void ignore_and_send(int x)
{
	int dfl = x == X_URG && chance(50);
	int from = pick(NW + 1) - 1;
	struct send s = unblocked_send(from, x);

	desc("%s %s", dfl ? "SIG_DFL" : "SIG_IGN", sig_name[x]);
	install_disp(x, dfl ? SIG_DFL : SIG_IGN);
	check_sent(send_from(from, &s), s.n);
	install_handler(x, 0);
	settle();
}

/* A worker's instance (natively run there at once; under enforce queued
 * for main, which blocks the signal) and main's own pending ones meet a
 * disposition change: main's are discarded by SIG_IGN and by SIG_DFL of
 * SIGURG, and kept by SIG_DFL of a terminating signal, which must then be
 * unblocked only once the handler is back. */
static void change_while_pending(int x)
{
	int w = pick(NW), n_main = 0, dfl = chance(50);
	int keep = dfl && x != X_URG;
	sigset_t s = one_set(x);
	struct send ws = self_send(w, x);

	desc("block %s", sig_name[x]);
	mask_main(SIG_BLOCK, &s);
	int ok = send_from(w, &ws);
	check_sent(ok, ws.n);
	expect[x] += ok;
	if (chance(60)) {
		struct send ms = self_send(TO_MAIN, x);

		n_main = send_from(TO_MAIN, &ms);
		check_sent(n_main, ms.n);
	}
	desc("%s %s", dfl ? "SIG_DFL" : "SIG_IGN", sig_name[x]);
	install_disp(x, dfl ? SIG_DFL : SIG_IGN);
	if (keep)
		expect[x] += is_rt(x) ? n_main : n_main > 0;
	if (keep || chance(50)) {
		install_handler(x, 0);
		mask_main(SIG_UNBLOCK, &s);
	} else {
		desc("unblock while ignored");
		mask_main(SIG_UNBLOCK, &s);
		install_handler(x, 0);
	}
	settle();
}

static void step_ignore(void)
{
	int x = pick(N_SEND);

	if (chance(50))
		ignore_and_send(x);
	else
		change_while_pending(x);
}

/* sigaction(x) after a one-shot delivery: SIG_DFL, flags kept. */
static void check_reset(int x)
{
	struct sigaction sa;

	if (sigaction(sig_of[x], NULL, &sa) != 0 || sa.sa_handler != SIG_DFL ||
	    !(sa.sa_flags & SA_RESETHAND)) {
		bad_queries++;
		desc("bad query");
	}
}

/* SIGURG received twice by a worker while main blocks it: the first runs
 * the one-shot handler, the second meets SIG_DFL (ignored). */
static void resethand_blocked_urg(void)
{
	sigset_t s = one_set(X_URG);
	int w = pick(NW);
	struct send first = self_send(w, X_URG), second = self_send(pick(NW), X_URG);

	desc("block SIGURG");
	mask_main(SIG_BLOCK, &s);
	int ok = send_from(w, &first);
	check_sent(ok, 1);
	check_sent(send_from(second.to, &second), 1);
	mask_main(SIG_UNBLOCK, &s);
	expect[X_URG] += ok;
	settle();
	check_reset(X_URG);
}

static void step_resethand(void)
{
	static const int xs[] = { X_USR1, X_USR2, X_URG, X_INT, X_RT1, X_RT2, X_RT3 };
	int x = xs[pick(7)], from = pick(NW + 1) - 1;
	struct send s = rand_send(from, x);

	desc("SA_RESETHAND %s", sig_name[x]);
	install_handler(x, SA_RESETHAND);
	if (x == X_URG && chance(30)) {
		resethand_blocked_urg();
	} else {
		s.n = 1;
		int ok = send_from(from, &s);
		check_sent(ok, 1);
		expect[x] += ok;
		settle();
		check_reset(x);
		if (x == X_URG) {
			/* SIG_DFL now: ignored */
			from = pick(NW + 1) - 1;
			s = unblocked_send(from, x);
			check_sent(send_from(from, &s), 1);
			settle();
			check_reset(x);
		}
	}
	install_handler(x, 0);
	settle();
}

/* --- steps: a worker interrupted in read() --------------------------------------- */

/* Waits (bounded) until thread `tid` sleeps in read(). */
static int wait_in_read(pid_t tid)
{
	char path[64], buf[64];
	long long end = now_us() + bound_us();

	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	while (now_us() < end) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (strtol(buf, NULL, 10) == SYS_read && buf[0] != 'r')
				return 0;
		}
		nap_us(50);
	}
	return -1;
}

/* The handler has SA_RESTART or not; the worker's read() must be
 * restarted or fail with EINTR accordingly (under enforce too: the
 * trampoline runs on the worker with the program's flags). */
static void step_read(void)
{
	int w = pick(NW), x = pick(N_SEND), restart = chance(50);
	int from = pick(NW + 1) - 1;
	struct send s;

	if (from == w)
		from = TO_MAIN;
	s.x = x;
	s.route = chance(50) ? R_THREAD : R_QUEUE;
	s.to = w;
	s.n = 1;
	desc("%s SA_RESTART=%d, w%d in read", sig_name[x], restart, w);
	install_restart(x, restart);
	worker_post(w, OP_READ);
	if (wait_in_read(atomic_load(&workers[w].tid)) != 0)
		note_lost("worker never blocked in read");
	int ok = send_from(from, &s);
	check_sent(ok, 1);
	expect[x] += ok;
	settle();
	if (write(pipe_fd[1], "x", 1) != 1)
		note_lost("pipe write failed");
	int res = worker_wait(w);
	n_eintr += res == RES_EINTR;
	n_restarted += res == RES_RESTARTED;
	install_handler(x, 0);
}

/* --- steps: children ------------------------------------------------------------------ */

#define MAX_PLAN 4

/* What a fork child does: a few sends to itself, some from a thread of
 * its own; it exits with the number of handler runs it saw. */
struct child_plan {
	struct send s[MAX_PLAN];
	int n;
	int thread_from;           /* s[thread_from..n) are the thread's */
	int expect;
};

static void *child_thread(void *arg)
{
	const struct child_plan *p = arg;

	for (int i = p->thread_from; i < p->n; i++)
		do_send(&p->s[i]);
	return NULL;
}

static int runs_total(void)
{
	int t = 0;

	for (int x = 0; x < NX; x++)
		t += atomic_load(&runs[x]);
	return t;
}

static void child_main(const struct child_plan *p)
{
	int before = runs_total();
	long long end = now_us() + LOST_BOUND_US;

	for (int x = 0; x < NX; x++)
		atomic_store(&reraise[x], 0);
	for (int i = 0; i < p->thread_from; i++)
		do_send(&p->s[i]);
	if (p->thread_from < p->n) {
		pthread_attr_t a;
		pthread_t t;
		sigset_t none;

		sigemptyset(&none);
		pthread_attr_init(&a);
		pthread_attr_setsigmask_np(&a, &none);
		if (pthread_create(&t, &a, child_thread, (void *)p) != 0)
			_exit(200);
	}
	/* the thread's instances run on this thread under enforce: nap */
	while (runs_total() - before < p->expect && now_us() < end)
		nap_us(20);
	_exit(runs_total() - before);
}

/* Sends to itself only: raise, kill/sigqueue(getpid()), pthread_*(self).
 * The child's thread sends only thread-directed to itself: a
 * process-directed one would go to the child's main thread, asynchronously,
 * and could coalesce with the next. */
static struct send child_send(int on_thread)
{
	static const int routes[] = { R_RAISE, R_THREAD, R_QUEUE, R_PROC, R_PROCQ };
	struct send s;

	s.x = pick(N_SEND);
	s.route = routes[pick(on_thread ? 3 : 5)];
	s.to = TO_SELF;
	s.n = is_rt(s.x) ? 1 + pick(4) : 1;
	return s;
}

static void make_plan(struct child_plan *p)
{
	p->n = 1 + pick(MAX_PLAN);
	p->thread_from = chance(40) ? pick(p->n) : p->n;
	p->expect = 0;
	for (int i = 0; i < p->n; i++) {
		p->s[i] = child_send(i >= p->thread_from);
		p->expect += p->s[i].n;
	}
	desc("child: %d sends, %d from a thread, expects %d", p->n,
	     p->n - p->thread_from, p->expect);
}

static int reap(pid_t pid)
{
	int st = 0;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

static void step_fork(void)
{
	struct child_plan p;
	int from = chance(50) ? TO_MAIN : pick(NW);
	pid_t pid;

	make_plan(&p);
	desc("fork by %s", from == TO_MAIN ? "main" : "a worker");
	if (from == TO_MAIN) {
		pid = fork();
		if (pid == 0)
			child_main(&p);
	} else {
		workers[from].plan = &p;
		worker_post(from, OP_FORK);
		pid = worker_wait(from);
	}
	int st = reap(pid);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == p.expect)
		child_ok++;
	else
		desc("child status %#x", st);
	expect[X_CHLD] += pid > 0;
	settle();
}

/* vfork children share our memory: a handler run there counts here. */
static void step_vfork(void)
{
	int variant = pick(3), x = pick(N_SEND);
	sigset_t s = one_set(x);
	char *argv[] = { (char *)"true", NULL };
	pid_t pid;

	if (variant == 2) {
		/* main blocks x with a worker's instance received (natively
		 * run there; under enforce queued for main) */
		struct send ws = self_send(pick(NW), x);

		desc("block %s", sig_name[x]);
		mask_main(SIG_BLOCK, &s);
		int ok = send_from(ws.to, &ws);
		check_sent(ok, ws.n);
		expect[x] += ok + 1;
	}
	desc("vfork %s", variant == 0 ? "_exit" : variant == 1 ? "execve" : "raise");
	pid = vfork();
	if (pid == 0) {
		if (variant == 1)
			execve("/bin/true", argv, environ);
		if (variant == 2) {
			sigprocmask(SIG_UNBLOCK, &s, NULL);
			raise(sig_of[x]);
		}
		_exit(variant == 1 ? 127 : 0);
	}
	int st = reap(pid);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		child_ok++;
	else
		desc("child status %#x", st);
	if (variant == 2)
		mask_main(SIG_UNBLOCK, &s);
	expect[X_CHLD] += pid > 0;
	settle();
}

/* A forked child blocks x on its main thread, its worker receives x
 * (natively run there; under enforce queued for the child's main), and
 * the child execs this program as an exec check: nothing of the old
 * image may be pending or arrive in the new one, which has no handlers. */
static void *exec_worker(void *arg)
{
	do_send(arg);
	return NULL;
}

static int exec_check(void)
{
	sigset_t pend, none;

	sigpending(&pend);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&pend, sig) == 1)
			return 1;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	nap_us(20000);
	return 0;
}

static void step_exec(void)
{
	int x = pick(N_SEND);
	sigset_t s = one_set(x);
	struct send ws = { .x = x, .route = chance(50) ? R_THREAD : R_QUEUE, .to = TO_SELF,
			   .n = is_rt(x) ? 1 + pick(4) : 1 };
	pid_t pid;

	desc("child blocks %s, its thread receives it x%d, child execs", sig_name[x], ws.n);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)"fwd-torture", (char *)"--exec-check", NULL };
		pthread_attr_t a;
		pthread_t t;
		sigset_t none;

		sigprocmask(SIG_BLOCK, &s, NULL);
		sigemptyset(&none);
		pthread_attr_init(&a);
		pthread_attr_setsigmask_np(&a, &none);
		if (pthread_create(&t, &a, exec_worker, &ws) != 0)
			_exit(200);
		pthread_join(t, NULL);
		execve("/proc/self/exe", argv, environ);
		_exit(127);
	}
	int st = reap(pid);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		child_ok++;
	else
		desc("child status %#x", st);
	expect[X_CHLD] += pid > 0;
	settle();
}

/* glibc's system() sets SIGINT (and SIGQUIT) to SIG_IGN behind any
 * interposer and blocks SIGCHLD: a SIGINT pending on main is discarded,
 * one a worker received has run (natively) before. */
static void step_system(void)
{
	int pre = chance(50);
	sigset_t s = one_set(X_INT);

	if (pre) {
		struct send ws = self_send(pick(NW), X_INT);

		desc("block SIGINT");
		mask_main(SIG_BLOCK, &s);
		int ok = send_from(ws.to, &ws);
		check_sent(ok, 1);
		expect[X_INT] += ok;
		if (chance(50)) {
			/* pending on main: system() discards it */
			check_sent(raise(SIGINT) == 0, 1);
			desc("raise SIGINT (discarded)");
		}
	}
	desc("system");
	int st = system("true");
	if (st == 0)
		child_ok++;
	else
		desc("system status %#x", st);
	expect[X_CHLD] += st != -1;
	if (pre)
		mask_main(SIG_UNBLOCK, &s);
	settle();
}

/* --- steps: RLIMIT_SIGPENDING 0 -------------------------------------------------------- */

/* No siginfo can be queued: sigqueue and tkill of a real-time signal fail
 * with EAGAIN, a standard signal still arrives (its siginfo zeroed unless
 * sent by kill()).  0 is the only limit that does not depend on what
 * other processes of the user have pending. */
static void step_rlimit(void)
{
	struct rlimit old, zero;
	int sends = 1 + pick(3);

	getrlimit(RLIMIT_SIGPENDING, &old);
	zero.rlim_cur = 0;
	zero.rlim_max = old.rlim_max;
	desc("RLIMIT_SIGPENDING 0");
	setrlimit(RLIMIT_SIGPENDING, &zero);
	for (int i = 0; i < sends; i++) {
		int x = pick(N_SEND), from = pick(NW + 1) - 1;
		struct send s = rand_send(from, x);

		/* several kill()s of a real-time signal without siginfo
		 * coalesce like a standard signal: one at a time */
		s.n = 1;
		expect[x] += send_from(from, &s);
		settle();
	}
	setrlimit(RLIMIT_SIGPENDING, &old);
}

/* --- the run ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	void (*fn)(void);
	int weight;
} steps[] = {
	{ "send", step_send, 30 },
	{ "window", step_window, 25 },
	{ "storm", step_storm, 5 },
	{ "reinstall", step_reinstall, 6 },
	{ "ignore", step_ignore, 8 },
	{ "resethand", step_resethand, 6 },
	{ "read", step_read, 4 },
	{ "fork", step_fork, 3 },
	{ "vfork", step_vfork, 3 },
	{ "system", step_system, 2 },
	{ "exec", step_exec, 2 },
	{ "rlimit", step_rlimit, 3 },
};
#define N_STEPS (int)(sizeof steps / sizeof steps[0])

static int step_count[N_STEPS];

static int pick_step(void)
{
	int total = 0, r;

	for (int i = 0; i < N_STEPS; i++)
		total += steps[i].weight;
	r = pick(total);
	for (int i = 0; i < N_STEPS; i++) {
		if (r < steps[i].weight)
			return i;
		r -= steps[i].weight;
	}
	return 0;
}

/* Names the step during which a handler saw a foreign siginfo. */
static void report_bad_siginfo(int before)
{
	int n = atomic_load(&bad_siginfo) - before;

	if (n > 0)
		say_err("@bad-siginfo step=%d kind=%s n=%d last: %s si_code=%d si_pid=%s "
			"si_value=%#x | %s", step_no, step_name, n,
			tr_signame(atomic_load(&bad_sig)), atomic_load(&bad_code),
			atomic_load(&bad_pid) == getpid() ? "self" :
			atomic_load(&bad_pid) == 0 ? "0" : "other",
			(unsigned)atomic_load(&bad_value), step_desc);
}

static void run_step(int k)
{
	int bad_before = atomic_load(&bad_siginfo);

	step_name = steps[k].name;
	step_desc[0] = '\0';
	step_lost = step_extra = 0;
	step_count[k]++;
	steps[k].fn();
	lost_steps += step_lost;
	extra_steps += step_extra;
	report_bad_siginfo(bad_before);
	if (tracing)
		say_err("@step %d %s%s%s | %s", step_no, step_name, step_lost ? " LOST" : "",
			step_extra ? " EXTRA" : "", step_desc);
}

static void setup(unsigned long long seed)
{
	int sigs[NX] = { SIGUSR1, SIGUSR2, SIGURG, SIGINT,
			 SIGRTMIN + 1, SIGRTMIN + 2, SIGRTMIN + 3, SIGCHLD };

	struct sigaction sa;
	pthread_attr_t a;
	pthread_t dog;
	sigset_t all;

	memcpy(sig_of, sigs, sizeof sig_of);
	sig_rescue = SIGRTMIN + 4;
	rng = seed;
	main_thr = pthread_self();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h_rescue;
	sigemptyset(&sa.sa_mask);
	sigaction(sig_rescue, &sa, NULL);
	unblock_all();
	sigfillset(&all);
	pthread_attr_init(&a);
	pthread_attr_setsigmask_np(&a, &all);
	pthread_create(&dog, &a, watchdog, &main_thr);
	pthread_attr_destroy(&a);
	if (pipe2(pipe_fd, O_CLOEXEC) != 0) {
		say_err("@fatal pipe");
		exit(1);
	}
	for (int x = 0; x < NX; x++)
		install_handler(x, 0);
	start_workers();
}

static void report(long long t0)
{
	char kinds[512];
	size_t o = 0;

	for (int x = 0; x < NX; x++)
		tr_printf("runs %s %d\n", sig_name[x], atomic_load(&runs[x]));
	tr_printf("waited %d\nchild-ok %d\neintr %d\nrestarted %d\n", waited, child_ok,
		  n_eintr, n_restarted);
	tr_printf("bad-siginfo %d\nbad-queries %d\nsend-errors %d\n",
		  atomic_load(&bad_siginfo), bad_queries, send_errors);
	tr_printf("extra-steps %d\nlost-steps %d\ndone\n", extra_steps, lost_steps);
	for (int i = 0; i < N_STEPS; i++)
		o += (size_t)snprintf(kinds + o, sizeof kinds - o, " %s=%d", steps[i].name,
				      step_count[i]);
	say_err("@kinds%s", kinds);
	say_err("@ms %lld", (now_us() - t0) / 1000);
}

/* The end of every run: a late extra delivery still shows. */
static long long run_t0;

static void finish(void)
{
	step_name = "end";
	step_desc[0] = '\0';
	step_extra = 0;
	nap_us(10000);
	settle();
	extra_steps += step_extra;
	report(run_t0);
}

static void *reporter(void *arg)
{
	(void)arg;
	finish();
	exit(0);
}

/* Half the runs end with main's pthread_exit while main blocks x and a
 * worker has received it (natively run there; under enforce queued for
 * main): the queue must run before main goes, and a worker reports. */
static void end_by_main_exit(void)
{
	int x = pick(N_SEND);
	sigset_t s = one_set(x), all;
	struct send ws = self_send(pick(NW), x);
	pthread_attr_t a;
	pthread_t t;

	step_name = "main-exit";
	step_desc[0] = '\0';
	desc("block %s", sig_name[x]);
	mask_main(SIG_BLOCK, &s);
	int ok = send_from(ws.to, &ws);
	check_sent(ok, ws.n);
	expect[x] += ok;
	desc("main pthread_exit");
	if (tracing)
		say_err("@step %d %s | %s", step_no, step_name, step_desc);
	sigfillset(&all);
	pthread_attr_init(&a);
	pthread_attr_setsigmask_np(&a, &all);
	if (pthread_create(&t, &a, reporter, NULL) != 0) {
		say_err("@fatal reporter");
		exit(1);
	}
	pthread_exit(NULL);
}

int main(int argc, char **argv)
{
	long iterations;

	run_t0 = now_us();
	if (argc == 2 && strcmp(argv[1], "--exec-check") == 0)
		return exec_check();
	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "trace") != 0)) {
		fprintf(stderr, "usage: fwd-torture SEED ITERATIONS [trace]\n");
		return 2;
	}
	tracing = argc == 4;
	iterations = strtol(argv[2], NULL, 10);
	setup(strtoull(argv[1], NULL, 0));
	for (step_no = 0; step_no < iterations; step_no++) {
		if (lost_steps >= MAX_LOST || now_us() - run_t0 > RUN_BUDGET_US) {
			say_err("@stopped at step %d of %ld", step_no, iterations);
			lost_steps += (int)(iterations - step_no);
			break;
		}
		run_step(pick_step());
	}
	if (chance(50))
		end_by_main_exit();
	finish();
	return 0;
}
