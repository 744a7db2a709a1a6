/* Finding the real libc functions.
 *
 * All symbols are resolved together, eagerly from the constructor and
 * lazily from the first wrapper that runs (which may be inside another
 * library's constructor, before ours).  A first dlsym() inside a signal
 * handler would not be safe, which is why the constructor does it early. */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct shim_real shim_real;

static void die(const char *what, const char *name)
{
	/* Not stdio: we may be very early, or inside libc's own locks. */
	static const char pre[] = "sigshim: fatal: cannot resolve the real ";

	(void)!write(2, pre, sizeof pre - 1);
	(void)!write(2, name, strlen(name));
	(void)!write(2, ": ", 2);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	abort();
}

/* Refuses a lookup that lands on our own definition: calling it would
 * recurse forever. */
static void *lookup(const char *name, const char *version, int required)
{
	void *p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
	Dl_info self, found;

	if (!p) {
		if (required)
			die("symbol not found after libsigshim.so", name);
		return NULL;
	}
	if (dladdr((void *)shim_real_init, &self) && dladdr(p, &found) &&
	    self.dli_fbase == found.dli_fbase)
		die("lookup resolved to libsigshim.so itself", name);
	return p;
}

#define GET(field, name) \
	__atomic_store_n((void **)&shim_real.field, lookup(name, NULL, 1), __ATOMIC_RELEASE)
#define GETV(field, name, ver) \
	__atomic_store_n((void **)&shim_real.field, lookup(name, ver, 1), __ATOMIC_RELEASE)

void shim_real_init(void)
{
	GET(sigprocmask, "sigprocmask");
	GETV(pthread_sigmask, "pthread_sigmask", "GLIBC_2.32");
	GETV(pthread_sigmask_225, "pthread_sigmask", "GLIBC_2.2.5");
	GETV(pthread_kill, "pthread_kill", "GLIBC_2.34");
	GETV(pthread_kill_225, "pthread_kill", "GLIBC_2.2.5");
	GETV(pthread_sigqueue, "pthread_sigqueue", "GLIBC_2.34");
	GETV(pthread_sigqueue_211, "pthread_sigqueue", "GLIBC_2.11");
	GET(raise, "raise");
	GET(gsignal, "gsignal");
	GET(kill, "kill");
	GET(tgkill, "tgkill");
	GET(sigqueue, "sigqueue");
	GET(sigpause, "sigpause");
	GET(__sigpause, "__sigpause");
	GET(__xpg_sigpause, "__xpg_sigpause");
	GET(sigsuspend, "sigsuspend");
	GET(signal, "signal");
	GET(bsd_signal, "bsd_signal");
	GET(ssignal, "ssignal");
	GET(sysv_signal, "sysv_signal");
	GET(__sysv_signal, "__sysv_signal");
	GET(sigset, "sigset");
	GET(sighold, "sighold");
	GET(sigrelse, "sigrelse");
	GET(sigignore, "sigignore");
	GET(siginterrupt, "siginterrupt");
	GET(close, "close");
	GET(dup2, "dup2");
	GET(dup3, "dup3");
	GET(close_range, "close_range");
	GET(closefrom, "closefrom");
	GET(longjmp, "longjmp");
	GET(_longjmp, "_longjmp");
	GET(siglongjmp, "siglongjmp");
	GET(__longjmp_chk, "__longjmp_chk");
	GET(sigtimedwait, "sigtimedwait");
	GET(sigwaitinfo, "sigwaitinfo");
	GET(sigwait, "sigwait");
	GET(__libc_current_sigrtmax, "__libc_current_sigrtmax");
	GET(sigpending, "sigpending");
	GET(prctl, "prctl");
	GET(execve, "execve");
	GET(execvp, "execvp");
	GET(execvpe, "execvpe");
	GET(fexecve, "fexecve");
	GET(_exit, "_exit");
	GET(system, "system");
	GET(pselect, "pselect");
	GET(ppoll, "ppoll");
	GET(epoll_pwait, "epoll_pwait");
	GET(epoll_pwait2, "epoll_pwait2");
	GET(sigaction, "sigaction");
}
