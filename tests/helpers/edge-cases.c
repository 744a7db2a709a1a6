/* Hostile-host regressions for the shim itself (issue 10), one named case
 * per run:
 *
 *   edge-cases CASE
 *
 * As fwd-cases.c: stdout holds only what the program observed, the same
 * natively and under the shim; every wait is bounded (alarm), so a shim
 * that hangs shows as a wrong status, not a stuck suite. */
#define _GNU_SOURCE 1
#include "transcript.h"
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define say tr_say

/* --- 1. logging adds no cancellation point ------------------------------------ */

static atomic_int cancel_requested;
static atomic_int after_masks;

/* The target, started with cancellation disabled, waits for its cancel,
 * then enables it: the cancel is pending, and acts at the first
 * cancellation point (enabling it does not act by itself). */
static void cancel_now_pending(void)
{
	while (!atomic_load(&cancel_requested))
		;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
}

/* Starts fn, cancels it at once, lets it see the cancel, joins it: its
 * return value (PTHREAD_CANCELED if the cancel acted). */
static void *run_cancelled(void *(*fn)(void *))
{
	pthread_t t;
	void *ret;

	pthread_create(&t, NULL, fn, NULL);
	pthread_cancel(t);
	atomic_store(&cancel_requested, 1);
	pthread_join(t, &ret);
	return ret;
}

static void *cancel_target(void *arg)
{
	sigset_t s;

	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	cancel_now_pending();
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);   /* not a cancellation point */
	sigprocmask(SIG_UNBLOCK, &s, NULL);     /* nor this */
	atomic_store(&after_masks, 1);          /* say() would be one */
	pthread_testcancel();
	return NULL;
}

static int case_cancel_pending_mask(void)
{
	void *ret = run_cancelled(cancel_target);

	say("survived the mask calls: %s", atomic_load(&after_masks) ? "yes" : "no");
	say("joined, cancelled %s", ret == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}

/* The same with many calls: enough lines that sink=mmap grows its file
 * (every MiB), which must not be a cancellation point either. */
static atomic_long masks_done;

static void *cancel_target_many(void *arg)
{
	sigset_t s;

	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	cancel_now_pending();
	sigemptyset(&s);
	for (int i = 0; i < 15000; i++) {
		pthread_sigmask(SIG_BLOCK, &s, NULL);
		atomic_fetch_add(&masks_done, 1);
	}
	pthread_testcancel();
	return NULL;
}

static int case_cancel_pending_many_masks(void)
{
	void *ret = run_cancelled(cancel_target_many);

	say("mask calls made before the cancel: %ld", atomic_load(&masks_done));
	say("joined, cancelled %s", ret == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}

/* dup2 onto the numbers the log sits at, from several threads, while one
 * of them has a cancel pending: dup2 is not a cancellation point, so that
 * thread makes every call (the shim's relocation waits for the other
 * relocator and for writers, and must not wait in a cancellation point). */
static atomic_int storm_stop;
static atomic_long storm_done;

/* close() is a cancellation point: the target only dup2()s (onto numbers
 * the others keep closing), the others close too. */
static void storm_round(int fd, bool and_close)
{
	sigset_t s;

	sigemptyset(&s);
	for (int k = 1000; k < 1004; k++)
		if (dup2(fd, k) == k && and_close)
			close(k);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void *storm_other(void *arg)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	(void)arg;
	while (!atomic_load(&storm_stop))
		storm_round(fd, true);
	close(fd);
	return NULL;
}

static void *storm_target(void *arg)
{
	int fd;

	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);   /* open is a cancellation point */
	cancel_now_pending();
	for (int i = 0; i < 3000; i++) {
		storm_round(fd, false);
		atomic_fetch_add(&storm_done, 1);
	}
	/* returns with the cancel still pending: an early cancel is what the
	 * case looks for (and ASan's thread teardown misreads a cancelled
	 * thread's stack as used after scope) */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	close(fd);
	return NULL;
}

static int case_cancel_pending_dup2_storm(void)
{
	pthread_t o[3];
	void *ret;

	for (int i = 0; i < 3; i++)
		pthread_create(&o[i], NULL, storm_other, NULL);
	ret = run_cancelled(storm_target);
	atomic_store(&storm_stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(o[i], NULL);
	say("dup2 rounds made before the cancel: %ld", atomic_load(&storm_done));
	say("joined, cancelled %s", ret == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}

/* --- 1. a handler that jumps out of a logged call ----------------------------------- */

static sigjmp_buf jump_env;
static __thread volatile sig_atomic_t jump_armed;
static atomic_int jumps;

static void h_jump(int sig)
{
	(void)sig;
	if (jump_armed) {
		/* disarmed first: siglongjmp unblocks the signal before it
		 * jumps, and the next storm instance must not nest a jump */
		jump_armed = 0;
		atomic_fetch_add(&jumps, 1);
		siglongjmp(jump_env, 1);
	}
}

static atomic_int storm_stop;

static void *stormer(void *arg)
{
	pthread_t target = *(pthread_t *)arg;

	while (!atomic_load(&storm_stop))
		pthread_kill(target, SIGUSR1);
	return NULL;
}

/* The shim's log descriptor, if any: the lowest fd >= 1000. */
static int high_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int best = -1;

	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd >= 1000 && fd != dirfd(d) && (best < 0 || fd < best))
			best = fd;
	}
	if (d)
		closedir(d);
	return best;
}

static void *dup2_onto(void *arg)
{
	int fd = *(int *)arg;

	if (fd >= 0 && dup2(2, fd) < 0)
		say("dup2 failed: %s", strerror(errno));
	return NULL;
}

static int case_jump_out_of_logged_call(void)
{
	struct sigaction sa;
	pthread_t self = pthread_self(), t;
	sigset_t s;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h_jump;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_create(&t, NULL, stormer, &self);
	time_t until = time(NULL) + 3;

	while (atomic_load(&jumps) < 300 && time(NULL) < until) {
		if (sigsetjmp(jump_env, 1) == 0) {
			jump_armed = 1;
			pthread_sigmask(SIG_BLOCK, &s, NULL);   /* logged */
			pthread_sigmask(SIG_UNBLOCK, &s, NULL);
		}
		jump_armed = 0;
	}
	atomic_store(&storm_stop, 1);
	pthread_join(t, NULL);

	/* another thread taking the log's number must not wait forever for
	 * the writes the jumps abandoned */
	alarm(20);
	fd = high_fd();
	pthread_create(&t, NULL, dup2_onto, &fd);
	pthread_join(t, NULL);
	fprintf(stderr, "@jumps %d\n", atomic_load(&jumps));
	say("dup2 onto the log's number returned");
	return 0;
}

/* --- 2. fork: the child starts clean ----------------------------------------------- */

static atomic_int got_usr1;

static void h_count(int sig)
{
	(void)sig;
	atomic_fetch_add(&got_usr1, 1);
}

/* Each child is signalled at once, while it may still be inside fork():
 * those deliveries are the child's, never logged as the parent's. */
static int case_fork_then_signal(void)
{
	struct sigaction sa;
	int ok = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h_count;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			struct timespec ts = { 0, 20000000 };

			while (nanosleep(&ts, &ts) < 0)
				;
			_exit(0);
		}
		for (int k = 0; k < 200; k++)
			kill(pid, SIGUSR1);
		waitpid(pid, &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	say("children exited 0: %d/20, parent got %d", ok, atomic_load(&got_usr1));
	return 0;
}

/* A violation in the parent (a worker's install, denied under enforce) is
 * not the child's: with exitcode=N the clean child still exits 0. */
static void *install_from_worker(void *arg)
{
	(void)arg;
	signal(SIGUSR2, h_count);
	return NULL;
}

static int case_fork_after_violation(void)
{
	pthread_t t;
	pid_t pid;
	int st;

	pthread_create(&t, NULL, install_from_worker, NULL);
	pthread_join(t, NULL);
	pid = fork();
	if (pid == 0)
		exit(0);
	waitpid(pid, &st, 0);
	say("child status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

/* --- 8. sigaction(sig, &sa, &sa) --------------------------------------------------- */

static void h_aliased(int sig)
{
	(void)sig;
}

static int case_sigaction_aliased(void)
{
	struct sigaction sa;
	/* programs do pass the same object (glibc's prototype says
	 * restrict, and the compiler would warn about the literal) */
	struct sigaction *volatile same = &sa;

	fprintf(stderr, "@fn h_aliased %p\n", (void *)h_aliased);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h_aliased;
	sigaction(SIGUSR1, &sa, same);
	say("old handler is SIG_DFL: %s", sa.sa_handler == SIG_DFL ? "yes" : "no");
	return 0;
}

/* --- 8. a very long argv[0] ---------------------------------------------------------- */

static int case_long_argv0(void)
{
	static char name[6000];
	char *argv[] = { name, "long-argv0-target", NULL };

	memset(name, 'x', sizeof name - 1);
	execv("/proc/self/exe", argv);
	say("exec failed");
	return 1;
}

static int case_long_argv0_target(void)
{
	say("exec'd with a %zu-byte argv[0]", strlen(program_invocation_name));
	return 0;
}

/* --- 3. exitcode=N keeps the program's exit work ---------------------------------- */

static int case_output_then_violation(void)
{
	pthread_t t;

	/* stdio output still buffered at exit (stdout is a pipe) */
	printf("buffered output, flushed by exit\n");
	pthread_create(&t, NULL, install_from_worker, NULL);
	pthread_join(t, NULL);
	return 0;
}

/* --- 8. a program with a long path ---------------------------------------------------- */

static int case_install_handler(void)
{
	signal(SIGUSR1, h_count);   /* the handler's module gets its line */
	say("installed");
	return 0;
}

/* --- 5. the log's descriptor against a full table and a tiny limit ----------------- */

/* Started with RLIMIT_NOFILE 64 (by prlimit, so the log sits below it):
 * fills the descriptor table, then dup2()s onto every number from the
 * top: natively each succeeds.  Under the shim the log's number is among
 * them and there is nowhere to move it: the program must still get its
 * descriptor, and the loss must be said.  Then a logged call. */
static int case_dup2_table_full(void)
{
	int n = 0, bad = 0;

	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	for (int fd = 63; fd >= 3; fd--)
		bad += dup2(0, fd) != fd;
	signal(SIGUSR1, h_count);
	say("dup2 failures %d, table was full: %s", bad, n > 0 ? "yes" : "no");
	return 0;
}

/* Started with RLIMIT_NOFILE 8 (by prlimit): the program's own opens get
 * the numbers they get natively. */
static int case_low_nofile(void)
{
	char line[64] = "";

	for (int i = 0; i < 3; i++) {
		int fd = open("/dev/null", O_RDONLY);

		snprintf(line + strlen(line), sizeof line - strlen(line), " %d", fd);
	}
	signal(SIGUSR1, h_count);
	say("fds%s", line);
	return 0;
}

/* Closing every descriptor from 3 with the raw system call, the log's
 * included, then taking the numbers from 1000 up for a file of the
 * program's own and making logged calls: what the program reads back is
 * only what it wrote.
 *   raw-close-range-reuse   through glibc's syscall()
 *   asm-close-range-reuse   the instruction itself (as Go or static code
 *                           does), then a pause of 10 ms */
static long close_range_insn(unsigned first, unsigned last)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_close_range), "D"((long)first), "S"((long)last), "d"(0L)
			 : "rcx", "r11", "memory");
	return ret;
#else
	return syscall(SYS_close_range, first, last, 0);
#endif
}

static int close_range_reuse(bool insn)
{
	char path[] = "/tmp/sigshim-reuse-XXXXXX", buf[256];
	int fd, high = 0;
	ssize_t n;
	sigset_t s;

	sigemptyset(&s);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	if (insn) {
		struct timespec ts = { 0, 10000000 };

		close_range_insn(3U, ~0U);
		nanosleep(&ts, NULL);
	} else {
		syscall(SYS_close_range, 3U, ~0U, 0U);
	}
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	unlink(path);
	for (int i = 0; i < 32; i++)
		high += fcntl(fd, F_DUPFD, 1000) >= 1000;
	for (int i = 0; i < 5; i++)
		pthread_sigmask(SIG_BLOCK, &s, NULL);
	signal(SIGUSR1, h_count);
	raise(SIGUSR1);
	if (write(fd, "program line\n", 13) != 13)
		return 1;
	n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	say("high fds %d, file holds %zd bytes: %s", high, n, strtok(buf, "\n"));
	if (insn)
		say("close of 1000: %d", close(1000));
	return 0;
}

static int case_raw_close_range_reuse(void)
{
	return close_range_reuse(false);
}

static int case_asm_close_range_reuse(void)
{
	return close_range_reuse(true);
}

/* --- 4. sink=mmap: exit racing writers, a log truncated by someone else ----------- */

static void *mask_logger(void *arg)
{
	sigset_t s;

	(void)arg;
	sigemptyset(&s);
	for (;;)
		pthread_sigmask(SIG_BLOCK, &s, NULL);   /* one logged call each */
	return NULL;
}

/* Four threads log as fast as they can while main returns from main. */
static int case_exit_racing_loggers(void)
{
	pthread_t t;

	for (int i = 0; i < 4; i++)
		pthread_create(&t, NULL, mask_logger, NULL);
	usleep(2000);
	say("exiting");
	return 0;
}

/* The log is cut to 0 bytes by someone else (logrotate copytruncate),
 * then the program logs on: it must not die of SIGBUS.  The log's
 * directory is read from SIGSHIM_OPTIONS (natively: none). */
static int case_log_truncated(void)
{
	char path[600], dir[512] = "/nonexistent";
	const char *o = getenv("SIGSHIM_OPTIONS"), *lp = o ? strstr(o, "log_path=") : NULL;
	DIR *d;

	if (lp) {
		const char *end = strchr(lp, ':');
		size_t n = end ? (size_t)(end - lp - 9) : strlen(lp + 9);

		snprintf(dir, sizeof dir, "%.*s", (int)n, lp + 9);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
	}
	d = opendir(dir);
	struct dirent *de;
	sigset_t s;

	signal(SIGUSR1, h_count);
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, "log.", 4) == 0) {
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			(void)!truncate(path, 0);
		}
	if (d)
		closedir(d);
	sigemptyset(&s);
	for (int i = 0; i < 20000; i++)
		pthread_sigmask(SIG_BLOCK, &s, NULL);
	signal(SIGUSR2, h_count);
	say("survived");
	return 0;
}

/* --- 10. _exit is an end too ----------------------------------------------------------- */

/* A forked child ends with _exit(3); a vfork child with _exit(0); the
 * parent returns from main. */
static int case_fork_then__exit(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		signal(SIGUSR1, h_count);
		_exit(3);
	}
	waitpid(pid, &st, 0);
	pid = vfork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	say("child status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

/* --- 6. descendants run on when the log path stops resolving ------------------------- */

static int exec_self(const char *target)
{
	char *argv[] = { "edge-cases", (char *)target, NULL };

	execv("/proc/self/exe", argv);
	say("exec failed: %s", strerror(errno));
	return 1;
}

/* A relative log_path, then a chdir: the child's log belongs beside the
 * parent's, and the child must start. */
static int case_chdir_then_exec(void)
{
	char dir[] = "/tmp/sigshim-elsewhere-XXXXXX";

	if (!mkdtemp(dir) || chdir(dir) != 0)
		return 1;
	rmdir(dir);   /* the cwd is gone too: nothing may be created here */
	return exec_self("child-ran");
}

static int case_child_ran(void)
{
	say("child ran");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "chdir-then-exec", case_chdir_then_exec },
	{ "child-ran", case_child_ran },
	{ "install-handler", case_install_handler },
	{ "dup2-table-full", case_dup2_table_full },
	{ "low-nofile", case_low_nofile },
	{ "raw-close-range-reuse", case_raw_close_range_reuse },
	{ "asm-close-range-reuse", case_asm_close_range_reuse },
	{ "fork-then-_exit", case_fork_then__exit },
	{ "exit-racing-loggers", case_exit_racing_loggers },
	{ "log-truncated", case_log_truncated },
	{ "output-then-violation", case_output_then_violation },
	{ "long-argv0", case_long_argv0 },
	{ "long-argv0-target", case_long_argv0_target },
	{ "sigaction-aliased", case_sigaction_aliased },
	{ "fork-then-signal", case_fork_then_signal },
	{ "fork-after-violation", case_fork_after_violation },
	{ "cancel-pending-mask", case_cancel_pending_mask },
	{ "cancel-pending-many-masks", case_cancel_pending_many_masks },
	{ "cancel-pending-dup2-storm", case_cancel_pending_dup2_storm },
	{ "jump-out-of-logged-call", case_jump_out_of_logged_call },
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: edge-cases CASE\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(argv[1], cases[i].name) == 0)
			return cases[i].fn();
	fprintf(stderr, "edge-cases: unknown case '%s'\n", argv[1]);
	return 2;
}
