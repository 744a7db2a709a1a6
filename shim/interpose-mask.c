/* Entry points that change a thread's signal mask.  glibc's sigprocmask
 * does not go through pthread_sigmask (nor the reverse), so both are
 * wrapped; pthread_sigmask exists in two symbol versions, each chained to
 * the same version in libc. */
#include "config.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* What the calling thread's mask became: from the old one and the call. */
static unsigned long long new_mask(int how, const sigset_t *set, unsigned long long old)
{
	unsigned long long s = shim_mask64(set) & ~shim_doorbell_bits;

	if (!set)
		return old;
	return how == SIG_BLOCK ? old | s : how == SIG_UNBLOCK ? old & ~s : s;
}

/* mode=enforce: the doorbells are the shim's, as glibc's 32 and 33 are
 * its own: never blocked, never shown.  On the main thread the new mask is
 * what workers ring against, and a queued instance it unblocks runs now,
 * before the call returns, as a pending signal would natively.  Returns
 * what the real function returned; errno as it left it. */
static int mask_enforced(int (*real)(int, const sigset_t *, sigset_t *), int how,
			 const sigset_t *set, sigset_t *oldset)
{
	sigset_t copy, old;
	unsigned long long now;
	int r = real(how, shim_strip_doorbells(set, &copy), &old);

	if (r != 0)
		return r;
	now = new_mask(how, set, shim_mask64(&old));
	shim_hide_doorbells(&old);
	if (oldset)
		*oldset = old;
	if (set)
		shim_mask_changed(now);
	return r;
}

void shim_mask_changed(unsigned long long now)
{
	int err;

	if (!shim_is_main_thread() || syscall(SYS_getpid) != shim.pid)
		return;
	err = errno;
	if (!shim_in_handler())
		shim_main_mask_set(now);
	shim_forward_kick(now);
	errno = err;
}

/* After libc changed this thread's mask behind the wrappers (its internal
 * sigprocmask: sighold, sigrelse, system): read it and tell the same. */
void shim_mask_refresh(void)
{
	sigset_t cur;
	int err = errno;

	if (shim_doorbell_bits && REAL(pthread_sigmask)(SIG_SETMASK, NULL, &cur) == 0)
		shim_mask_changed(shim_mask64(&cur));
	errno = err;
}

static int mask_call(int (*real)(int, const sigset_t *, sigset_t *), int how,
		     const sigset_t *set, sigset_t *oldset)
{
	if (!shim_doorbell_bits)
		return real(how, set, oldset);
	return mask_enforced(real, how, set, oldset);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	struct shim_ev e;
	int r, err;

	if (__builtin_expect(shim_ready() && !audit_sink_active(), 1))
		return mask_call(REAL(sigprocmask), how, set, oldset);
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
	r = mask_call(REAL(sigprocmask), how, set, oldset);
	err = errno;
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
	if (__builtin_expect(shim_ready() && !audit_sink_active(), 1))
		return mask_call(real, how, set, oldset);
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
	r = mask_call(real, how, set, oldset);
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
