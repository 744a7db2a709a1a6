/* Entry points that send signals.  The event is written after the real
 * call returns, so a signal the caller sends to itself (raise, kill of its
 * own pid) shows its signal.received line first; seq and ts order them. */
#include "config.h"

#include <errno.h>

#include "decode.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

static void send_event(struct shim_ev *e, const char *name, pthread_t target, int sig)
{
	shim_ev_begin(e, name);
	shim_ev_thread_sig(e, target, sig);
}

static int pthread_kill_common(int (*real)(pthread_t, int), const char *version,
			       pthread_t thread, int sig)
{
	struct shim_ev e;
	int r, err = errno;

	SHIM_ENTER_OR(real(thread, sig));
	shim_ev_prepare(&e);
	r = real(thread, sig);
	/* thread_id is the target, as in Python's audit event
	 * signal.pthread_kill(thread_id, signalnum). */
	send_event(&e, "signal.pthread_kill", thread, sig);
	audit_jw_uint(&e.w, "caller_thread_id", (unsigned long long)pthread_self());
	audit_jw_str(&e.w, "version", version);
	shim_ev_result_code(&e, r);
	shim_ev_commit(&e);
	shim_leave();
	errno = err;
	return r;
}

int shim_pthread_kill_234(pthread_t thread, int sig);
int shim_pthread_kill_225(pthread_t thread, int sig);

__asm__(".symver shim_pthread_kill_234, pthread_kill@@GLIBC_2.34");
EXPORT int shim_pthread_kill_234(pthread_t thread, int sig)
{
	return pthread_kill_common(REAL(pthread_kill), "GLIBC_2.34", thread, sig);
}

__asm__(".symver shim_pthread_kill_225, pthread_kill@GLIBC_2.2.5");
EXPORT int shim_pthread_kill_225(pthread_t thread, int sig)
{
	return pthread_kill_common(REAL(pthread_kill_225), "GLIBC_2.2.5", thread, sig);
}

static int pthread_sigqueue_common(int (*real)(pthread_t, int, const union sigval),
				   const char *version, pthread_t thread, int sig,
				   const union sigval value)
{
	struct shim_ev e;
	int r, err = errno;

	SHIM_ENTER_OR(real(thread, sig, value));
	shim_ev_prepare(&e);
	r = real(thread, sig, value);
	send_event(&e, "signal.pthread_sigqueue", thread, sig);
	audit_jw_uint(&e.w, "caller_thread_id", (unsigned long long)pthread_self());
	audit_jw_str(&e.w, "version", version);
	audit_jw_int(&e.w, "value", (long long)(intptr_t)value.sival_ptr);
	shim_ev_result_code(&e, r);
	shim_ev_commit(&e);
	shim_leave();
	errno = err;
	return r;
}

int shim_pthread_sigqueue_234(pthread_t thread, int sig, const union sigval value);
int shim_pthread_sigqueue_211(pthread_t thread, int sig, const union sigval value);

__asm__(".symver shim_pthread_sigqueue_234, pthread_sigqueue@@GLIBC_2.34");
EXPORT int shim_pthread_sigqueue_234(pthread_t thread, int sig, const union sigval value)
{
	return pthread_sigqueue_common(REAL(pthread_sigqueue), "GLIBC_2.34", thread, sig, value);
}

__asm__(".symver shim_pthread_sigqueue_211, pthread_sigqueue@GLIBC_2.11");
EXPORT int shim_pthread_sigqueue_211(pthread_t thread, int sig, const union sigval value)
{
	return pthread_sigqueue_common(REAL(pthread_sigqueue_211), "GLIBC_2.11", thread, sig, value);
}

/* The tail every errno-style sender shares: its event, with up to two
 * target fields (NULL key: none), then errno as the real call left it. */
static int errno_send_done(struct shim_ev *e, const char *name, int sig, int r, int err,
			   const char *k1, long long v1, const char *k2, long long v2)
{
	send_event(e, name, pthread_self(), sig);
	if (k1)
		audit_jw_int(&e->w, k1, v1);
	if (k2)
		audit_jw_int(&e->w, k2, v2);
	shim_ev_result_errno(e, r, err);
	shim_ev_commit(e);
	shim_leave();
	errno = err;
	return r;
}

static int raise_common(int (*real)(int), const char *name, int sig)
{
	struct shim_ev e;
	int r;

	SHIM_ENTER_OR(real(sig));
	shim_ev_prepare(&e);
	r = real(sig);
	return errno_send_done(&e, name, sig, r, errno, NULL, 0, NULL, 0);
}

EXPORT int raise(int sig)
{
	return raise_common(REAL(raise), "signal.raise", sig);
}

EXPORT int gsignal(int sig)
{
	return raise_common(REAL(gsignal), "signal.gsignal", sig);
}

EXPORT int kill(pid_t pid, int sig)
{
	struct shim_ev e;
	int r;

	SHIM_ENTER_OR(REAL(kill)(pid, sig));
	shim_ev_prepare(&e);
	r = REAL(kill)(pid, sig);
	return errno_send_done(&e, "signal.kill", sig, r, errno, "target_pid", pid, NULL, 0);
}

EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
	struct shim_ev e;
	int r;

	SHIM_ENTER_OR(REAL(tgkill)(tgid, tid, sig));
	shim_ev_prepare(&e);
	r = REAL(tgkill)(tgid, tid, sig);
	return errno_send_done(&e, "signal.tgkill", sig, r, errno,
			       "target_tgid", tgid, "target_tid", tid);
}

EXPORT int sigqueue(pid_t pid, int sig, const union sigval value)
{
	struct shim_ev e;
	int r;

	SHIM_ENTER_OR(REAL(sigqueue)(pid, sig, value));
	shim_ev_prepare(&e);
	r = REAL(sigqueue)(pid, sig, value);
	return errno_send_done(&e, "signal.sigqueue", sig, r, errno, "target_pid", pid,
			       "value", (long long)(intptr_t)value.sival_ptr);
}
