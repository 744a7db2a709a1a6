/* Handler installation: sigaction and the signal() family, valid and
 * invalid inputs.  Prints a deterministic transcript (transcript.h). */
#include "transcript.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Declared here so every name is reached exactly as a program would bind
 * it, whatever feature macros the headers honour. */
typedef void (*handler_t)(int);
extern handler_t bsd_signal(int, handler_t);
extern handler_t ssignal(int, handler_t);
extern handler_t sysv_signal(int, handler_t);
extern handler_t __sysv_signal(int, handler_t);
extern int __sigpause(int sig_or_mask, int is_sig);
extern int __xpg_sigpause(int sig);
extern int bsd_sigpause(int mask) __asm__("sigpause");

static void h_usr1(int sig)
{
	tr_record("h_usr1", sig, NULL);
}

static void h_other(int sig)
{
	tr_record("h_other", sig, NULL);
}

static void h_info(int sig, siginfo_t *si, void *uc)
{
	tr_record("h_info", sig, si);
}

static void h_mask(int sig, siginfo_t *si, void *uc)
{
	tr_record_mask("h_mask", sig, si);
}

/* act with the given handler, flags and a 0-terminated list of mask signals */
static struct sigaction mk(void *handler, int flags, ...)
{
	struct sigaction a;
	va_list ap;
	int s;

	memset(&a, 0, sizeof a);
	a.sa_handler = (handler_t)handler;
	a.sa_flags = flags;
	sigemptyset(&a.sa_mask);
	va_start(ap, flags);
	while ((s = va_arg(ap, int)) != 0)
		sigaddset(&a.sa_mask, s);
	va_end(ap);
	return a;
}

static void sa(int sig, const struct sigaction *act, int want_old)
{
	struct sigaction old;
	char a[300] = "NULL", o[300] = "";

	memset(&old, 0x5a, sizeof old);
	if (act)
		tr_act(act, a, sizeof a);
	errno = 0;
	int r = sigaction(sig, act, want_old ? &old : NULL);
	int e = errno;
	if (want_old && r == 0) {
		strcpy(o, " old=");
		tr_act(&old, o + 5, sizeof o - 5);
	}
	tr_printf("sigaction(%d %s, %s, %s) -> %d errno=%s%s\n", sig, tr_signame(sig),
		  a, want_old ? "&old" : "NULL", r, tr_errname(e), o);
	tr_flush();
}

#define CALL(expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
	tr_ret(#expr, r_, e_); } while (0)
#define CALL_H(expr) do { errno = 0; void *r_ = (void *)(expr); int e_ = errno; \
	tr_ret_h(#expr, r_, e_); } while (0)

static void block(int how, int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(how, &s, NULL);
}

/* --- SA_RESTART: a read() on a pipe interrupted by a signal ------------- */

static int rfd[2];

static void *interrupter(void *arg)
{
	int before = tr_count();

	if (tr_wait_in_syscall(getpid(), SYS_read) == 0) {
		pthread_kill(*(pthread_t *)arg, SIGUSR1);
		tr_wait_count(before + 1);
	} else {
		tr_printf("interrupter: main never blocked in read()\n");
	}
	char c = 'x';
	if (write(rfd[1], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

static void read_test(const char *label)
{
	pthread_t self = pthread_self(), t;
	char c;

	pthread_create(&t, NULL, interrupter, &self);
	errno = 0;
	long r = read(rfd[0], &c, 1);
	int e = errno;
	tr_printf("read during signal (%s) -> %ld errno=%s\n", label, r, tr_errname(e));
	tr_flush();
	if (r < 0)
		r = read(rfd[0], &c, 1);   /* the byte still arrives */
	pthread_join(t, NULL);
}

static void section_sigaction(void)
{
	struct sigaction a;

	tr_printf("== sigaction\n");
	sa(SIGUSR1, NULL, 1);
	a = mk(h_usr1, SA_RESTART, SIGUSR2, SIGTERM, 0);
	sa(SIGUSR1, &a, 1);
	sa(SIGUSR1, NULL, 1);
	CALL(raise(SIGUSR1));

	a = mk(h_mask, SA_SIGINFO | SA_RESTART, SIGUSR2, SIGTERM, 0);
	sa(SIGUSR1, &a, 1);
	CALL(raise(SIGUSR1));

	a = mk(h_mask, SA_SIGINFO | SA_NODEFER, SIGTERM, 0);
	sa(SIGUSR2, &a, 0);
	CALL(raise(SIGUSR2));
	sa(SIGUSR2, NULL, 1);

	a = mk(h_mask, SA_SIGINFO | SA_RESETHAND, 0);
	sa(SIGWINCH, &a, 1);
	CALL(raise(SIGWINCH));
	sa(SIGWINCH, NULL, 1);
	CALL(raise(SIGWINCH));    /* default action: ignored */

	a = mk(h_info, SA_SIGINFO | SA_RESETHAND | SA_NODEFER, SIGUSR1, 0);
	sa(SIGURG, &a, 1);
	CALL(raise(SIGURG));
	sa(SIGURG, NULL, 1);

	/* The kernel clears bits it does not know (the SA_UNSUPPORTED probe). */
	a = mk(h_usr1, SA_UNSUPPORTED | SA_EXPOSE_TAGBITS | 0x100, 0);
	sa(SIGURG, &a, 1);
	sa(SIGURG, NULL, 1);
	a = mk(SIG_DFL, 0, 0);
	sa(SIGURG, &a, 1);

	sa(SIGUSR1, NULL, 0);

	tr_printf("== SA_RESTART\n");
	if (pipe(rfd) != 0)
		tr_printf("pipe failed\n");
	a = mk(h_usr1, SA_RESTART, 0);
	sa(SIGUSR1, &a, 0);
	read_test("SA_RESTART");
	a = mk(h_usr1, 0, 0);
	sa(SIGUSR1, &a, 0);
	read_test("no SA_RESTART");
	CALL(siginterrupt(SIGUSR1, 0));
	sa(SIGUSR1, NULL, 1);
	read_test("siginterrupt 0");
	CALL(siginterrupt(SIGUSR1, 1));
	sa(SIGUSR1, NULL, 1);
	read_test("siginterrupt 1");
}

static void section_signal(void)
{
	struct sigaction a;

	tr_printf("== signal family\n");
	CALL_H(signal(SIGINT, h_usr1));
	sa(SIGINT, NULL, 1);
	CALL(raise(SIGINT));
	CALL_H(signal(SIGINT, SIG_IGN));
	CALL(raise(SIGINT));
	CALL_H(signal(SIGINT, SIG_DFL));
	CALL_H(bsd_signal(SIGINT, h_other));
	sa(SIGINT, NULL, 1);
	CALL_H(ssignal(SIGINT, h_usr1));
	sa(SIGINT, NULL, 1);
	CALL_H(sysv_signal(SIGINT, h_other));
	sa(SIGINT, NULL, 1);
	CALL_H(__sysv_signal(SIGINT, SIG_IGN));
	sa(SIGINT, NULL, 1);
	CALL_H(__sysv_signal(SIGINT, SIG_DFL));

	/* sysv semantics: reset after the first delivery */
	CALL_H(sysv_signal(SIGURG, h_usr1));
	CALL(raise(SIGURG));
	sa(SIGURG, NULL, 1);
	CALL(raise(SIGURG));

	tr_printf("== sigset\n");
	a = mk(h_usr1, 0, 0);
	sa(SIGUSR2, &a, 0);
	CALL_H(sigset(SIGUSR2, SIG_HOLD));
	tr_show_mask("main");
	CALL(raise(SIGUSR2));     /* pending while held */
	CALL_H(sigset(SIGUSR2, SIG_HOLD));
	CALL_H(sigset(SIGUSR2, h_other));     /* delivers the pending one */
	tr_show_mask("main");
	sa(SIGUSR2, NULL, 1);
	CALL_H(sigset(SIGUSR2, SIG_DFL));
	sa(SIGUSR2, NULL, 1);

	tr_printf("== sighold sigrelse sigignore\n");
	a = mk(h_other, 0, 0);
	sa(SIGUSR2, &a, 0);
	CALL(sighold(SIGUSR2));
	tr_show_mask("main");
	CALL(raise(SIGUSR2));
	CALL(sigrelse(SIGUSR2));
	tr_show_mask("main");
	CALL(sigignore(SIGUSR2));
	sa(SIGUSR2, NULL, 1);
	CALL(raise(SIGUSR2));
	a = mk(SIG_DFL, 0, 0);
	sa(SIGUSR2, &a, 0);
}

static void *pender(void *arg)
{
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

static void section_sigpause(void)
{
	struct sigaction a = mk(h_mask, SA_SIGINFO, 0);
	pthread_t self = pthread_self(), t;

	tr_printf("== sigpause\n");
	sa(SIGUSR1, &a, 0);
	block(SIG_BLOCK, SIGUSR1);
	tr_show_mask("main");

	/* A pending, blocked signal makes every pause return at once. */
	CALL(raise(SIGUSR1));
	CALL(__xpg_sigpause(SIGUSR1));
	tr_show_mask("main");

	CALL(raise(SIGUSR1));
	CALL(__sigpause(SIGUSR1, 1));
	tr_show_mask("main");

	/* BSD flavour: the argument is a mask; sent from another thread. */
	pthread_create(&t, NULL, pender, &self);
	pthread_join(t, NULL);
	CALL(bsd_sigpause(1 << (SIGINT - 1)));
	tr_show_mask("main");

	CALL(raise(SIGUSR1));
	CALL(__sigpause(1 << (SIGTERM - 1), 0));
	tr_show_mask("main");

	CALL(__xpg_sigpause(65));
	CALL(__xpg_sigpause(32));
	CALL(__xpg_sigpause(0));
	CALL(__sigpause(-1, 1));
	block(SIG_UNBLOCK, SIGUSR1);
	tr_show_mask("main");
}

static void section_invalid(void)
{
	struct sigaction a = mk(h_usr1, 0, 0);
	struct sigaction e = mk(SIG_ERR, 0, 0);
	struct sigaction d = mk(SIG_DFL, 0, 0);

	tr_printf("== invalid\n");
	sa(0, &a, 1);
	sa(-1, &a, 1);
	sa(65, &a, 1);
	sa(32, &a, 1);
	sa(33, &a, 1);
	sa(32, NULL, 1);
	sa(SIGKILL, &a, 1);
	sa(SIGSTOP, &d, 1);
	sa(SIGKILL, NULL, 1);
	sa(SIGSTOP, NULL, 1);
	sa(SIGUSR1, NULL, 0);
	sa(SIGUSR2, &e, 1);
	sa(SIGUSR2, NULL, 1);
	sa(SIGUSR2, &d, 1);

	CALL_H(signal(0, h_usr1));
	CALL_H(signal(-1, h_usr1));
	CALL_H(signal(65, h_usr1));
	CALL_H(signal(32, h_usr1));
	CALL_H(signal(33, SIG_IGN));
	CALL_H(signal(SIGKILL, SIG_IGN));
	CALL_H(signal(SIGSTOP, h_usr1));
	CALL_H(signal(SIGUSR1, SIG_ERR));
	CALL_H(bsd_signal(0, h_usr1));
	CALL_H(ssignal(SIGKILL, h_usr1));
	CALL_H(sysv_signal(65, h_usr1));
	CALL_H(__sysv_signal(-1, h_usr1));
	CALL_H(sigset(0, h_usr1));
	CALL_H(sigset(SIGKILL, h_usr1));
	CALL_H(sigset(65, SIG_HOLD));
	CALL(sighold(65));
	CALL(sighold(32));
	CALL(sigrelse(0));
	CALL(sigignore(SIGKILL));
	CALL(sigignore(33));
	CALL(siginterrupt(0, 1));
	CALL(siginterrupt(65, 0));
	CALL(siginterrupt(SIGSTOP, 1));
}

int main(void)
{
	tr_init();
	TR_FN(h_usr1);
	TR_FN(h_other);
	TR_FN(h_info);
	TR_FN(h_mask);
	section_sigaction();
	section_signal();
	section_sigpause();
	section_invalid();
	tr_show_mask("main");
	tr_printf("done\n");
	return 0;
}
