/* NOT async-signal-safe (dladdr takes the loader's lock): called by the
 * install wrappers outside handlers only.  shim_runtime_placed is
 * async-signal-safe (one atomic load).
 *
 * Runtime profiles (mode=enforce).  Python's model is about the
 * application's handlers.  Language runtimes and collectors implement
 * per-thread protocols with thread-directed signals (stop-the-world
 * suspend/resume, safepoints, sampling, preemption): their handler must
 * run on the thread the signal was sent to, with that thread's registers,
 * and they install it from whatever thread starts the runtime.  A handler
 * installed by code in one of the modules below is recognised by the
 * module of sigaction's caller: the install is never an install-off-main
 * violation, and the handler runs where received ("exception":"runtime").
 * The first install of each signal by a runtime is logged as
 * sigshim.runtime.  A later install of a function handler for the same
 * signal by any other module gives the signal back to the model.
 *
 * The table is docs/semantics.md's "Runtimes" table; keep them in step. */
#include "config.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct profile {
	const char *runtime;
	const char *module;   /* a module whose name is this, or this plus ".suffix" */
	const char *beside;   /* if set: only when this file is in the module's directory */
};

static const struct profile profiles[] = {
	/* HotSpot: SIGUSR2 (or _JAVA_SR_SIGNUM) suspends a thread for
	 * safepoints, JFR sampling and thread dumps; SIGSEGV/SIGBUS/SIGILL/
	 * SIGFPE for implicit checks and crash reports; SIGQUIT/SIGHUP/
	 * SIGINT/SIGTERM and sun.misc.Signal post to its dispatcher thread.
	 * The launcher starts the VM on a second thread. */
	{ "hotspot", "libjvm.so", NULL },
	/* The JDK's own libraries beside it: NIO and java.net interrupt a
	 * thread blocked in I/O with a thread-directed SIGRTMAX-2 (an empty
	 * handler: the EINTR is the point). */
	{ "hotspot", "libnio.so", "server/libjvm.so" },
	{ "hotspot", "libnet.so", "server/libjvm.so" },
	{ "hotspot", "libjava.so", "server/libjvm.so" },
	/* Boehm GC: SIGPWR suspends each thread in its handler (registers
	 * saved, sigsuspend until SIGXCPU) for stop-the-world. */
	{ "boehm-gc", "libgc.so", NULL },
	{ "boehm-gc", "libgc-threaded.so", NULL },
	/* gccgo's runtime: every signal (SIGURG preemption, SIGPROF
	 * profiling, crash handling) is the Go runtime's own. */
	{ "gccgo", "libgo.so", NULL },
	/* Mono's SGen: thread suspend/restart/abort (SIGRTMIN+1..3 in
	 * Debian's build, SIGPWR/SIGXCPU in others), SIGPROF sampling.
	 * Debian links the runtime into the executable itself (dladdr names
	 * the main program by argv[0]: "mono" or "mono-sgen"). */
	{ "mono", "libmonosgen-2.0.so", NULL },
	{ "mono", "mono-sgen", NULL },
	{ "mono", "mono", NULL },
	/* .NET: activation injection (SIGRTMIN) and its own handlers. */
	{ "coreclr", "libcoreclr.so", NULL },
};
#define N_PROFILES (int)(sizeof profiles / sizeof profiles[0])

/* bit sig-1: the current handler of sig was installed by a runtime */
static atomic_ullong placed;
/* per profile, the signals already announced (sigshim.runtime) */
static atomic_ullong announced[N_PROFILES];

static bool module_matches(const char *path, const struct profile *p)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(p->module);
	char other[SHIM_PATH_MAX];

	base = base ? base + 1 : path;
	if (strncmp(base, p->module, n) != 0 || (base[n] != '\0' && base[n] != '.'))
		return false;
	if (!p->beside)
		return true;
	if ((size_t)(base - path) + strlen(p->beside) + 1 > sizeof other)
		return false;
	memcpy(other, path, (size_t)(base - path));
	strcpy(other + (base - path), p->beside);
	return access(other, F_OK) == 0;
}

/* *module: the caller's module path whenever it can be told (for the
 * wait diagnosis), runtime or not. */
int shim_runtime_of_caller(const void *caller, const char **module)
{
	Dl_info info;

	*module = NULL;
	if (shim.opt.mode != SHIM_MODE_ENFORCE || !caller || shim_in_handler() ||
	    !dladdr(caller, &info) || !info.dli_fname)
		return -1;
	*module = info.dli_fname;
	if (!shim.opt.profiles)
		return -1;
	for (int i = 0; i < N_PROFILES; i++)
		if (module_matches(info.dli_fname, &profiles[i]))
			return i;
	return -1;
}

/* Who installed each signal's current function handler (a path the
 * loader owns; "" before any or for the main program, whose dli_fname
 * glibc gives as ""). */
static const char *_Atomic installer[SHIM_NSIG];

void shim_installer_set(int sig, const char *module)
{
	if (sig > 0 && sig < SHIM_NSIG)
		atomic_store(&installer[sig], module);
}

/* Signal context: a load. */
const char *shim_installer_of(int sig)
{
	const char *m = sig > 0 && sig < SHIM_NSIG ? atomic_load(&installer[sig]) : NULL;

	return m ? m : "";
}

const char *shim_runtime_name(int rt)
{
	return rt >= 0 && rt < N_PROFILES ? profiles[rt].runtime : NULL;
}

/* After a successful install of `handler` for sig by runtime rt (-1: by
 * anyone else).  True when this is the runtime's first install of sig
 * (the caller logs sigshim.runtime). */
bool shim_runtime_installed(int sig, int rt, bool function)
{
	unsigned long long bit = shim_sigbit(sig);

	if (rt < 0 || !function) {
		/* the program's own handler, or a default: the model again */
		atomic_fetch_and(&placed, ~bit);
		return false;
	}
	atomic_fetch_or(&placed, bit);
	return !(atomic_fetch_or(&announced[rt], bit) & bit);
}

bool shim_runtime_placed(int sig)
{
	return (atomic_load(&placed) & shim_sigbit(sig)) != 0;
}

void shim_runtime_event(int sig, int rt, const char *module)
{
	struct shim_ev e;

	if (!audit_sink_active())
		return;
	e.nbt = 0;   /* the sigaction line before it has the backtrace */
	shim_ev_begin(&e, "sigshim.runtime");
	shim_ev_thread_sig(&e, pthread_self(), sig);
	audit_jw_str(&e.w, "runtime", profiles[rt].runtime);
	audit_jw_str(&e.w, "module", module ? module : "");
	audit_jw_arr_begin(&e.w, "exempt");
	audit_jw_el_str(&e.w, "install-off-main");
	audit_jw_el_str(&e.w, "forwarding");
	audit_jw_end(&e.w);
	shim_ev_commit(&e);
}
