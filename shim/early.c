/* async-signal-safe
 *
 * Calls made before our constructor has run: another preloaded library's
 * constructor (or a sanitizer runtime initialising itself) may call
 * sigaction before us.  Full initialisation then would call into libc (and
 * into the sanitizer's interceptors, which refuse to run during their own
 * start-up), so these calls do only what is safe: handler installations
 * go through shim_install() as usual and are remembered here, raw, as are
 * mask changes; the constructor writes them to the log, marked "early",
 * right after sigshim.start.  Other calls (senders) are passed through and
 * counted in sigshim.start's early_unlogged. */
#include "config.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "shim.h"

#define EARLY_MAX 32

struct early_rec {
	const char *event;
	int sig, ret, err;
	bool is_sigaction, is_mask, has_act, has_old, has_set, has_oldset;
	int how;
	const char *version;
	sigset_t set, oldset;
	struct sigaction act, old;
	uintptr_t handler, ret_handler;
	pthread_t thread;
	pid_t tid;
	unsigned long long ts;
};

static struct early_rec recs[EARLY_MAX];
static atomic_int n_recs, n_lost, n_unlogged;

static struct early_rec *claim(const char *event, int sig)
{
	int i = atomic_fetch_add(&n_recs, 1);
	struct early_rec *r;
	struct timespec ts;

	if (i >= EARLY_MAX) {
		atomic_fetch_add(&n_lost, 1);
		return NULL;
	}
	r = &recs[i];
	clock_gettime(CLOCK_REALTIME, &ts);
	r->event = event;
	r->sig = sig;
	r->thread = pthread_self();
	r->tid = (pid_t)syscall(SYS_gettid);
	r->ts = (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
	return r;
}

void shim_early_sigaction(int sig, const struct sigaction *act,
			  const struct sigaction *old, int ret, int err)
{
	struct early_rec *r = claim("signal.sigaction", sig);

	if (!r)
		return;
	r->is_sigaction = true;
	r->has_act = act != NULL;
	if (act)
		r->act = *act;
	r->has_old = old != NULL && ret == 0;
	if (r->has_old)
		r->old = *old;
	r->ret = ret;
	r->err = err;
}

void shim_early_handler(const char *event, int sig, shim_handler_t h,
			shim_handler_t ret, int err)
{
	struct early_rec *r = claim(event, sig);

	if (!r)
		return;
	r->handler = (uintptr_t)h;
	r->ret_handler = (uintptr_t)ret;
	r->err = err;
}

void shim_early_mask(const char *event, const char *version, int how,
		     const sigset_t *set, const sigset_t *oldset, int ret, int err)
{
	struct early_rec *r = claim(event, 0);

	if (!r)
		return;
	r->is_mask = true;
	r->version = version;
	r->how = how;
	r->has_set = set != NULL;
	if (set)
		r->set = *set;
	r->has_oldset = oldset != NULL && ret == 0;
	if (r->has_oldset)
		r->oldset = *oldset;
	r->ret = ret;
	r->err = err;
}

void shim_early_unlogged(void)
{
	atomic_fetch_add(&n_unlogged, 1);
}

static void flush_mask(struct shim_ev *e, const struct early_rec *r)
{
	const char *hn = audit_how_name(r->how);

	if (r->version)
		audit_jw_str(&e->w, "version", r->version);
	if (hn)
		audit_jw_str(&e->w, "how", hn);
	else
		audit_jw_int(&e->w, "how", r->how);
	audit_jw_sigset(&e->w, "set", r->has_set ? &r->set : NULL);
	if (r->has_oldset)
		audit_jw_sigset(&e->w, "oldset", &r->oldset);
	if (r->version)
		shim_ev_result_code(e, r->ret);
	else
		shim_ev_result_errno(e, r->ret, r->err);
}

static void flush_one(const struct early_rec *r)
{
	struct shim_ev e;

	shim_ev_begin(&e, r->event);
	if (r->is_mask) {
		audit_jw_uint(&e.w, "thread_id", (unsigned long long)r->thread);
		audit_jw_bool(&e.w, "main", r->tid == shim.pid);
		audit_jw_bool(&e.w, "early", true);
		audit_jw_uint(&e.w, "call_ts", r->ts);
		audit_jw_int(&e.w, "call_tid", r->tid);
		flush_mask(&e, r);
		e.nbt = 0;
		shim_ev_commit(&e);
		return;
	}
	audit_jw_uint(&e.w, "thread_id", (unsigned long long)r->thread);
	audit_jw_signal(&e.w, r->sig);
	audit_jw_bool(&e.w, "main", r->tid == shim.pid);
	/* Recorded before sigshim.start; written now: when and where the call
	 * really happened. */
	audit_jw_bool(&e.w, "early", true);
	audit_jw_uint(&e.w, "call_ts", r->ts);
	audit_jw_int(&e.w, "call_tid", r->tid);
	if (r->is_sigaction) {
		audit_jw_sigaction(&e.w, "act", r->has_act ? &r->act : NULL);
		if (r->has_old)
			audit_jw_sigaction(&e.w, "oldact", &r->old);
		shim_ev_result_errno(&e, r->ret, r->err);
	} else {
		audit_jw_handler(&e.w, "handler", r->handler);
		audit_jw_handler(&e.w, "ret", r->ret_handler);
		if (r->ret_handler == (uintptr_t)SIG_ERR) {
			audit_jw_str(&e.w, "error", audit_errno_name(r->err));
			audit_jw_int(&e.w, "errno", r->err);
		}
	}
	e.nbt = 0;
	shim_ev_commit(&e);
}

/* Called once by the constructor, after sigshim.start. */
void shim_early_flush(void)
{
	int n = atomic_load(&n_recs);

	for (int i = 0; i < n && i < EARLY_MAX; i++) {
		if (recs[i].handler && shim_is_function((shim_handler_t)recs[i].handler))
			shim_ev_note_code(recs[i].handler);
		if (recs[i].is_sigaction && recs[i].has_act &&
		    shim_is_function(recs[i].act.sa_handler))
			shim_ev_note_code((uintptr_t)recs[i].act.sa_handler);
		flush_one(&recs[i]);
	}
}

int shim_early_lost(void)
{
	return atomic_load(&n_lost);
}

int shim_early_unlogged_count(void)
{
	return atomic_load(&n_unlogged);
}
