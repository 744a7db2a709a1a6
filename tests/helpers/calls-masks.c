/* Signal masks: sigprocmask and pthread_sigmask (both symbol versions).
 * Prints a deterministic transcript (transcript.h). */
#include "transcript.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* The pre-2.32 symbol (libpthread's), as old binaries bind it. */
extern int old_pthread_sigmask(int, const sigset_t *, sigset_t *);
__asm__(".symver old_pthread_sigmask, pthread_sigmask@GLIBC_2.2.5");

enum fn { SIGPROCMASK, PTHREAD_SIGMASK, OLD_PTHREAD_SIGMASK };

static const char *const fn_names[] = {
	"sigprocmask", "pthread_sigmask", "pthread_sigmask@GLIBC_2.2.5",
};

static const char *how_name(int how)
{
	switch (how) {
	case SIG_BLOCK: return "SIG_BLOCK";
	case SIG_UNBLOCK: return "SIG_UNBLOCK";
	case SIG_SETMASK: return "SIG_SETMASK";
	default: return "bad-how";
	}
}

/* set of the given signals (0-terminated); raw bits, so 32/33 can be set */
static sigset_t mkset(int first, ...)
{
	sigset_t s;
	va_list ap;

	sigemptyset(&s);
	va_start(ap, first);
	for (int sig = first; sig != 0; sig = va_arg(ap, int))
		tr_set_raw(&s, sig);
	va_end(ap);
	return s;
}

static void mask_call(enum fn f, int how, const sigset_t *set, int want_old)
{
	sigset_t old;
	char s[256] = "NULL", o[300] = "";

	memset(&old, 0xa5, sizeof old);
	if (set)
		tr_mask(set, s, sizeof s);
	errno = 0;
	int r;
	switch (f) {
	case SIGPROCMASK:
		r = sigprocmask(how, set, want_old ? &old : NULL);
		break;
	case PTHREAD_SIGMASK:
		r = pthread_sigmask(how, set, want_old ? &old : NULL);
		break;
	default:
		r = old_pthread_sigmask(how, set, want_old ? &old : NULL);
		break;
	}
	int e = errno;
	if (want_old && r == 0) {
		strcpy(o, " old=");
		tr_mask(&old, o + 5, sizeof o - 5);
	}
	tr_printf("%s(%s %d, %s, %s) -> %s errno=%s%s\n", fn_names[f], how_name(how),
		  how, s, want_old ? "&old" : "NULL",
		  f == SIGPROCMASK ? (r == 0 ? "0" : "-1") : tr_errname(r),
		  tr_errname(e), o);
	tr_flush();
}

static void each_function(enum fn f)
{
	sigset_t usr1 = mkset(SIGUSR1, 0);
	sigset_t usr12 = mkset(SIGUSR1, SIGUSR2, SIGTERM, 0);
	sigset_t kill_stop = mkset(SIGKILL, SIGSTOP, SIGHUP, 0);
	sigset_t internal = mkset(32, 33, SIGINT, 0);
	sigset_t rt = mkset(34, 40, 64, 0);
	sigset_t empty = mkset(0);
	sigset_t full;

	sigfillset(&full);
	tr_printf("== %s\n", fn_names[f]);
	mask_call(f, SIG_BLOCK, NULL, 1);
	mask_call(f, SIG_BLOCK, &usr1, 1);
	mask_call(f, SIG_BLOCK, &usr12, 1);
	mask_call(f, SIG_UNBLOCK, &usr1, 1);
	mask_call(f, SIG_SETMASK, &usr1, 1);
	mask_call(f, SIG_SETMASK, NULL, 1);
	mask_call(f, 99, NULL, 1);        /* how is not checked without a set */
	mask_call(f, 99, &usr12, 1);
	mask_call(f, -1, &usr12, 0);
	mask_call(f, SIG_BLOCK, &kill_stop, 1);
	mask_call(f, SIG_BLOCK, &internal, 1);
	mask_call(f, SIG_BLOCK, &rt, 1);
	mask_call(f, SIG_SETMASK, &full, 1);
	mask_call(f, SIG_UNBLOCK, &full, 1);
	mask_call(f, SIG_BLOCK, &empty, 0);
	mask_call(f, SIG_SETMASK, &empty, 1);
	tr_show_mask("main");
}

static void *worker(void *arg)
{
	sigset_t usr2 = mkset(SIGUSR2, 0);

	tr_show_mask("worker-start");       /* inherited from the creator */
	mask_call(PTHREAD_SIGMASK, SIG_BLOCK, &usr2, 1);
	tr_show_mask("worker");
	return NULL;
}

static void thread_masks(void)
{
	sigset_t usr1 = mkset(SIGUSR1, 0);
	pthread_t t;

	tr_printf("== per-thread masks\n");
	mask_call(PTHREAD_SIGMASK, SIG_BLOCK, &usr1, 1);
	pthread_create(&t, NULL, worker, NULL);
	tr_name_thread("t1", t);
	pthread_join(t, NULL);
	tr_show_mask("main");
	mask_call(SIGPROCMASK, SIG_UNBLOCK, &usr1, 1);
}

/* A signal blocked while raised is delivered when unblocked, inside the
 * unblocking call. */
static void h_usr1(int sig)
{
	tr_record("h_usr1", sig, NULL);
}

static void pending(void)
{
	sigset_t usr1 = mkset(SIGUSR1, 0);
	sigset_t pend;
	char m[256];

	tr_printf("== pending\n");
	signal(SIGUSR1, h_usr1);
	mask_call(SIGPROCMASK, SIG_BLOCK, &usr1, 0);
	errno = 0;
	tr_ret("raise(SIGUSR1)", raise(SIGUSR1), errno);
	sigpending(&pend);
	tr_printf("  pending %s\n", tr_mask(&pend, m, sizeof m));
	mask_call(PTHREAD_SIGMASK, SIG_UNBLOCK, &usr1, 1);
	mask_call(OLD_PTHREAD_SIGMASK, SIG_BLOCK, &usr1, 0);
	errno = 0;
	tr_ret("raise(SIGUSR1)", raise(SIGUSR1), errno);
	mask_call(OLD_PTHREAD_SIGMASK, SIG_SETMASK, &(sigset_t){ 0 }, 1);
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	tr_init();
	TR_FN(h_usr1);
	each_function(SIGPROCMASK);
	each_function(PTHREAD_SIGMASK);
	each_function(OLD_PTHREAD_SIGMASK);
	thread_masks();
	pending();
	tr_printf("done\n");
	return 0;
}
