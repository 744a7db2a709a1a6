/* Process life cycle under the shim: fork (from main and from a worker),
 * exec, a program that closes and dup2s over every descriptor, and a bare
 * "hello" for option errors (whose main must never be reached).
 *
 *   lifecycle fork | forkthread | exec | inherit | closefds | hello
 *
 * Prints a deterministic transcript (transcript.h); closefds writes it to
 * ./closefds.out instead, since it closes its stdout. */
#include "transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FD 1024

static void h_usr1(int sig)
{
	tr_record("h_usr1", sig, NULL);
}

static void install(int sig)
{
	struct sigaction a;

	memset(&a, 0, sizeof a);
	a.sa_handler = h_usr1;
	sigemptyset(&a.sa_mask);
	errno = 0;
	int r = sigaction(sig, &a, NULL);
	tr_ret(sig == SIGUSR1 ? "sigaction(SIGUSR1, h_usr1)" : "sigaction(SIGUSR2, h_usr1)",
	       r, errno);
}

static void do_raise(int sig)
{
	errno = 0;
	int r = raise(sig);
	tr_ret(sig == SIGUSR1 ? "raise(SIGUSR1)" : "raise(SIGUSR2)", r, errno);
}

static void child_body(const char *who, int code)
{
	tr_printf("%s: child\n", who);
	do_raise(SIGUSR1);
	install(SIGUSR2);
	do_raise(SIGUSR2);
	exit(code);
}

static void wait_child(const char *who, pid_t pid)
{
	int st = 0;

	fprintf(stderr, "@child %d\n", (int)pid);
	if (waitpid(pid, &st, 0) != pid)
		tr_printf("%s: waitpid failed\n", who);
	else
		tr_printf("%s: child exited=%d status=%d\n", who, WIFEXITED(st),
			  WEXITSTATUS(st));
}

static int mode_fork(void)
{
	install(SIGUSR1);
	do_raise(SIGUSR1);
	pid_t pid = fork();
	if (pid == 0)
		child_body("main", 3);
	wait_child("main", pid);
	do_raise(SIGUSR1);
	return 0;
}

static void *forking_worker(void *arg)
{
	/* named here, not by main: the child must know the name */
	tr_name_thread("t1", pthread_self());
	pid_t pid = fork();

	if (pid == 0)
		child_body("worker", 4);
	wait_child("worker", pid);
	return NULL;
}

static int mode_forkthread(void)
{
	pthread_t t;

	install(SIGUSR1);
	pthread_create(&t, NULL, forking_worker, NULL);
	pthread_join(t, NULL);
	do_raise(SIGUSR1);
	return 0;
}

static int mode_exec(const char *self)
{
	char *argv[] = { "lifecycle-execd", "exec-child", NULL };

	install(SIGUSR1);
	do_raise(SIGUSR1);
	tr_printf("exec\n");
	execv(self, argv);
	tr_printf("execv failed: %s\n", tr_errname(errno));
	return 1;
}

static int mode_exec_child(void)
{
	tr_printf("after exec\n");
	install(SIGUSR1);
	do_raise(SIGUSR1);
	return 0;
}

/* State inherited across exec: ignored dispositions, the mask and a
 * pending signal must look the same to the new image under the shim. */
static int mode_inherit(const char *self)
{
	char *argv[] = { "lifecycle-inherit", "inherit-child", NULL };
	sigset_t usr2;

	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	raise(SIGUSR2);
	tr_printf("exec with SIGHUP, SIGPIPE ignored, SIGUSR2 blocked and pending\n");
	execv(self, argv);
	tr_printf("execv failed: %s\n", tr_errname(errno));
	return 1;
}

static int mode_inherit_child(void)
{
	struct sigaction q;
	sigset_t pend, usr2;
	char a[300], m[256];
	static const int sigs[] = { SIGHUP, SIGPIPE, SIGUSR2 };

	for (int i = 0; i < 3; i++) {
		errno = 0;
		int r = sigaction(sigs[i], NULL, &q);
		tr_printf("sigaction(%s, NULL, &old) -> %d errno=%s old=%s\n",
			  tr_signame(sigs[i]), r, tr_errname(errno), tr_act(&q, a, sizeof a));
	}
	tr_show_mask("main");
	sigpending(&pend);
	tr_printf("  pending %s\n", tr_mask(&pend, m, sizeof m));
	install(SIGUSR2);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	errno = 0;
	int r = sigprocmask(SIG_UNBLOCK, &usr2, NULL);
	tr_ret("sigprocmask(SIG_UNBLOCK, [SIGUSR2], NULL)", r, errno);
	return 0;
}

/* --- closefds ------------------------------------------------------------ */

/* Nothing may be printed while every descriptor is hostile: results are
 * kept here and written to ./closefds.out at the end. */
static char note_buf[2048];
static size_t note_len;

static void note(const char *what, int r, int e)
{
	note_len += (size_t)snprintf(note_buf + note_len, sizeof note_buf - note_len,
				     "%s -> %d errno=%s\n", what, r, tr_errname(e));
}

#define NOTE(expr) do { errno = 0; int r_ = (expr); note(#expr, r_, errno); } while (0)

struct counts {
	int ok, ebadf, other;
};

static void count(struct counts *c, int r)
{
	if (r >= 0)
		c->ok++;
	else if (errno == EBADF)
		c->ebadf++;
	else
		c->other++;
}

static void print_counts(const char *what, const struct counts *c)
{
	tr_printf("%s: ok=%d ebadf=%d other=%d\n", what, c->ok, c->ebadf, c->other);
}

static int mode_closefds(void)
{
	struct counts closed = { 0 }, duped = { 0 }, duped2 = { 0 };
	struct sigaction a, q;
	int victim;

	memset(&a, 0, sizeof a);
	a.sa_handler = h_usr1;
	sigemptyset(&a.sa_mask);
	NOTE(sigaction(SIGUSR1, &a, NULL));
	for (int fd = 0; fd < MAX_FD; fd++) {
		errno = 0;
		count(&closed, close(fd));
	}
	NOTE(raise(SIGUSR1));
	/* Every descriptor now refers to a file of ours: the shim must
	 * not write into it. */
	victim = open("victim", O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int fd = 0; fd < MAX_FD; fd++) {
		if (fd == victim)
			continue;
		errno = 0;
		count(&duped, dup2(victim, fd));
	}
	NOTE(raise(SIGUSR1));
	NOTE(sigaction(SIGUSR2, &a, NULL));
	closefrom(3);
	NOTE(fcntl(3, F_GETFD));
	NOTE(raise(SIGUSR2));
	for (int fd = 3; fd < MAX_FD; fd++) {
		errno = 0;
		count(&duped2, dup2(0, fd));
	}
	NOTE(close_range(3, ~0U, 0));
	NOTE(fcntl(3, F_GETFD));
	NOTE(sigaction(SIGUSR1, NULL, &q));
	NOTE(raise(SIGUSR1));

	int out = open("closefds.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(out, 1);
	tr_printf("victim fd %d\n", victim);
	print_counts("close 0..1023", &closed);
	print_counts("dup2 victim over 0..1023", &duped);
	print_counts("dup2 0 over 3..1023", &duped2);
	tr_printf("%s", note_buf);
	tr_printf("SIGUSR1 handler at the end: %s\n", tr_handler((void *)q.sa_handler));
	tr_flush();
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "hello") == 0) {
		tr_printf("main reached\n");
		return 0;
	}
	tr_init();
	TR_FN(h_usr1);
	if (strcmp(mode, "fork") == 0)
		return mode_fork();
	if (strcmp(mode, "forkthread") == 0)
		return mode_forkthread();
	if (strcmp(mode, "exec") == 0)
		return mode_exec("/proc/self/exe");
	if (strcmp(mode, "exec-child") == 0)
		return mode_exec_child();
	if (strcmp(mode, "closefds") == 0)
		return mode_closefds();
	if (strcmp(mode, "inherit") == 0)
		return mode_inherit("/proc/self/exe");
	if (strcmp(mode, "inherit-child") == 0)
		return mode_inherit_child();
	fprintf(stderr, "usage: lifecycle fork|forkthread|exec|inherit|closefds|hello\n");
	return 64;
}
