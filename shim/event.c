/* async-signal-safe, except shim_ev_prepare() (backtraces), which does
 * nothing inside a signal handler.
 *
 * The common parts of every event line. */
#include "config.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "backtrace.h"
#include "decode.h"
#include "shim.h"
#include "sink.h"

static atomic_ullong seq;

static atomic_int said_errno;
static atomic_ullong logged_dropped;
static atomic_ullong n_truncated;
static void count_truncated(const struct jw *w);
static void open_reset(void);

/* A forked child's log starts afresh: seq from 1, no loss counted. */
void shim_event_reset_seq(void)
{
	atomic_store(&seq, 0);
	open_reset();
	atomic_store(&said_errno, 0);
	atomic_store(&logged_dropped, 0);
	atomic_store(&n_truncated, 0);
}

/* Ordinary context (the module map locks): a full-size line, and a path
 * longer than what fits with the other fields is cut and says so. */
#define MODULE_PATH_ROOM 3600

static void emit_module(const struct audit_module *m, void *ud)
{
	struct shim_ev e;
	char path[MODULE_PATH_ROOM + 1];
	size_t len = strlen(m->path);
	bool cut = m->path_truncated || len > MODULE_PATH_ROOM;

	(void)ud;
	if (len > MODULE_PATH_ROOM)
		len = MODULE_PATH_ROOM;
	memcpy(path, m->path, len);
	path[len] = '\0';
	shim_ev_begin(&e, "sigshim.module");
	audit_jw_hex(&e.w, "base", m->base);
	audit_jw_hex(&e.w, "start", m->start);
	audit_jw_hex(&e.w, "end", m->end);
	if (m->build_id[0])
		audit_jw_str(&e.w, "build_id", m->build_id);
	else
		audit_jw_null(&e.w, "build_id");
	if (cut)
		audit_jw_bool(&e.w, "path_truncated", true);
	audit_jw_str(&e.w, "path", path);
	e.nbt = 0;
	shim_ev_commit(&e);
}

/* Capturing a backtrace and noting its modules take locks: the module
 * table's, and the loader's inside dl_iterate_phdr (libunwind's frame
 * lookup).  A handler that interrupted them and left by siglongjmp would
 * leave them held, and the thread's next logged call (or the program's
 * next dlopen) would hang: every signal waits, on this thread, until they
 * are released (raw system calls: the shim's own mask bookkeeping never
 * sees it).  A signal sent to this thread meanwhile is delivered just
 * after, as if it had come a few microseconds later; SIGKILL, SIGSTOP and
 * synchronous faults cannot be held. */
static void hold_signals(unsigned long long *old)
{
	unsigned long long all = ~0ULL;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, old, sizeof all);
}

static void release_signals(const unsigned long long *old)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, sizeof *old);
}

void shim_ev_prepare(struct shim_ev *e)
{
	unsigned long long old;

	e->nbt = 0;
	if (!shim.opt.backtrace || !audit_sink_active() || shim_in_handler())
		return;
	hold_signals(&old);
	e->nbt = audit_backtrace(e->bt, (int)shim.opt.backtrace, shim.self_lo, shim.self_hi);
	audit_modules_note(e->bt, e->nbt, emit_module, NULL);
	release_signals(&old);
}

/* A handler's module line, so that sigaudit can name the handler even
 * without backtraces.  Ordinary context only (the module map locks). */
void shim_ev_note_code(uintptr_t addr)
{
	unsigned long long old;

	if (!audit_sink_active() || shim_in_handler())
		return;
	hold_signals(&old);
	audit_modules_note(&addr, 1, emit_module, NULL);
	release_signals(&old);
}

/* Signal context (the small lines) reads the clock with the system call,
 * and so does everything once some thread made rdtsc trap: a vDSO read may
 * execute rdtsc, and a fault in the shim is the program's problem. */
static void header_seq(struct jw *w, const char *event, bool raw_clock, unsigned long long n)
{
	struct timespec ts;

	if (raw_clock || atomic_load_explicit(&shim_tsc_trapped, memory_order_relaxed))
		syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	audit_jw_int(w, "v", 1);
	audit_jw_uint(w, "seq", n);
	audit_jw_uint(w, "ts", (unsigned long long)ts.tv_sec * 1000000000ULL +
		      (unsigned long long)ts.tv_nsec);
	audit_jw_int(w, "pid", shim.pid);
	audit_jw_int(w, "tid", shim_gettid());
	audit_jw_str(w, "event", event);
}

/* --- events a jump abandons --------------------------------------------------
 * A line takes its seq when it begins and reaches the log when it is
 * committed.  A handler that interrupts a wrapper between the two and
 * leaves by siglongjmp (or longjmp) abandons that line: without a record
 * its seq would be a gap, which sigaudit must read as a lost event.  Each
 * thread keeps the lines it has begun and not yet written (they nest, one
 * per handler level), with the frame that began them; the jump wrappers
 * call shim_ev_unwind_to(), which writes a sigshim.abandoned line under
 * each abandoned seq.  A line is taken off the list as soon as its write
 * returns; the few instructions between the write and that are the only
 * window in which a jump cannot tell whether the line was written: the
 * record then says "maybe_written", and sigaudit counts it only towards its
 * own seq when that is otherwise missing.  The entry is on the list before
 * the seq is taken (the soak found 16 gaps in 3 s when it was put there
 * after): a jump between the two, one instruction, finds it pending and
 * cannot name the seq; its record takes a seq of its own and says
 * "seq_unknown", which sigaudit counts towards at most one missing seq.
 * A thread that leaves a
 * handler by pthread_exit, or is cancelled in one, leaves its gap: sigaudit
 * reports it. */
#define MAX_OPEN 16
struct open_ev {
	unsigned long long seq;
	uintptr_t sp;
	const char *event;
	bool writing;   /* its write may have happened */
};
static __thread struct open_ev open_evs[MAX_OPEN] __attribute__((tls_model("initial-exec")));
static __thread int n_open __attribute__((tls_model("initial-exec")));

static void open_reset(void)
{
	n_open = 0;
}

static unsigned long long take_seq(void)
{
	return atomic_fetch_add(&seq, 1) + 1;
}

static unsigned long long open_push(const char *event)
{
	unsigned long long n;
	int k = n_open;

	if (k >= MAX_OPEN)
		return take_seq();
	open_evs[k].seq = 0;            /* pending: no seq named yet */
	open_evs[k].sp = (uintptr_t)__builtin_frame_address(0);
	open_evs[k].event = event;
	open_evs[k].writing = false;
	/* The entry is whole before it counts, and counts before the seq is
	 * taken: a handler that comes now sees no entry (no seq taken), a
	 * pending one, or this one with its seq. */
	atomic_signal_fence(memory_order_seq_cst);
	n_open = k + 1;
	atomic_signal_fence(memory_order_seq_cst);
	n = take_seq();
	open_evs[k].seq = n;
	atomic_signal_fence(memory_order_seq_cst);
	return n;
}

static void open_writing(unsigned long long n)
{
	for (int k = n_open - 1; k >= 0; k--)
		if (open_evs[k].seq == n) {
			open_evs[k].writing = true;
			atomic_signal_fence(memory_order_seq_cst);
			return;
		}
}

/* `n` is written: it leaves the list with anything begun above it and
 * never committed (a line a code path began and dropped). */
static void open_pop(unsigned long long n)
{
	for (int k = n_open - 1; k >= 0; k--)
		if (open_evs[k].seq == n) {
			n_open = k;
			return;
		}
}

void shim_ev_unwind_to(uintptr_t target_sp)
{
	while (n_open > 0 && open_evs[n_open - 1].sp < target_sp) {
		struct open_ev o = open_evs[n_open - 1];
		struct shim_ev_small e;

		n_open--;
		audit_jw_init(&e.w, e.buf, sizeof e.buf);
		header_seq(&e.w, "sigshim.abandoned", true, o.seq ? o.seq : take_seq());
		audit_jw_str(&e.w, "of", o.event);
		audit_jw_str(&e.w, "by", "jump");
		if (!o.seq)     /* the line may have taken a seq this cannot name */
			audit_jw_bool(&e.w, "seq_unknown", true);
		if (o.writing)
			audit_jw_bool(&e.w, "maybe_written", true);
		count_truncated(&e.w);
		audit_sink_write(e.buf, audit_jw_finish(&e.w));
	}
}

static void header(struct jw *w, const char *event, bool raw_clock, unsigned long long *n)
{
	*n = open_push(event);
	header_seq(w, event, raw_clock, *n);
}

void shim_ev_begin(struct shim_ev *e, const char *event)
{
	audit_jw_init(&e->w, e->buf, sizeof e->buf);
	header(&e->w, event, false, &e->seq);
}

void shim_evs_begin(struct shim_ev_small *e, const char *event)
{
	audit_jw_init(&e->w, e->buf, sizeof e->buf);
	header(&e->w, event, true, &e->seq);
}

void shim_ev_thread_sig(struct shim_ev *e, pthread_t thread_id, int sig)
{
	audit_jw_uint(&e->w, "thread_id", (unsigned long long)thread_id);
	audit_jw_signal(&e->w, sig);
	audit_jw_bool(&e->w, "main", shim_is_main_thread());
	if (shim_in_handler())
		audit_jw_bool(&e->w, "in_handler", true);
}

static void error_fields(struct jw *w, int err)
{
	const char *name = audit_errno_name(err);

	if (name)
		audit_jw_str(w, "error", name);
	else
		audit_jw_int(w, "error", err);
	audit_jw_int(w, "errno", err);
}

void shim_ev_result_errno(struct shim_ev *e, long ret, int err)
{
	audit_jw_int(&e->w, "ret", ret);
	if (ret < 0)
		error_fields(&e->w, err);
}

void shim_ev_result_code(struct shim_ev *e, int code)
{
	audit_jw_int(&e->w, "ret", code);
	if (code != 0)
		error_fields(&e->w, code);
}

static void after_write(bool ok);

void shim_ev_commit(struct shim_ev *e)
{
	bool ok;

	if (e->nbt > 0) {
		audit_jw_arr_begin(&e->w, "bt");
		for (int i = 0; i < e->nbt; i++)
			audit_jw_el_hex(&e->w, e->bt[i]);
		audit_jw_end(&e->w);
	}
	count_truncated(&e->w);
	open_writing(e->seq);
	ok = audit_sink_write(e->buf, audit_jw_finish(&e->w));
	open_pop(e->seq);
	after_write(ok);
}

void shim_evs_commit(struct shim_ev_small *e)
{
	bool ok;

	count_truncated(&e->w);
	open_writing(e->seq);
	ok = audit_sink_write(e->buf, audit_jw_finish(&e->w));
	open_pop(e->seq);
	after_write(ok);
}

/* Lost lines are never silent.  The first failure of each kind is said on
 * stderr at once (async-signal-safe: a fixed message and write(2)); when
 * the log takes lines again, a sigshim.log_error line records how many were
 * lost before it; sigshim.exit has the totals. */
#define put_stderr audit_stderr

static void say_write_failure(int err)
{
	const char *name = audit_errno_name(err);

	put_stderr("sigshim: cannot write the audit log (");
	put_stderr(name ? name : "?");
	put_stderr("): lost events are counted and reported at exit\n");
}

static void after_write(bool ok)
{
	struct audit_sink_stats st;
	struct shim_ev_small e;

	audit_sink_stats(&st);
	if (!ok) {
		if (st.last_errno && atomic_exchange(&said_errno, st.last_errno) != st.last_errno)
			say_write_failure(st.last_errno);
		return;
	}
	if (st.dropped <= atomic_load(&logged_dropped) ||
	    atomic_exchange(&logged_dropped, st.dropped) >= st.dropped)
		return;
	shim_evs_begin(&e, "sigshim.log_error");
	audit_jw_str(&e.w, "error", audit_errno_name(st.last_errno));
	audit_jw_int(&e.w, "errno", st.last_errno);
	audit_jw_uint(&e.w, "dropped", st.dropped);
	audit_jw_uint(&e.w, "dropped_bytes", st.dropped_bytes);
	count_truncated(&e.w);
	open_writing(e.seq);
	audit_sink_write(e.buf, audit_jw_finish(&e.w));
	open_pop(e.seq);
}

static void count_truncated(const struct jw *w)
{
	if (w->truncated)
		atomic_fetch_add(&n_truncated, 1);
}

unsigned long long shim_event_truncated(void)
{
	return atomic_load(&n_truncated);
}
