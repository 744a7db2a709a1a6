/* async-signal-safe, except shim_ev_prepare() (backtraces), which does
 * nothing inside a signal handler.
 *
 * The common parts of every event line. */
#include "config.h"

#include <stdatomic.h>
#include <time.h>

#include "backtrace.h"
#include "decode.h"
#include "shim.h"
#include "sink.h"

static atomic_ullong seq;

void shim_event_reset_seq(void)
{
	atomic_store(&seq, 0);
}

static void emit_module(const struct audit_module *m, void *ud)
{
	struct shim_ev_small e;

	(void)ud;
	shim_evs_begin(&e, "sigshim.module");
	audit_jw_str(&e.w, "path", m->path);
	audit_jw_hex(&e.w, "base", m->base);
	audit_jw_hex(&e.w, "start", m->start);
	audit_jw_hex(&e.w, "end", m->end);
	if (m->build_id[0])
		audit_jw_str(&e.w, "build_id", m->build_id);
	else
		audit_jw_null(&e.w, "build_id");
	shim_evs_commit(&e);
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

static void header(struct jw *w, const char *event)
{
	struct timespec ts;

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
	header(&e->w, event);
}

void shim_evs_begin(struct shim_ev_small *e, const char *event)
{
	audit_jw_init(&e->w, e->buf, sizeof e->buf);
	header(&e->w, event);
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

void shim_ev_commit(struct shim_ev *e)
{
	if (e->nbt > 0) {
		audit_jw_arr_begin(&e->w, "bt");
		for (int i = 0; i < e->nbt; i++)
			audit_jw_el_hex(&e->w, e->bt[i]);
		audit_jw_end(&e->w);
	}
	count_truncated(&e->w);
	audit_sink_write(e->buf, audit_jw_finish(&e->w));
}

void shim_evs_commit(struct shim_ev_small *e)
{
	count_truncated(&e->w);
	audit_sink_write(e->buf, audit_jw_finish(&e->w));
}

static atomic_ullong n_truncated;

static void count_truncated(const struct jw *w)
{
	if (w->truncated)
		atomic_fetch_add(&n_truncated, 1);
}

unsigned long long shim_event_truncated(void)
{
	return atomic_load(&n_truncated);
}
