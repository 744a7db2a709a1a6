/* Start-up, fork and exit.
 *
 * shim_init() runs from our constructor.  Calls that reach the wrappers
 * before it are handled by early.c.  A bad SIGSHIM_OPTIONS or an unusable
 * log_path stops the program with status 2 before main: a CI run with a
 * typo must not pass silently. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backtrace.h"
#include "decode.h"
#include "shim.h"
#include "sink.h"

struct shim_state shim;

atomic_int shim_init_state;             /* 0 none, 1 running, 2 done */
static SHIM_TLS int init_owner;

static void fatal(const char *msg)
{
	audit_stderr(msg);
	audit_stderr("\n");
	_exit(2);
}

static void parse_options(void)
{
	char err[512];
	const char *env = getenv("SIGSHIM_OPTIONS");

	shim_options_default(&shim.opt);
	if (env && shim_options_parse(&shim.opt, env, err, sizeof err) < 0)
		fatal(err);
	if (shim.opt.help)
		audit_stderr(shim_options_help());
}

static void find_self(void)
{
	struct audit_module m;

	if (audit_module_find((uintptr_t)shim_init, &m) == 0) {
		shim.self_lo = m.start;
		shim.self_hi = m.end;
	}
	if (audit_module_find(audit_backtrace_text(), &m) == 0) {
		shim.unwind_lo = m.start;
		shim.unwind_hi = m.end;
	}
}

/* Returns 0, or -errno. */
static int open_log(void)
{
	if (!shim.opt.log_path[0])
		return 0;
	if (shim.opt.sink == SHIM_SINK_MMAP) {
		int r = audit_sink_open_mapped(shim.opt.log_path, shim.log_path, sizeof shim.log_path);

		if (r == 0)
			shim_ent_guard_kernel(SIGBUS);
		return r;
	}
	return audit_sink_open(shim.opt.log_path, shim.log_path, sizeof shim.log_path);
}

/* A wrong path (a missing directory, a symlink, a name too long) is the
 * user's mistake: stop before main, so a CI run cannot pass without its
 * log.  A permission or resource problem is the environment's: typically
 * a descendant that dropped privileges (a daemon switching to "nobody")
 * cannot create its file in the parent's directory.  Stopping it would
 * change the program's behaviour, so it runs on, unlogged, and says so. */
static bool descendant;
/* One sigshim.exit per process image: from the destructor (exit, return
 * from main) or from _exit/_Exit, whichever comes first. */
static atomic_int exit_written;   /* an earlier process of this run started the shim */

static void log_open_failed(int err)
{
	char msg[SHIM_PATH_MAX + 200];
	const char *why = audit_sink_refusal();
	bool path_error = err == ENOENT || err == ENOTDIR || err == ELOOP ||
			  err == ENAMETOOLONG || err == EISDIR || err == EINVAL || why;

	/* Only the first process of a run may refuse to start: a descendant
	 * whose path stopped resolving (its directory deleted meanwhile) is
	 * the run's business, not a typo to stop on. */
	snprintf(msg, sizeof msg, "sigshim: cannot open log_path '%s': %s%s",
		 shim.opt.log_path, why ? why : strerror(err),
		 path_error && !descendant ? "" : " (pid not logged; the program runs on)");
	if (path_error && !descendant)
		fatal(msg);
	audit_stderr(msg);
	audit_stderr("\n");
}

/* The first process of a run marks the environment its descendants
 * inherit (SIGSHIM_RUN_ROOT=pid), and makes a relative log_path absolute
 * there, once: a descendant that chdir'd still logs beside the first
 * process, and a later `cd` cannot turn the path into a missing
 * directory.  A path holding both quote characters stays as it is. */
static void mark_run(void)
{
	char cwd[SHIM_PATH_MAX], abs[2 * SHIM_PATH_MAX + 8], num[24];
	const char *env = getenv("SIGSHIM_OPTIONS");
	static char opts[3 * SHIM_PATH_MAX + 64];
	char q;

	descendant = getenv("SIGSHIM_RUN_ROOT") != NULL;
	if (descendant)
		return;
	snprintf(num, sizeof num, "%d", (int)getpid());
	setenv("SIGSHIM_RUN_ROOT", num, 0);
	if (!shim.opt.log_path[0] || shim.opt.log_path[0] == '/' ||
	    strcmp(shim.opt.log_path, "stderr") == 0 || !getcwd(cwd, sizeof cwd))
		return;
	q = !strchr(cwd, '\'') && !strchr(shim.opt.log_path, '\'') ? '\'' :
	    !strchr(cwd, '"') && !strchr(shim.opt.log_path, '"') ? '"' : 0;
	if (!q || (size_t)snprintf(abs, sizeof abs, "%s/%s", cwd, shim.opt.log_path) >=
		  sizeof shim.opt.log_path)
		return;
	strcpy(shim.opt.log_path, abs);
	snprintf(opts, sizeof opts, "%s%slog_path=%c%s%c", env ? env : "", env && *env ? ":" : "",
		 q, abs, q);
	setenv("SIGSHIM_OPTIONS", opts, 1);
}

static void options_object(struct jw *w)
{
	audit_jw_obj_begin(w, "options");
	audit_jw_str(w, "mode", shim_mode_name(shim.opt.mode));
	audit_jw_str(w, "log_path", shim.opt.log_path);
	audit_jw_uint(w, "backtrace", shim.opt.backtrace);
	audit_jw_str(w, "rule_install_off_main", shim_policy_name(shim.opt.rule_install_off_main));
	audit_jw_int(w, "exitcode", shim.opt.exitcode);
	audit_jw_bool(w, "halt_on_violation", shim.opt.halt_on_violation);
	audit_jw_str(w, "report", shim.opt.report == SHIM_REPORT_STDERR ? "stderr" : "off");
	audit_jw_str(w, "sink", shim.opt.sink == SHIM_SINK_MMAP ? "mmap" : "write");
	audit_jw_bool(w, "profiles", shim.opt.profiles);
	audit_jw_str(w, "main_thread", shim.opt.main_first_installer ? "first-installer" : "primordial");
	audit_jw_arr_begin(w, "run_where_received");
	for (int sig = 1; sig < SHIM_NSIG; sig++)
		if (shim.opt.run_where_received & shim_sigbit(sig))
			audit_jw_el_int(w, sig);
	audit_jw_end(w);
	audit_jw_end(w);
}

static void write_start_event(void)
{
	struct shim_ev e;
	char exe[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	exe[n > 0 ? n : 0] = '\0';
	shim_ev_begin(&e, "sigshim.start");
	audit_jw_str(&e.w, "version", SIGSHIM_VERSION);
	/* Identity and counts first, the strings a program chooses last: a
	 * line cut at its size limit loses a path's tail, never these. */
	audit_jw_int(&e.w, "ppid", getppid());
	audit_jw_int(&e.w, "main_tid", shim.pid);
	if (shim.main_thread_known)
		audit_jw_uint(&e.w, "main_thread_id", (unsigned long long)shim.main_thread);
	if (shim.forked)
		audit_jw_bool(&e.w, "forked", true);
	if (shim_early_unlogged_count())
		audit_jw_int(&e.w, "early_unlogged", shim_early_unlogged_count());
	if (shim_early_lost())
		audit_jw_int(&e.w, "early_lost", shim_early_lost());
	options_object(&e.w);
	audit_jw_str(&e.w, "exe", exe);
	audit_jw_str(&e.w, "argv0", program_invocation_name);
	e.nbt = 0;
	shim_ev_commit(&e);
}

static void after_fork_child(void);

/* Signals stay blocked on the forking thread from just before fork() to
 * the end of the child's (and the parent's) atfork handler: a signal the
 * child receives before its state is its own would be logged in the
 * parent's file, with the parent's pid and seq. */
static SHIM_TLS sigset_t fork_saved_mask;

static void before_fork(void)
{
	sigset_t all;

	sigfillset(&all);
	REAL(pthread_sigmask)(SIG_SETMASK, &all, &fork_saved_mask);
}

static void after_fork_parent(void)
{
	REAL(pthread_sigmask)(SIG_SETMASK, &fork_saved_mask, NULL);
}

static void do_init(void)
{
	int err;

	shim_real_init();
	shim.pid = getpid();
	if (shim_gettid() == shim.pid) {
		shim.main_thread = pthread_self();
		shim.main_thread_known = true;
	}
	parse_options();
	if (getauxval(AT_SECURE) && shim.opt.log_path[0] && strcmp(shim.opt.log_path, "stderr")) {
		static const char msg[] = "sigshim: secure execution (setuid/setgid): "
					  "log_path from the environment ignored, no log written\n";
		audit_stderr(msg);
		shim.opt.log_path[0] = '\0';
	}
	mark_run();
	shim_doorbell_install();
	find_self();
	err = open_log();
	if (err < 0)
		log_open_failed(-err);
	if (shim.opt.backtrace)
		audit_backtrace_init();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	shim_main_watch();
	write_start_event();
	if (!shim.forked)
		shim_early_flush();
	shim_dispositions_after_init();
}

void shim_init(void)
{
	int expected = 0;

	if (__builtin_expect(atomic_load(&shim_init_state) == 2, 1))
		return;
	if (atomic_compare_exchange_strong(&shim_init_state, &expected, 1)) {
		init_owner = 1;
		do_init();
		init_owner = 0;
		atomic_store(&shim_init_state, 2);
		return;
	}
	/* Re-entered from our own init (a handler on this thread): go on
	 * with what is set up; another thread (a constructor that started
	 * one): wait, init is short. */
	while (!init_owner && atomic_load(&shim_init_state) != 2)
		sched_yield();
}

__attribute__((constructor)) static void shim_ctor(void)
{
	int busy = shim_busy;

	shim_busy = 1;
	shim_init();
	shim_busy = busy;
}

/* The child has one thread, the one that forked: it is the main thread
 * now (Python's rule follows).  With %p in log_path it opens its own log. */
static void after_fork_child(void)
{
	int busy = shim_busy;

	shim_busy = 1;
	/* main_thread_id is named only when the parent's main thread forked;
	 * the forking thread is the child's main either way (tid == pid). */
	shim.main_thread_known = shim.main_thread_known &&
				 pthread_equal(shim.main_thread, pthread_self());
	shim.pid = getpid();
	shim.main_thread = pthread_self();
	shim.forked = true;
	shim_main_after_fork();
	atomic_store(&exit_written, 0);
	shim_event_reset_seq();
	shim_policy_after_fork();
	audit_sink_after_fork();
	audit_modules_reset();
	shim_dispositions_after_fork();
	shim_forward_after_fork();
	if (strstr(shim.opt.log_path, "%p")) {
		audit_sink_detach(REAL(close));
		if (open_log() < 0) {
			static const char msg[] = "sigshim: forked child cannot open its log; "
						  "its events are not recorded\n";
			audit_stderr(msg);
		}
	}
	write_start_event();
	shim_busy = busy;
	REAL(pthread_sigmask)(SIG_SETMASK, &fork_saved_mask, NULL);
	/* with the thread's own mask back: what workers ring against */
	shim_doorbell_after_fork();
}

/* say_lost, say_if_vanished and exit_event run once per image (the one
 * thread that wins exit_written), possibly from a crash handler's _exit on
 * a small alternate stack: their buffers are static, not on the stack. */
static char exit_msg[SHIM_PATH_MAX + 256];

static void say_lost(const struct audit_sink_stats *st)
{
	char *msg = exit_msg;
	size_t msgsz = sizeof exit_msg;

	snprintf(msg, msgsz,
		 "sigshim: %llu audit event(s) (%llu bytes) could not be written to '%s': %s\n",
		 st->dropped, st->dropped_bytes, shim.log_path, strerror(st->last_errno));
	audit_stderr(msg);
}

static void say_if_vanished(void)
{
	char *msg = exit_msg;

	if (strcmp(shim.log_path, "stderr") == 0 || !audit_sink_vanished())
		return;
	snprintf(msg, sizeof exit_msg,
		 "sigshim: log file '%s' was deleted while the program ran; its events are lost\n",
		 shim.log_path);
	audit_stderr(msg);
}

static void exit_event(const char *how, int status)
{
	struct audit_sink_stats st;
	static struct shim_ev e;   /* one writer: see exit_msg */

	if (atomic_exchange(&exit_written, 1))
		return;
	audit_sink_stats(&st);
	shim_ev_begin(&e, "sigshim.exit");
	if (how) {
		audit_jw_str(&e.w, "how", how);
		audit_jw_int(&e.w, "status", status);
	}
	audit_jw_uint(&e.w, "events", st.events);
	audit_jw_uint(&e.w, "dropped", st.dropped);
	audit_jw_uint(&e.w, "dropped_bytes", st.dropped_bytes);
	audit_jw_uint(&e.w, "truncated", shim_event_truncated());
	audit_jw_uint(&e.w, "violations", shim_violations());
	audit_jw_uint(&e.w, "not_forwarded", shim_forward_overflows());
	e.nbt = 0;
	shim_ev_commit(&e);
	audit_sink_stats(&st);
	if (st.dropped)
		say_lost(&st);
	say_if_vanished();
}

void shim_write_exit_event(void)
{
	exit_event(NULL, 0);
}

/* _exit and _Exit: the usual end of a forked child, and of a crash
 * handler; no destructor runs, so the end is recorded here.  A vfork
 * child (another pid, the parent's memory and log) records nothing.
 * async-signal-safe as the event writers are. */
static void record_exit(const char *how, int status)
{
	int busy = shim_busy;

	if (!shim_ready() || busy || syscall(SYS_getpid) != shim.pid)
		return;
	shim_busy = 1;
	if (audit_sink_active())
		exit_event(how, status);
	audit_sink_finish();
	shim_busy = busy;
}

__attribute__((visibility("default"), noreturn)) void _exit(int status)
{
	record_exit("_exit", status);
	REAL(_exit)(status);
	__builtin_unreachable();
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status)
{
	record_exit("_Exit", status);
	REAL(_exit)(status);
	__builtin_unreachable();
}

__attribute__((destructor)) static void shim_dtor(void)
{
	int busy = shim_busy;

	if (!shim_ready())
		return;
	shim_busy = 1;
	if (audit_sink_active())
		shim_write_exit_event();
	audit_sink_finish();
	shim_busy = busy;
	if (shim.opt.exitcode >= 0 && shim_violations() > 0) {
		/* exit()'s status cannot be changed, only replaced by _exit().
		 * The program's atexit handlers and the destructors of the
		 * objects finalized before ours have run; stdio is flushed
		 * after every destructor, so flush it here (docs/design.md). */
		fflush(NULL);
		_exit(shim.opt.exitcode);
	}
}
