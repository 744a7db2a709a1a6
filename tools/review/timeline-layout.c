/* Timeline layout: lanes, the time scale, which events are drawn, and the
 * send -> delivery arrows.  Matching a send to its delivery is best-effort:
 * the log has no delivery id, so a send is paired with the earliest unpaired
 * delivery of the same signal on the target thread (or process).  The send
 * event is written after the call returns, so a delivery may be stamped a
 * little before its send: a short slack allows for that. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "timeline.h"
#include "xalloc.h"

#define MATCH_SLACK_NS 20000000LL      /* 20 ms */

bool tool_tl_is_mark(const struct tool_event *e)
{
	enum tool_kind k = tool_event_kind(tool_ename(e));

	return (k != TOOL_K_OTHER && k != TOOL_K_LIFECYCLE) ||
	       tool_event_violation(tool_ev(e));
}

static void add_lanes(struct tool_tl *tl, const struct tool_proc *p, int *y)
{
	*y += TL_PROC_H;
	for (size_t t = 0; t < p->nthreads; t++) {
		struct tl_lane *l = &tl->lanes[tl->nlanes++];

		l->proc = p;
		l->tid = p->threads[t].tid;
		l->first_of_proc = t == 0;
		l->y = *y + TL_LANE_H / 2;
		l->t_first = INT64_MAX;
		l->t_last = INT64_MIN;
		*y += TL_LANE_H;
	}
}

static void layout_lanes(struct tool_tl *tl)
{
	const struct tool_logset *ls = tl->ls;
	size_t total = 0;
	int y = TL_TOP;

	for (size_t i = 0; i < ls->nprocs; i++)
		total += ls->procs[i]->nthreads;
	tl->lanes = tool_xcalloc(total + 1, sizeof *tl->lanes);
	for (size_t i = 0; i < ls->nprocs; i++)
		add_lanes(tl, ls->procs[i], &y);
	tl->height = y + 90;    /* legend */
}

const struct tl_lane *tool_tl_lane(const struct tool_tl *tl, long long pid, long long tid)
{
	for (size_t i = 0; i < tl->nlanes; i++)
		if (tl->lanes[i].proc->pid == pid && tl->lanes[i].tid == tid)
			return &tl->lanes[i];
	return NULL;
}

double tool_tl_x(const struct tool_tl *tl, long long ts)
{
	double span = tl->tmax > tl->tmin ? (double)tl->tmax - (double)tl->tmin : 1.0;

	return TL_LEFT + ((double)ts - (double)tl->tmin) / span * tl->plot_w;
}

static void collect_marks(struct tool_tl *tl)
{
	const struct tool_logset *ls = tl->ls;

	tl->marks = tool_xcalloc(ls->n + 1, sizeof *tl->marks);
	tl->tmin = INT64_MAX;
	tl->tmax = INT64_MIN;
	for (size_t p = 0; p < ls->nprocs; p++)
		for (size_t i = 0; i < ls->procs[p]->n; i++) {
			const struct tool_event *e = tool_pev(ls->procs[p], i);
			struct tl_lane *l = (struct tl_lane *)tool_tl_lane(tl, e->pid, e->tid);

			tl->tmin = e->ts < tl->tmin ? e->ts : tl->tmin;
			tl->tmax = e->ts > tl->tmax ? e->ts : tl->tmax;
			l->t_first = e->ts < l->t_first ? e->ts : l->t_first;
			l->t_last = e->ts > l->t_last ? e->ts : l->t_last;
			if (tool_tl_is_mark(e))
				tl->marks[tl->nmarks++] = e;
		}
	if (!ls->n)
		tl->tmin = tl->tmax = 0;
	tl->aggregate = tl->nmarks > tl->max_marks;
}

/* ---- arrows ---- */

/* Where a send goes: pid and tid (-1: any thread of the process). */
static bool send_target(const struct tool_tl *tl, const struct tool_event *s,
			long long *pid, long long *tid)
{
	long long id;

	*pid = s->pid;
	*tid = -1;
	if (tool_json_str(tool_ev(s), "error"))
		return false;
	if (tool_json_int(tool_ev(s), "target_tid", tid))
		return tool_json_int(tool_ev(s), "target_tgid", pid);
	if (tool_json_int(tool_ev(s), "target_pid", pid))
		return *pid > 0;
	if (strstr(tool_ename(s), "pthread_") && tool_json_int(tool_ev(s), "thread_id", &id)) {
		*tid = tool_proc_tid_of(tool_logset_proc(tl->ls, s->pid), id);
		return true;
	}
	*tid = s->tid;     /* raise, gsignal */
	return true;
}

static bool delivers(const struct tool_event *r, long long pid, long long tid,
		     long long sig, const struct tool_event *s)
{
	long long rs;

	return tool_event_kind(tool_ename(r)) == TOOL_K_RECEIVE && r->pid == pid &&
	       (tid < 0 || r->tid == tid) && tool_json_int(tool_ev(r), "signalnum", &rs) &&
	       rs == sig && r->ts >= tool_sat_sub(s->ts, MATCH_SLACK_NS);
}

static void add_arrow(struct tool_tl *tl, const struct tool_event *a,
		      const struct tool_event *b, bool forward)
{
	tl->arrows = tool_xrealloc(tl->arrows, (tl->narrows + 1) * sizeof *tl->arrows);
	tl->arrows[tl->narrows++] = (struct tl_arrow){a, b, forward};
}

static void match_send(struct tool_tl *tl, const struct tool_event *s, bool *used)
{
	const struct tool_event *best = NULL;
	long long pid, tid, sig;
	size_t best_i = 0;

	if (!tool_json_int(tool_ev(s), "signalnum", &sig) || sig == 0 ||
	    !send_target(tl, s, &pid, &tid))
		return;
	for (size_t i = 0; i < tl->nmarks; i++)
		if (!used[i] && delivers(tl->marks[i], pid, tid, sig, s) &&
		    (!best || tl->marks[i]->ts < best->ts)) {
			best = tl->marks[i];
			best_i = i;
		}
	if (best) {
		used[best_i] = true;
		add_arrow(tl, s, best, false);
	}
}

static bool handles(const struct tool_event *h, long long pid, long long tid,
		    long long sig, const struct tool_event *f)
{
	long long hs;

	return tool_event_kind(tool_ename(h)) == TOOL_K_HANDLE && h->pid == pid &&
	       h->tid == tid && tool_json_int(tool_ev(h), "signalnum", &hs) && hs == sig &&
	       h->ts >= tool_sat_sub(f->ts, MATCH_SLACK_NS);
}

/* A forwarded event names both ends: draw it to the handler run it caused
 * on to_tid (or straight across when that was not logged). */
static void match_forward(struct tool_tl *tl, const struct tool_event *f, bool *used)
{
	long long to, sig = -1;

	if (!tool_json_int(tool_ev(f), "to_tid", &to) || !tool_tl_lane(tl, f->pid, to))
		return;
	tool_json_int(tool_ev(f), "signalnum", &sig);
	for (size_t i = 0; i < tl->nmarks; i++)
		if (!used[i] && handles(tl->marks[i], f->pid, to, sig, f)) {
			used[i] = true;
			add_arrow(tl, f, tl->marks[i], true);
			return;
		}
	add_arrow(tl, f, f, true);
}

static int cmp_ts(const void *a, const void *b)
{
	const struct tool_event *x = *(const struct tool_event *const *)a;
	const struct tool_event *y = *(const struct tool_event *const *)b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

static void match_arrows(struct tool_tl *tl)
{
	bool *used = tool_xcalloc(tl->nmarks + 1, sizeof *used);
	qsort(tl->marks, tl->nmarks, sizeof *tl->marks, cmp_ts);
	for (size_t i = 0; i < tl->nmarks; i++) {
		enum tool_kind k = tool_event_kind(tool_ename(tl->marks[i]));

		if (k == TOOL_K_SEND)
			match_send(tl, tl->marks[i], used);
		else if (k == TOOL_K_FORWARD)
			match_forward(tl, tl->marks[i], used);
	}
	free(used);
}

void tool_tl_layout(struct tool_tl *tl, const struct tool_logset *ls)
{
	tl->ls = ls;
	layout_lanes(tl);
	collect_marks(tl);
	if (!tl->aggregate)
		match_arrows(tl);
}

void tool_tl_free(struct tool_tl *tl)
{
	free(tl->lanes);
	free(tl->marks);
	free(tl->arrows);
}
