/* Entry points that change a thread's signal mask.  glibc's sigprocmask
 * does not go through pthread_sigmask (nor the reverse), so both are
 * wrapped; pthread_sigmask exists in two symbol versions, each chained to
 * the same version in libc. */
#include "config.h"

#include <errno.h>

#include "decode.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

static void mask_event(const char *name, const char *version, int how,
		       const sigset_t *set, const sigset_t *oldset, int ok,
		       struct shim_ev *e)
{
	const char *hn = audit_how_name(how);

	shim_ev_begin(e, name);
	audit_jw_uint(&e->w, "thread_id", (unsigned long long)pthread_self());
	audit_jw_bool(&e->w, "main", shim_is_main_thread());
	if (shim_in_handler())
		audit_jw_bool(&e->w, "in_handler", true);
	if (version)
		audit_jw_str(&e->w, "version", version);
	if (hn)
		audit_jw_str(&e->w, "how", hn);
	else
		audit_jw_int(&e->w, "how", how);
	audit_jw_sigset(&e->w, "set", set);
	if (oldset && ok)
		audit_jw_sigset(&e->w, "oldset", oldset);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	struct shim_ev e;
	int r, err;

	if (__builtin_expect(shim_ready() && !audit_sink_active(), 1)) {
		r = REAL(sigprocmask)(how, set, oldset);
		if (shim_wait_swallowed) {
			err = errno;
			shim_wait_rering();
			errno = err;
		}
		return r;
	}
	if (shim_called_by_unwinder(__builtin_return_address(0)) || !shim_enter())
		return REAL(sigprocmask)(how, set, oldset);
	if (!shim_ready()) {
		r = REAL(sigprocmask)(how, set, oldset);
		err = errno;
		shim_early_mask("signal.sigprocmask", NULL, how, set, oldset, r, err);
		shim_leave();
		errno = err;
		return r;
	}
	shim_ev_prepare(&e);
	r = REAL(sigprocmask)(how, set, oldset);
	err = errno;
	shim_wait_rering();
	mask_event("signal.sigprocmask", NULL, how, set, oldset, r == 0, &e);
	shim_ev_result_errno(&e, r, err);
	shim_ev_commit(&e);
	shim_leave();
	errno = err;
	return r;
}

static int pthread_sigmask_common(int (*real)(int, const sigset_t *, sigset_t *),
				  const void *ret_addr, const char *version, int how,
				  const sigset_t *set, sigset_t *oldset)
{
	struct shim_ev e;
	int r, err;

	/* The common case, logging off: libc, and nothing else to do. */
	if (__builtin_expect(shim_ready() && !audit_sink_active(), 1)) {
		r = real(how, set, oldset);
		shim_wait_rering();
		return r;
	}
	err = errno;
	if (shim_called_by_unwinder(ret_addr) || !shim_enter())
		return real(how, set, oldset);
	if (!shim_ready()) {
		r = real(how, set, oldset);
		shim_early_mask("signal.pthread_sigmask", version, how, set, oldset, r, r);
		shim_leave();
		errno = err;
		return r;
	}
	shim_ev_prepare(&e);
	r = real(how, set, oldset);
	shim_wait_rering();
	mask_event("signal.pthread_sigmask", version, how, set, oldset, r == 0, &e);
	shim_ev_result_code(&e, r);
	shim_ev_commit(&e);
	shim_leave();
	/* pthread functions leave errno alone. */
	errno = err;
	return r;
}

int shim_pthread_sigmask_232(int how, const sigset_t *set, sigset_t *oldset);
int shim_pthread_sigmask_225(int how, const sigset_t *set, sigset_t *oldset);

__asm__(".symver shim_pthread_sigmask_232, pthread_sigmask@@GLIBC_2.32");
EXPORT int shim_pthread_sigmask_232(int how, const sigset_t *set, sigset_t *oldset)
{
	return pthread_sigmask_common(REAL(pthread_sigmask), __builtin_return_address(0), "GLIBC_2.32", how, set, oldset);
}

__asm__(".symver shim_pthread_sigmask_225, pthread_sigmask@GLIBC_2.2.5");
EXPORT int shim_pthread_sigmask_225(int how, const sigset_t *set, sigset_t *oldset)
{
	return pthread_sigmask_common(REAL(pthread_sigmask_225), __builtin_return_address(0), "GLIBC_2.2.5", how, set, oldset);
}
