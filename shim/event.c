/* async-signal-safe, except shim_ev_prepare() (backtraces), which does
 * nothing inside a signal handler.
 *
 * The common parts of every event line. */
#include "config.h"

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

/* A forked child's log starts afresh: seq from 1, no loss counted. */
void shim_event_reset_seq(void)
{
	atomic_store(&seq, 0);
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

void shim_ev_prepare(struct shim_ev *e)
{
	e->nbt = 0;
	if (!shim.opt.backtrace || !audit_sink_active() || shim_in_handler())
		return;
	e->nbt = audit_backtrace(e->bt, (int)shim.opt.backtrace, shim.self_lo, shim.self_hi);
	audit_modules_note(e->bt, e->nbt, emit_module, NULL);
}

/* A handler's module line, so that sigaudit can name the handler even
 * without backtraces.  Ordinary context only (the module map locks). */
void shim_ev_note_code(uintptr_t addr)
{
	if (!audit_sink_active() || shim_in_handler())
		return;
	audit_modules_note(&addr, 1, emit_module, NULL);
}

/* Signal context (the small lines) reads the clock with the system call,
 * and so does everything once some thread made rdtsc trap: a vDSO read may
 * execute rdtsc, and a fault in the shim is the program's problem. */
static void header(struct jw *w, const char *event, bool raw_clock)
{
	struct timespec ts;

	if (raw_clock || atomic_load_explicit(&shim_tsc_trapped, memory_order_relaxed))
		syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	audit_jw_int(w, "v", 1);
	audit_jw_uint(w, "seq", atomic_fetch_add(&seq, 1) + 1);
	audit_jw_uint(w, "ts", (unsigned long long)ts.tv_sec * 1000000000ULL +
		      (unsigned long long)ts.tv_nsec);
	audit_jw_int(w, "pid", shim.pid);
	audit_jw_int(w, "tid", shim_gettid());
	audit_jw_str(w, "event", event);
}

void shim_ev_begin(struct shim_ev *e, const char *event)
{
	audit_jw_init(&e->w, e->buf, sizeof e->buf);
	header(&e->w, event, false);
}

void shim_evs_begin(struct shim_ev_small *e, const char *event)
{
	audit_jw_init(&e->w, e->buf, sizeof e->buf);
	header(&e->w, event, true);
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

static void count_truncated(const struct jw *w);
static void after_write(bool ok);

void shim_ev_commit(struct shim_ev *e)
{
	if (e->nbt > 0) {
		audit_jw_arr_begin(&e->w, "bt");
		for (int i = 0; i < e->nbt; i++)
			audit_jw_el_hex(&e->w, e->bt[i]);
		audit_jw_end(&e->w);
	}
	count_truncated(&e->w);
	after_write(audit_sink_write(e->buf, audit_jw_finish(&e->w)));
}

void shim_evs_commit(struct shim_ev_small *e)
{
	count_truncated(&e->w);
	after_write(audit_sink_write(e->buf, audit_jw_finish(&e->w)));
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
	audit_sink_write(e.buf, audit_jw_finish(&e.w));
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
