/* Internal interfaces of libsigshim.so.  Nothing here is exported: the
 * version script (sigshim.map) lists the only public names, which are the
 * interposed libc functions themselves. */
#ifndef SIGSHIM_SHIM_H
#define SIGSHIM_SHIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backtrace.h"
#include "decode.h"
#include "jsonw.h"
#include "options.h"
#include "sink.h"

#define SHIM_NSIG (AUDIT_SIGMAX + 1)   /* arrays indexed by signal: 1..64 on x86_64 */

typedef void (*shim_handler_t)(int);

/* The real libc functions, found with dlsym(RTLD_NEXT) / dlvsym. */
struct shim_real {
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);        /* @@GLIBC_2.32 */
	int (*pthread_sigmask_225)(int, const sigset_t *, sigset_t *);    /* @GLIBC_2.2.5 */
	int (*pthread_kill)(pthread_t, int);                               /* @@GLIBC_2.34 */
	int (*pthread_kill_225)(pthread_t, int);                           /* @GLIBC_2.2.5 */
	int (*pthread_sigqueue)(pthread_t, int, const union sigval);       /* @@GLIBC_2.34 */
	int (*pthread_sigqueue_211)(pthread_t, int, const union sigval);   /* @GLIBC_2.11 */
	int (*raise)(int);
	int (*gsignal)(int);
	int (*kill)(pid_t, int);
	int (*tgkill)(pid_t, pid_t, int);
	int (*sigqueue)(pid_t, int, const union sigval);
	int (*sigpause)(int);
	int (*__sigpause)(int, int);
	int (*__xpg_sigpause)(int);
	int (*sigsuspend)(const sigset_t *);
	shim_handler_t (*signal)(int, shim_handler_t);
	shim_handler_t (*bsd_signal)(int, shim_handler_t);
	shim_handler_t (*ssignal)(int, shim_handler_t);
	shim_handler_t (*sysv_signal)(int, shim_handler_t);
	shim_handler_t (*__sysv_signal)(int, shim_handler_t);
	shim_handler_t (*sigset)(int, shim_handler_t);
	int (*sighold)(int);
	int (*sigrelse)(int);
	int (*sigignore)(int);
	int (*siginterrupt)(int, int);
	int (*close)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	void (*longjmp)(void *, int);
	void (*_longjmp)(void *, int);
	void (*siglongjmp)(void *, int);
	void (*__longjmp_chk)(void *, int);
	int (*sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
	int (*sigwaitinfo)(const sigset_t *, siginfo_t *);
	int (*sigwait)(const sigset_t *, int *);
	int (*__libc_current_sigrtmax)(void);
	int (*sigpending)(sigset_t *);
	int (*prctl)(int, ...);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	void (*_exit)(int);
	int (*system)(const char *);
	int (*pselect)(int, void *, void *, void *, const struct timespec *, const sigset_t *);
	int (*ppoll)(void *, unsigned long, const struct timespec *, const sigset_t *);
	int (*epoll_pwait)(int, void *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, void *, int, const struct timespec *, const sigset_t *);
};

extern struct shim_real shim_real;
void shim_real_init(void);

/* REAL(f): the real libc `f`, resolving every symbol on first use.  Wrappers
 * may run before our constructor (another preloaded library's constructor
 * calling sigaction), so nothing may assume init has happened. */
#define REAL(f) (__builtin_expect(shim_real.f != NULL, 1) ? shim_real.f : (shim_real_init(), shim_real.f))

/* Process-wide state, set up by shim_init(). */
struct shim_state {
	struct shim_options opt;
	pid_t pid;
	pthread_t main_thread;
	bool main_thread_known;
	bool forked;
	char log_path[4096];
	uintptr_t self_lo, self_hi;       /* our own text, left out of backtraces */
	uintptr_t unwind_lo, unwind_hi;   /* libunwind's, whose own calls are not audited */
};
extern struct shim_state shim;

/* Full initialisation (options, log, start event), from our constructor.
 * Wrappers called before it (other libraries' constructors, a sanitizer
 * runtime starting up) take the early path (early.c). */
void shim_init(void);
extern atomic_int shim_init_state;      /* 2 once shim_init() is done */
static inline bool shim_ready(void)
{
	return atomic_load_explicit(&shim_init_state, memory_order_acquire) == 2;
}
void shim_early_sigaction(int sig, const struct sigaction *act,
			  const struct sigaction *old, int ret, int err);
void shim_early_handler(const char *event, int sig, shim_handler_t h,
			shim_handler_t ret, int err);
void shim_early_mask(const char *event, const char *version, int how,
		     const sigset_t *set, const sigset_t *oldset, int ret, int err);
void shim_early_unlogged(void);
void shim_early_flush(void);
int shim_early_lost(void);
int shim_early_unlogged_count(void);
void shim_dispositions_after_init(void);

/* Per-thread state.  Initial-exec TLS: a preloaded object has room in the
 * static TLS block, and IE access never calls into the loader, so it is
 * safe inside signal handlers. */
#define SHIM_TLS __thread __attribute__((tls_model("initial-exec")))

/* The guard that keeps the shim's own libc calls (and libunwind's) from
 * being intercepted and audited again. */
extern SHIM_TLS int shim_busy;
static inline bool shim_enter(void)
{
	if (shim_busy)
		return false;
	shim_busy = 1;
	return true;
}
static inline void shim_leave(void)
{
	shim_busy = 0;
}

/* libunwind calls sigprocmask from its own code, also outside our calls
 * (its per-thread cache destructor runs at thread exit): such calls are
 * libunwind's, not the program's. */
static inline bool shim_called_by_unwinder(const void *ret_addr)
{
	uintptr_t a = (uintptr_t)ret_addr;

	return a >= shim.unwind_lo && a < shim.unwind_hi;
}

/* Entry of every wrapper that changes no handler: the busy guard, a plain
 * pass-through (counted) before our constructor has run, and straight to
 * libc when there is no log to write (nothing else to do for these). */
#define SHIM_ENTER_OR(passthrough) \
	do { \
		if (!shim_enter()) \
			return passthrough; \
		if (__builtin_expect(!shim_ready(), 0)) { \
			shim_leave(); \
			shim_early_unlogged(); \
			return passthrough; \
		} \
		if (!audit_sink_active()) { \
			shim_leave(); \
			return passthrough; \
		} \
	} while (0)

pid_t shim_gettid(void);
bool shim_is_main_thread(void);
/* The main thread's tid: the pid, or the thread main_thread=first-installer
 * chose. */
pid_t shim_main_tid(void);
bool shim_main_choose(void);
void shim_main_after_fork(void);
/* The thread just chosen as main (first-installer): doorbells, mask, watch,
 * and a sigshim.main_thread event. */
void shim_main_became(void);

/* Handler nesting on this thread.  Entries are dropped when the stack has
 * unwound past them (a handler that left with siglongjmp). */
void shim_handler_enter(void);
void shim_handler_leave(void);
bool shim_in_handler(void);
/* A jump to a frame whose stack pointer is `target_sp` leaves every handler
 * entered below it. */
void shim_handler_unwind_to(uintptr_t target_sp);

/* Events.  A call event is built in three steps so that backtrace module
 * lines are written before the event that refers to them. */
struct shim_ev {
	struct jw w;
	unsigned long long seq;
	uintptr_t bt[AUDIT_BT_MAX];
	int nbt;
	char buf[AUDIT_LINE_MAX];
};

/* Captures the call-site backtrace (when enabled and not in a handler).  To
 * be called at the top of a wrapper. */
void shim_ev_prepare(struct shim_ev *e);
/* Writes the module line for a code address (a handler) if not yet done. */
void shim_ev_note_code(uintptr_t addr);
/* Starts the line: v, seq, ts, pid, tid, event. */
void shim_ev_begin(struct shim_ev *e, const char *event);
/* thread_id, signalnum, signame, main, in_handler. */
void shim_ev_thread_sig(struct shim_ev *e, pthread_t thread_id, int sig);
/* ret / error / errno of an errno-style call. */
void shim_ev_result_errno(struct shim_ev *e, long ret, int err);
/* ret / error / errno of a pthread-style call (returns the error). */
void shim_ev_result_code(struct shim_ev *e, int code);
/* Adds bt, finishes and writes the line. */
void shim_ev_commit(struct shim_ev *e);

/* A small line written from signal context (no backtrace). */
struct shim_ev_small {
	struct jw w;
	unsigned long long seq;
	char buf[768];
};
void shim_evs_begin(struct shim_ev_small *e, const char *event);
void shim_evs_commit(struct shim_ev_small *e);
void shim_event_reset_seq(void);
/* A jump to the frame at `target_sp` abandons the lines this thread began
 * below it: each gets a sigshim.abandoned line under its seq. */
void shim_ev_unwind_to(uintptr_t target_sp);
unsigned long long shim_event_truncated(void);

/* Dispositions: the program's view of each signal, and installation of the
 * trampoline in its place. */
int shim_install(int sig, const struct sigaction *act, struct sigaction *oldact);
bool shim_is_function(shim_handler_t h);
void shim_trampoline(int sig, siginfo_t *si, void *uc);
shim_handler_t shim_user_handler(shim_handler_t kernel_h, int sig);
/* The trampoline's address as a plain handler, for comparisons. */
shim_handler_t shim_trampoline_as_handler(void);
void shim_dispositions_after_fork(void);
/* The program's handler, flags and sa_mask (bits 1..64) for `sig`. */
void shim_ent_read(int sig, uintptr_t *h, unsigned long *fl, unsigned long long *mask);
bool shim_ent_claim_oneshot(int sig, uintptr_t h);
/* The program's own handler for a reserved signal (0: none). */
uintptr_t shim_reserved_handler(int sig, unsigned long *fl, unsigned long long *mask);
/* The trampoline in the kernel in front of a SIG_DFL view (sink=mmap). */
void shim_ent_guard_kernel(int sig);
void shim_ent_sync_kernel(int sig);

/* Forwarding to the main thread (mode=enforce, forward.c): per-signal
 * queues of received siginfo, and two reserved real-time doorbells the
 * program never sees. */
struct shim_fwd_item {
	siginfo_t info;
	uintptr_t handler;
	unsigned long flags;
	unsigned long long mask;         /* the program's sa_mask */
	pid_t from_tid;
	pthread_t from_thread;
	unsigned long long t_recv;       /* CLOCK_MONOTONIC ns */
};
enum { SHIM_DB_INTR, SHIM_DB_RESTART };
/* Kernel numbers of the doorbells (SIGRTMAX-1, SIGRTMAX), 0 before
 * shim_doorbell_install() or in mode=audit, and their bits. */
extern int shim_doorbell_sig[2];
extern unsigned long long shim_doorbell_bits;
void shim_doorbell_install(void);
void shim_doorbell_after_fork(void);
void shim_doorbell(int sig, siginfo_t *si, void *uc);
bool shim_is_doorbell(const siginfo_t *si);
void shim_doorbell_ack(int kind);
/* A set of the program's with the doorbells taken out (a copy when it has
 * them; `set` itself otherwise). */
const sigset_t *shim_strip_doorbells(const sigset_t *set, sigset_t *copy);
void shim_hide_doorbells(sigset_t *set);

void shim_forward_prepare(int sig);
enum shim_fwd_result {
	SHIM_FWD_OK,                 /* queued; main rung, or rings when it unblocks */
	SHIM_FWD_FULL,               /* not queued: no room */
	SHIM_FWD_MAIN_GONE,          /* not queued: main has exited */
	SHIM_FWD_QUEUED_MAIN_GONE,   /* queued, and main left: the caller runs the queue */
	SHIM_FWD_QUEUED_NO_DOORBELL, /* queued, the doorbell cannot be sent: same */
};
enum shim_fwd_result shim_forward(int sig, const struct shim_fwd_item *it);
bool shim_forward_pop(int sig, struct shim_fwd_item *out);
unsigned long long shim_forward_queued(void);
/* Main thread: ring if anything queued is runnable under `mask`. */
void shim_forward_kick(unsigned long long mask);
/* The end of a handler on main: hold the doorbells until sigreturn, ring
 * for what is runnable under `mask`, the mask it restores. */
void shim_forward_settle(unsigned long long mask);
/* Runs (here) or reports everything queued, each with `why` logged. */
void shim_forward_run_all_here(const char *why);
void shim_forward_drop_all(const char *why);
/* A jump left a drain loop: ring again for what is still queued. */
void shim_drain_abandoned(const sigset_t *restored);
/* A wait (sigsuspend, sigwait...) from a forwarded handler on main: warn. */
void shim_forwarded_wait_check(const char *wait);
unsigned long long shim_forward_overflows(void);
void shim_forward_count_lost(void);
void shim_forward_after_fork(void);
unsigned long long shim_main_mask(void);
void shim_main_mask_set(unsigned long long mask);
unsigned long long shim_now_ns(void);
/* Some thread made rdtsc trap (prctl PR_SET_TSC): no vDSO clock reads. */
extern atomic_int shim_tsc_trapped;
bool shim_main_exited(void);
void shim_main_watch(void);
/* User handler runs on this thread so far (a wait can tell whether one
 * interrupted it). */
unsigned long shim_handler_runs(void);

/* Mask wrappers' common tail (interpose-mask.c): after the calling thread's
 * mask became `now`, the main thread updates what workers read and rings
 * for anything it unblocked. */
void shim_mask_changed(unsigned long long now);
void shim_mask_refresh(void);
int shim_sigpause_enforced(int sig_or_mask, int is_sig);
/* Bit sig-1 of a 64-bit signal set (masks, queued, doorbells). */
static inline unsigned long long shim_sigbit(int sig)
{
	return 1ULL << (sig - 1);
}
static inline unsigned long long shim_mask64(const sigset_t *s)
{
	return s ? ((const unsigned long long *)(const void *)s)[0] : 0;
}

/* siginterrupt()'s set, which decides signal()'s SA_RESTART as in glibc. */
bool shim_sigintr_has(int sig);
void shim_sigintr_set(int sig, bool interrupt);

/* Runtime profiles (runtimes.c, mode=enforce).  The profile index of the
 * module holding `caller` (sigaction's return address), or -1; *module
 * its path.  Ordinary context. */
int shim_runtime_of_caller(const void *caller, const char **module);
const char *shim_runtime_name(int rt);
/* After an install of sig by runtime rt (-1: anyone else); true the first
 * time rt installs sig (log sigshim.runtime). */
bool shim_runtime_installed(int sig, int rt, bool function);
/* The module that installed sig's current function handler ("" unknown). */
void shim_installer_set(int sig, const char *module);
const char *shim_installer_of(int sig);
/* Signal context: sig's handler belongs to a runtime. */
bool shim_runtime_placed(int sig);
/* Writes sigshim.runtime for runtime rt's first install of sig. */
void shim_runtime_event(int sig, int rt, const char *module);

/* Policy (mode=enforce). */
const char *shim_policy_install(bool *deny);
void shim_policy_fields(struct shim_ev *e, const char *rule, bool deny);
void shim_policy_after(const char *rule, const char *func, int sig);
/* Violations recorded so far (mode=enforce). */
unsigned long long shim_violations(void);
void shim_policy_after_fork(void);

/* Exit-time report. */
void shim_write_exit_event(void);

#endif
