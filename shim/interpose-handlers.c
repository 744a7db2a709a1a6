/* Entry points that change or read a signal's disposition.
 *
 * glibc's signal-family functions call its internal __sigaction, never our
 * sigaction, so each needs its own wrapper.  Those that can install a
 * function handler are rebuilt here on shim_install() exactly as glibc 2.36
 * builds them (same mask, flags, checks and order), so the trampoline goes
 * in with one sigaction and no window; the others call the real function
 * and only translate a returned trampoline back into the program's
 * handler. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "decode.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

/* Not all of these are declared under _GNU_SOURCE; and <signal.h> renames
 * sigpause to __xpg_sigpause, so the BSD `sigpause` symbol is defined under
 * another C name with an assembler label. */
shim_handler_t bsd_signal(int sig, shim_handler_t handler);
int __xpg_sigpause(int sig);
int __sigpause(int sig_or_mask, int is_sig);
int shim_bsd_sigpause(int mask) __asm__("sigpause");

#define ENTER_OR SHIM_ENTER_OR

/* Installers keep working before our constructor: the trampoline goes in
 * as usual and the call is remembered for the log (early.c). */
#define ENTER_INSTALLER_OR(passthrough) \
	do { \
		if (!shim_enter()) \
			return passthrough; \
	} while (0)

static void call_event(struct shim_ev *e, const char *name, int sig)
{
	shim_ev_begin(e, name);
	shim_ev_thread_sig(e, pthread_self(), sig);
}

static void handler_result(struct shim_ev *e, shim_handler_t ret, int err)
{
	audit_jw_handler(&e->w, "ret", (uintptr_t)ret);
	if (ret == SIG_ERR) {
		audit_jw_str(&e->w, "error", audit_errno_name(err));
		audit_jw_int(&e->w, "errno", err);
	}
}

static void pointer_field(struct shim_ev *e, const char *key, const void *p)
{
	if (p)
		audit_jw_hex(&e->w, key, (uintptr_t)p);
	else
		audit_jw_null(&e->w, key);
}

static void finish(struct shim_ev *e, const char *rule, bool deny)
{
	shim_policy_fields(e, rule, deny);
	shim_ev_commit(e);
}

/* main_thread=first-installer: this thread installs the first function
 * handler and becomes the main thread. */
static void maybe_choose_main(void)
{
	struct shim_ev e;

	if (shim_in_handler() || !shim_main_choose())
		return;
	shim_main_became();
	if (!audit_sink_active())
		return;
	e.nbt = 0;
	shim_ev_begin(&e, "sigshim.main_thread");
	audit_jw_uint(&e.w, "thread_id", (unsigned long long)pthread_self());
	audit_jw_int(&e.w, "main_tid", shim_gettid());
	audit_jw_str(&e.w, "reason", "first-installer");
	shim_ev_commit(&e);
}

/* After an install that changed sig's handler: whose it is now. */
static void runtime_note(int sig, int r, shim_handler_t handler, int rt, const char *module)
{
	if (r != 0 || !handler || shim.opt.mode != SHIM_MODE_ENFORCE)
		return;
	if (shim_is_function(handler))
		shim_installer_set(sig, module);
	if (shim_runtime_installed(sig, rt, shim_is_function(handler)))
		shim_runtime_event(sig, rt, module);
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	struct shim_ev e;
	struct sigaction act_copy;
	const char *rule = NULL, *module = NULL;
	bool deny = false;
	int r, err, rt = -1;

	ENTER_INSTALLER_OR(REAL(sigaction)(sig, act, oldact));
	/* act and oldact may be the same object: the event logs what the
	 * program asked for, not what the call wrote back over it. */
	if (act && act == oldact) {
		act_copy = *act;
		act = &act_copy;
	}
	if (!shim_ready()) {
		r = shim_install(sig, act, oldact);
		err = errno;
		shim_early_sigaction(sig, act, oldact, r, err);
		shim_leave();
		errno = err;
		return r;
	}
	shim_ev_prepare(&e);
	if (act && shim_is_function(act->sa_handler)) {
		shim_ev_note_code((uintptr_t)act->sa_handler);
		rt = shim_runtime_of_caller(__builtin_return_address(0), &module);
		if (rt < 0) {
			maybe_choose_main();
			rule = shim_policy_install(&deny);
		}
	}
	if (deny) {
		r = -1;
		err = EPERM;
	} else {
		r = shim_install(sig, act, oldact);
		err = errno;
	}
	if (audit_sink_active()) {
		call_event(&e, "signal.sigaction", sig);
		audit_jw_sigaction(&e.w, "act", act);
		if (oldact && r == 0)
			audit_jw_sigaction(&e.w, "oldact", oldact);
		pointer_field(&e, "act_ptr", act == &act_copy ? oldact : act);
		pointer_field(&e, "oldact_ptr", oldact);
		shim_ev_result_errno(&e, r, err);
		if (rt >= 0)
			audit_jw_str(&e.w, "runtime", shim_runtime_name(rt));
		finish(&e, rule, deny);
	}
	runtime_note(sig, r, act ? act->sa_handler : NULL, rt, module);
	shim_leave();
	shim_policy_after(rule, "sigaction", sig);
	errno = err;
	return r;
}

/* glibc's __bsd_signal (sysdeps/posix/signal.c), on shim_install. */
static shim_handler_t bsd_signal_impl(int sig, shim_handler_t handler)
{
	struct sigaction act, oact;

	if (handler == SIG_ERR || sig < 1 || sig >= SHIM_NSIG || sig == 32 || sig == 33) {
		errno = EINVAL;
		return SIG_ERR;
	}
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	act.sa_flags = shim_sigintr_has(sig) ? 0 : SA_RESTART;
	if (shim_install(sig, &act, &oact) < 0)
		return SIG_ERR;
	return oact.sa_handler;
}

/* glibc's __sysv_signal (sysdeps/posix/sysv_signal.c). */
static shim_handler_t sysv_signal_impl(int sig, shim_handler_t handler)
{
	struct sigaction act, oact;

	if (handler == SIG_ERR || sig < 1 || sig >= SHIM_NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	act.sa_flags = (int)(SA_RESETHAND | SA_NODEFER | 0x20000000 /* SA_INTERRUPT */);
	if (shim_install(sig, &act, &oact) < 0)
		return SIG_ERR;
	return oact.sa_handler;
}

static shim_handler_t signal_common(const char *event, int sig, shim_handler_t handler,
				    shim_handler_t (*impl)(int, shim_handler_t))
{
	struct shim_ev e;
	const char *rule = NULL;
	bool deny = false;
	shim_handler_t r;
	int err;

	if (!shim_ready()) {
		r = impl(sig, handler);
		err = errno;
		shim_early_handler(event, sig, handler, r, err);
		shim_leave();
		errno = err;
		return r;
	}
	shim_ev_prepare(&e);
	if (shim_is_function(handler)) {
		shim_ev_note_code((uintptr_t)handler);
		maybe_choose_main();
		rule = shim_policy_install(&deny);
	}
	if (deny) {
		r = SIG_ERR;
		err = EPERM;
	} else {
		r = impl(sig, handler);
		err = errno;
	}
	if (audit_sink_active()) {
		call_event(&e, event, sig);
		audit_jw_handler(&e.w, "handler", (uintptr_t)handler);
		handler_result(&e, r, err);
		finish(&e, rule, deny);
	}
	shim_leave();
	shim_policy_after(rule, event + sizeof "signal." - 1, sig);
	errno = err;
	return r;
}

EXPORT shim_handler_t signal(int sig, shim_handler_t handler)
{
	ENTER_INSTALLER_OR(REAL(signal)(sig, handler));
	return signal_common("signal.signal", sig, handler, bsd_signal_impl);
}

EXPORT shim_handler_t bsd_signal(int sig, shim_handler_t handler)
{
	ENTER_INSTALLER_OR(REAL(bsd_signal)(sig, handler));
	return signal_common("signal.bsd_signal", sig, handler, bsd_signal_impl);
}

EXPORT shim_handler_t ssignal(int sig, shim_handler_t handler)
{
	ENTER_INSTALLER_OR(REAL(ssignal)(sig, handler));
	return signal_common("signal.ssignal", sig, handler, bsd_signal_impl);
}

EXPORT shim_handler_t sysv_signal(int sig, shim_handler_t handler)
{
	ENTER_INSTALLER_OR(REAL(sysv_signal)(sig, handler));
	return signal_common("signal.sysv_signal", sig, handler, sysv_signal_impl);
}

EXPORT shim_handler_t __sysv_signal(int sig, shim_handler_t handler)
{
	ENTER_INSTALLER_OR(REAL(__sysv_signal)(sig, handler));
	return signal_common("signal.__sysv_signal", sig, handler, sysv_signal_impl);
}

/* glibc's sigset (sysdeps/posix/sigset.c) for any disposition but
 * SIG_HOLD: install first, then unblock; SIG_HOLD when the signal had been
 * blocked.  Through shim_install even for SIG_DFL/SIG_IGN, which must not
 * reach the kernel while a forwarded instance waits (dispositions.c). */
static shim_handler_t sigset_function(int sig, shim_handler_t disp)
{
	struct sigaction act, oact;
	sigset_t set, oset;

	sigemptyset(&set);
	if (sigaddset(&set, sig) < 0)
		return SIG_ERR;
	act.sa_handler = disp;
	sigemptyset(&act.sa_mask);
	act.sa_flags = 0;
	if (shim_install(sig, &act, &oact) < 0)
		return SIG_ERR;
	if (REAL(sigprocmask)(SIG_UNBLOCK, &set, &oset) < 0)
		return SIG_ERR;
	return sigismember(&oset, sig) ? SIG_HOLD : oact.sa_handler;
}

/* SIG_HOLD: the real sigset (it only blocks, and queries), with the
 * previous handler translated back from the trampoline. */
static shim_handler_t sigset_other(int sig, shim_handler_t disp)
{
	shim_handler_t prev = shim_user_handler(shim_trampoline_as_handler(), sig);
	shim_handler_t r = REAL(sigset)(sig, disp);

	return r == shim_trampoline_as_handler() ? prev : r;
}

EXPORT shim_handler_t sigset(int sig, shim_handler_t disp)
{
	ENTER_INSTALLER_OR(REAL(sigset)(sig, disp));
	return signal_common("signal.sigset", sig, disp,
			     disp == SIG_HOLD ? sigset_other : sigset_function);
}

/* mode=enforce: sighold/sigrelse change the mask through libc's internal
 * sigprocmask, behind the mask wrappers, and may not touch the doorbells;
 * the sigpause family waits on our sigsuspend (interpose-wait.c). */
static bool is_doorbell(int sig)
{
	return sig >= 1 && sig < SHIM_NSIG && (shim_doorbell_bits & shim_sigbit(sig));
}

static int hold_impl(int sig)
{
	if (is_doorbell(sig)) {
		errno = EINVAL;
		return -1;
	}
	return REAL(sighold)(sig);
}

static int relse_impl(int sig)
{
	int r, err;

	if (is_doorbell(sig)) {
		errno = EINVAL;
		return -1;
	}
	r = REAL(sigrelse)(sig);
	err = errno;
	if (r == 0)
		shim_mask_refresh();
	errno = err;
	return r;
}

static int bsd_pause_impl(int mask)
{
	return shim_doorbell_bits ? shim_sigpause_enforced(mask, 0) : REAL(sigpause)(mask);
}

static int xpg_pause_impl(int sig)
{
	return shim_doorbell_bits ? shim_sigpause_enforced(sig, 1) : REAL(__xpg_sigpause)(sig);
}

/* Calls that change no handler: the call, one event. */
#define SIMPLE_SIG_CALL(cname, impl, event) \
	EXPORT int cname(int sig) \
	{ \
		struct shim_ev e; \
		int r, err; \
		ENTER_OR(impl(sig)); \
		shim_ev_prepare(&e); \
		r = impl(sig); \
		err = errno; \
		call_event(&e, event, sig); \
		shim_ev_result_errno(&e, r, err); \
		shim_ev_commit(&e); \
		shim_leave(); \
		errno = err; \
		return r; \
	}

SIMPLE_SIG_CALL(sighold, hold_impl, "signal.sighold")
SIMPLE_SIG_CALL(sigrelse, relse_impl, "signal.sigrelse")
SIMPLE_SIG_CALL(shim_bsd_sigpause, bsd_pause_impl, "signal.sigpause")
SIMPLE_SIG_CALL(__xpg_sigpause, xpg_pause_impl, "signal.__xpg_sigpause")

/* glibc's sigignore (sysdeps/posix/sigignore.c), on shim_install. */
EXPORT int sigignore(int sig)
{
	struct sigaction act;
	struct shim_ev e;
	int r, err;

	ENTER_INSTALLER_OR(REAL(sigignore)(sig));
	act.sa_handler = SIG_IGN;
	sigemptyset(&act.sa_mask);
	act.sa_flags = 0;
	if (!shim_ready()) {
		r = shim_install(sig, &act, NULL);
		shim_early_unlogged();
		shim_leave();
		return r;
	}
	shim_ev_prepare(&e);
	r = shim_install(sig, &act, NULL);
	err = errno;
	call_event(&e, "signal.sigignore", sig);
	shim_ev_result_errno(&e, r, err);
	shim_ev_commit(&e);
	shim_leave();
	errno = err;
	return r;
}

EXPORT int __sigpause(int sig_or_mask, int is_sig)
{
	struct shim_ev e;
	int r, err;

	ENTER_OR(shim_sigpause_enforced(sig_or_mask, is_sig));
	shim_ev_prepare(&e);
	r = shim_sigpause_enforced(sig_or_mask, is_sig);
	err = errno;
	shim_ev_begin(&e, "signal.__sigpause");
	audit_jw_uint(&e.w, "thread_id", (unsigned long long)pthread_self());
	if (is_sig)
		audit_jw_signal(&e.w, sig_or_mask);
	audit_jw_bool(&e.w, "main", shim_is_main_thread());
	audit_jw_int(&e.w, "sig_or_mask", sig_or_mask);
	audit_jw_int(&e.w, "is_sig", is_sig);
	shim_ev_result_errno(&e, r, err);
	shim_ev_commit(&e);
	shim_leave();
	errno = err;
	return r;
}

/* The real siginterrupt works on the kernel entry, where it toggles
 * SA_RESTART on our trampoline exactly as it would on the program's
 * handler; we keep the mirror of its set for signal(). */
EXPORT int siginterrupt(int sig, int flag)
{
	struct shim_ev e;
	int r, err;
	bool ready;

	ENTER_INSTALLER_OR(REAL(siginterrupt)(sig, flag));
	ready = shim_ready();   /* once: init may complete meanwhile */
	if (ready)
		shim_ev_prepare(&e);
	r = REAL(siginterrupt)(sig, flag);
	err = errno;
	if (r == 0)
		shim_sigintr_set(sig, flag != 0);
	if (!ready) {
		shim_early_unlogged();
		shim_leave();
		errno = err;
		return r;
	}
	call_event(&e, "signal.siginterrupt", sig);
	audit_jw_int(&e.w, "flag", flag);
	shim_ev_result_errno(&e, r, err);
	shim_ev_commit(&e);
	shim_leave();
	errno = err;
	return r;
}
