/* sigaudit summary: what each process did with signals, per thread and per
 * signal, and whether the log can be trusted (exit record, drops, gaps). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "sigaudit.h"
#include "xalloc.h"

#define MAX_DIRS 16

static const char *plural(long long n)
{
	return n == 1 ? "" : "s";
}

struct summary_ctx {
	struct tool_sym *sym;
	const struct tool_logset *ls;
	long total_violations, abnormal, lossy;
};

/* ---- log integrity ---- */

static void print_exit(const struct tool_proc *p, struct summary_ctx *c)
{
	long long ev = 0, dr = 0, drb = 0, tr = 0, vi = 0;

	if (!p->exit) {
		printf("  log end: ENDED ABNORMALLY (no sigshim.exit: killed by a "
		       "signal, or the log was cut)\n");
		c->abnormal++;
		return;
	}
	tool_json_int(p->exit, "events", &ev);
	tool_json_int(p->exit, "dropped", &dr);
	tool_json_int(p->exit, "dropped_bytes", &drb);
	tool_json_int(p->exit, "truncated", &tr);
	tool_json_int(p->exit, "violations", &vi);
	{
		const char *how = tool_json_str(p->exit, "how");
		long long status = 0;

		if (how && tool_json_int(p->exit, "status", &status))
			printf("  ended by %s(%lld)\n", how, status);
	}
	printf("  log end: sigshim.exit events=%lld dropped=%lld (%lld bytes) "
	       "truncated=%lld violations=%lld\n", ev, dr, drb, tr, vi);
	if (dr || tr) {
		printf("  WARNING: events were lost or cut: this log is incomplete\n");
		c->lossy++;
	}
}

/* A jump out of a handler abandoned a line: its seq has this record
 * instead; "maybe_written" when the line may be there as well. */
static bool is_abandoned(const struct tool_event *e, bool maybe)
{
	return strcmp(tool_ename(e), "sigshim.abandoned") == 0 &&
	       (!maybe || json_is_true(json_object_get(tool_ev(e), "maybe_written")));
}

struct gaps {
	long long missing;      /* by seq, before the seq_unknown records count */
	long long dups, images, abandoned, unknown;
};

/* seq counts from 1 with no gaps unless events were dropped; each
 * sigshim.start begins a new image (exec keeps the pid) at seq 1.  With
 * `say`, each gap is printed as it is found.  The full and short forms
 * both count with this. */
static struct gaps seq_gaps(const struct tool_proc *p, bool say)
{
	struct gaps g = {0};
	long long expect = 1;

	for (size_t i = 0; i < p->n; i++) {
		long long s = tool_pev(p, i)->seq;

		if (is_abandoned(tool_pev(p, i), false))
			g.abandoned++;
		g.unknown += json_is_true(json_object_get(tool_ev(tool_pev(p, i)), "seq_unknown"));

		if (strcmp(tool_ename(tool_pev(p, i)), "sigshim.start") == 0) {
			g.images++;
			expect = s;
		}

		/* seq is whatever the file says: saturate, never overflow */
		if (s > expect) {
			if (say)
				printf("  seq gap: %lld..%lld missing\n", expect, s - 1);
			g.missing = tool_sat_add(g.missing, tool_sat_sub(s, expect));
		} else if (s < expect && !(s == expect - 1 && (is_abandoned(tool_pev(p, i), true) ||
							       (i > 0 && is_abandoned(tool_pev(p, i - 1), true))))) {
			g.dups++;
		}
		if (s >= expect)
			expect = s == LLONG_MAX ? LLONG_MAX : s + 1;
	}
	return g;
}

static void print_gaps(const struct tool_proc *p)
{
	struct gaps g = seq_gaps(p, true);
	long long missing = g.missing, dups = g.dups, images = g.images,
		  abandoned = g.abandoned, unknown = g.unknown;

	if (images > 1)
		printf("  %lld images (exec): each sigshim.start begins one\n", images);
	if (abandoned)
		printf("  %lld event%s abandoned by a jump out of a handler (recorded, not lost)\n",
		       abandoned, plural(abandoned));
	if (dups)
		printf("  seq repeated %lld times (pid reused, or logs given twice?)\n", dups);
	if (missing && unknown) {
		long long u = unknown < missing ? unknown : missing;

		printf("  %lld of the missing seq%s may be taken by abandoned lines "
		       "(recorded as seq_unknown)\n", u, plural(u));
		missing -= u;
	}
	if (missing)
		printf("  %lld event%s missing by seq\n", missing, plural(missing));
}

static void print_lossy_events(const struct tool_proc *p)
{
	long trunc = 0;

	for (size_t i = 0; i < p->n; i++) {
		json_t *t = json_object_get(tool_ev(tool_pev(p, i)), "truncated");

		trunc += json_is_true(t);
		if (strcmp(tool_ename(tool_pev(p, i)), "sigshim.log_error") == 0) {
			printf("  log_error: %s (dropped so far: %lld)\n",
			       tool_json_str(tool_ev(tool_pev(p, i)), "error") ?: "?",
			       (long long)json_integer_value(
				       json_object_get(tool_ev(tool_pev(p, i)), "dropped")));
		}
	}
	if (trunc)
		printf("  %ld event%s truncated to fit a line\n", trunc, plural(trunc));
}

static void print_header(const struct tool_proc *p, const struct tool_logset *ls)
{
	const char *argv0 = p->start ? tool_json_str(p->start, "argv0") : NULL;
	const char *exe = p->start ? tool_json_str(p->start, "exe") : NULL;

	printf("process %lld", p->pid);
	if (argv0 || exe) {
		char a[2048], x[2048];

		printf(" (%s%s%s)", tool_escape(argv0 ?: "", a, sizeof a), argv0 && exe ? ", " : "",
		       tool_escape(exe ?: "", x, sizeof x));
	}
	if (p->ppid > 0)
		printf(" parent %lld%s", p->ppid,
		       p->start && json_is_true(json_object_get(p->start, "forked")) ?
		       " (forked)" : "");
	{
		char files[1024];

		printf("\n  from: %s\n", tool_proc_files(p, files, sizeof files));
	}
	printf("  events: %zu, seq %lld..%lld, %.6fs from +%.6fs\n", p->n,
	       p->n ? tool_pev(p, 0)->seq : 0, p->n ? tool_pev(p, p->n - 1)->seq : 0,
	       tool_ns_diff_s(p->t_last, p->t_first), tool_ns_diff_s(p->t_first, ls->t0));
	if (!p->start)
		printf("  no sigshim.start: the log's beginning is missing\n");
}

/* ---- per thread ---- */

static void print_threads(const struct tool_proc *p)
{
	char label[128];

	/* one pass over the events, not one per thread */
	struct tool_counter *c = tool_xcalloc(p->nthreads ? p->nthreads : 1, sizeof *c);
	for (size_t i = 0; i < p->n; i++) {
		size_t t;

		if (tool_proc_thread(p, tool_pev(p, i)->tid, &t))
			tool_counter_add(&c[t], tool_ename(tool_pev(p, i)), 1);
	}
	printf("  threads:\n");
	for (size_t t = 0; t < p->nthreads; t++) {
		printf("    %s: %ld event%s\n",
		       tool_thread_label(p, p->threads[t].tid, label, sizeof label),
		       p->threads[t].events, plural(p->threads[t].events));
		tool_counter_print(stdout, &c[t], "      ");
		tool_counter_free(&c[t]);
	}
	free(c);
}

/* ---- per signal ---- */

enum { COL_INSTALL, COL_MASK, COL_SENT, COL_RECV, COL_FWD, COL_HANDLED, NCOL };

static int column_of(enum tool_kind k)
{
	switch (k) {
	case TOOL_K_INSTALL: return COL_INSTALL;
	case TOOL_K_MASK: return COL_MASK;
	case TOOL_K_SEND: return COL_SENT;
	case TOOL_K_RECEIVE: return COL_RECV;
	case TOOL_K_FORWARD: return COL_FWD;
	case TOOL_K_HANDLE: return COL_HANDLED;
	default: return -1;
	}
}

/* Adds p's events to counts, by signal and column. */
static void count_signals(const struct tool_proc *p, long counts[72][NCOL])
{
	long long sig;

	for (size_t i = 0; i < p->n; i++) {
		int col = column_of(tool_event_kind(tool_ename(tool_pev(p, i))));

		if (col >= 0 && tool_json_int(tool_ev(tool_pev(p, i)), "signalnum", &sig) &&
		    sig >= 0 && sig < 72)
			counts[sig][col]++;
	}
}

/* The table under `title`, its install column as wide as the title makes
 * it (at least the per-process form's). */
static void print_counts(const char *title, long counts[72][NCOL])
{
	int w = strlen(title) < 19 ? 19 : (int)strlen(title);
	char name[32];

	printf("  %-*s install  mask  sent  received  forwarded  handled\n", w, title);
	for (int s = 0; s < 72; s++) {
		long *r = counts[s];

		if (!(r[0] | r[1] | r[2] | r[3] | r[4] | r[5]))
			continue;
		printf("    %-14s %*ld %5ld %5ld %9ld %10ld %8ld\n",
		       tool_signal_name(s, name, sizeof name), w - 9, r[COL_INSTALL],
		       r[COL_MASK], r[COL_SENT], r[COL_RECV], r[COL_FWD], r[COL_HANDLED]);
	}
}

static void print_signal_table(const struct tool_proc *p)
{
	long counts[72][NCOL] = {{0}};

	count_signals(p, counts);
	print_counts("by signal:", counts);
}

/* ---- handlers, sends, deliveries ---- */

static void describe_handler(struct summary_ctx *c, const struct tool_proc *p,
			     const char *h, char *buf, size_t len)
{
	struct tool_frame f;
	char where[600];
	uint64_t a;

	if (!tool_parse_addr(h, &a)) {
		snprintf(buf, len, "%s", h);
		return;
	}
	tool_sym_lookup(c->sym, p, a, false, &f);
	tool_frame_describe(&f, where, sizeof where);
	snprintf(buf, len, "%s %s", h, where);
}

static void handler_key(struct summary_ctx *c, const struct tool_proc *p,
			const struct tool_event *e, char *key, size_t len)
{
	char hb[700], lb[128], sb[32];
	const char *sig = tool_event_signame(tool_ev(e), sb, sizeof sb);
	const char *v = tool_event_violation(tool_ev(e));

	describe_handler(c, p, tool_event_handler(tool_ev(e)), hb, sizeof hb);
	snprintf(key, len, "%s -> %s  by %s%s via %s%s%s%s%s", sig ?: "?", hb,
		 tool_thread_label(p, e->tid, lb, sizeof lb),
		 e->tid == p->pid ? "" : " (NOT main)", tool_ename(e),
		 tool_json_str(tool_ev(e), "error") ? " failed " : "",
		 tool_json_str(tool_ev(e), "error") ?: "",
		 v ? " VIOLATION " : "", v ?: "");
}

static void print_handlers(struct summary_ctx *c, const struct tool_proc *p)
{
	struct tool_counter cnt = {0};
	char key[1200];

	for (size_t i = 0; i < p->n; i++)
		if (tool_event_handler(tool_ev(tool_pev(p, i)))) {
			handler_key(c, p, tool_pev(p, i), key, sizeof key);
			tool_counter_add(&cnt, key, 1);
		}
	printf("  handlers installed:%s\n", cnt.n ? "" : " none");
	tool_counter_print(stdout, &cnt, "  ");
	tool_counter_free(&cnt);
}

static void target_desc(const struct tool_proc *p, const struct tool_event *e,
			char *buf, size_t len)
{
	long long a = 0, b = 0;

	if (tool_json_int(tool_ev(e), "target_tid", &b)) {
		tool_json_int(tool_ev(e), "target_tgid", &a);
		snprintf(buf, len, "tgid %lld tid %lld", a, b);
	} else if (tool_json_int(tool_ev(e), "target_pid", &a)) {
		snprintf(buf, len, "pid %lld", a);
	} else if (strstr(tool_ename(e), "pthread_") &&
		   tool_json_int(tool_ev(e), "thread_id", &a)) {
		b = tool_proc_tid_of(p, a);
		if (b > 0)
			snprintf(buf, len, "thread_id %lld (tid %lld)", a, b);
		else
			snprintf(buf, len, "thread_id %lld", a);
	} else {
		snprintf(buf, len, "itself");
	}
}

static void send_key(const struct tool_proc *p, const struct tool_event *e,
		     char *key, size_t len)
{
	char tb[128], lb[128], sb[32];
	const char *err = tool_json_str(tool_ev(e), "error");

	target_desc(p, e, tb, sizeof tb);
	snprintf(key, len, "%s %s from %s -> %s%s%s", tool_ename(e),
		 tool_event_signame(tool_ev(e), sb, sizeof sb) ?: "?",
		 tool_thread_label(p, e->tid, lb, sizeof lb), tb,
		 err ? " failed " : "", err ?: "");
}

static void delivery_key(const struct tool_proc *p, const struct tool_event *e,
			 char *key, size_t len)
{
	char lb[128], sb[32];
	const char *sig = tool_event_signame(tool_ev(e), sb, sizeof sb) ?: "?";
	long long from = 0, to = 0;

	if (tool_event_kind(tool_ename(e)) == TOOL_K_FORWARD) {
		tool_json_int(tool_ev(e), "from_tid", &from);
		tool_json_int(tool_ev(e), "to_tid", &to);
		snprintf(key, len, "%s tid %lld -> tid %lld", sig, from, to);
		return;
	}
	snprintf(key, len, "%s on %s%s%s%s%s", sig,
		 tool_thread_label(p, e->tid, lb, sizeof lb),
		 tool_json_str(tool_ev(e), "si_code") ? " si_code " : "",
		 tool_json_str(tool_ev(e), "si_code") ?: "",
		 tool_json_str(tool_ev(e), "exception") ? " exception " : "",
		 tool_json_str(tool_ev(e), "exception") ?: "");
}

static void print_kind(const struct tool_proc *p, enum tool_kind k, const char *title)
{
	struct tool_counter cnt = {0};
	char key[600];

	for (size_t i = 0; i < p->n; i++) {
		const struct tool_event *e = tool_pev(p, i);

		if (tool_event_kind(tool_ename(e)) != k)
			continue;
		if (k == TOOL_K_SEND)
			send_key(p, e, key, sizeof key);
		else
			delivery_key(p, e, key, sizeof key);
		tool_counter_add(&cnt, key, 1);
	}
	printf("  %s:%s\n", title, cnt.n ? "" : " none");
	tool_counter_print(stdout, &cnt, "  ");
	tool_counter_free(&cnt);
}

static void print_latency(const struct tool_proc *p)
{
	/* gathered while reading: latency_ns differs per event, shapes hold none */
	if (p->lat_n)
		printf("  handler latency: min %lld ns, avg %lld ns, max %lld ns (%lld)\n",
		       p->lat_min, p->lat_sum / p->lat_n, p->lat_max, p->lat_n);
}

static long print_violations(const struct tool_proc *p)
{
	struct tool_counter cnt = {0};
	char key[300], lb[128];
	long n;

	for (size_t i = 0; i < p->n; i++) {
		const struct tool_event *e = tool_pev(p, i);
		const char *v = tool_event_violation(tool_ev(e));

		if (!v)
			continue;
		snprintf(key, sizeof key, "%s (policy %s) in %s by %s", v,
			 tool_json_str(tool_ev(e), "policy") ?: "?", tool_ename(e),
			 tool_thread_label(p, e->tid, lb, sizeof lb));
		tool_counter_add(&cnt, key, 1);
	}
	printf("  violations:%s\n", cnt.n ? "" : " none");
	tool_counter_print(stdout, &cnt, "  ");
	n = tool_counter_total(&cnt);
	tool_counter_free(&cnt);
	return n;
}

static void print_proc(struct summary_ctx *c, const struct tool_proc *p)
{
	print_header(p, c->ls);
	print_exit(p, c);
	print_gaps(p);
	print_lossy_events(p);
	print_threads(p);
	print_signal_table(p);
	print_handlers(c, p);
	print_kind(p, TOOL_K_SEND, "signals sent");
	print_kind(p, TOOL_K_RECEIVE, "received");
	print_kind(p, TOOL_K_FORWARD, "forwarded");
	print_kind(p, TOOL_K_HANDLE, "handled");
	print_latency(p);
	c->total_violations += print_violations(p);
	printf("\n");
}

static void print_totals(const struct summary_ctx *c, const struct tool_logset *ls)
{
	printf("total: %zu process%s, %zu events in %zu file%s, %ld violation%s, "
	       "%ld malformed line%s, %ld ended abnormally, %ld with lost events\n",
	       ls->nprocs, ls->nprocs == 1 ? "" : "es", ls->n, ls->nfiles,
	       ls->nfiles == 1 ? "" : "s", c->total_violations,
	       c->total_violations == 1 ? "" : "s", ls->bad_lines,
	       ls->bad_lines == 1 ? "" : "s", c->abnormal, c->lossy);
}

/* ---- the short form: trees of thousands of processes ---- */

#define SHORT_ABOVE 64          /* processes: above this the short form is the default */
#define SHORT_ABOVE_THREADS 1024        /* or threads, over all processes (a 32k-thread
					 * stress run printed 416k lines) */

struct proc_stat {
	const struct tool_proc *p;
	long violations;
	long long missing;      /* by seq */
	bool lossy;             /* the exit record counts drops or cuts */
};

static struct proc_stat stat_of(const struct tool_proc *p, long sig[72][NCOL])
{
	struct proc_stat s = {.p = p};
	struct gaps g = seq_gaps(p, false);

	for (size_t i = 0; i < p->n; i++)
		s.violations += tool_event_violation(tool_ev(tool_pev(p, i))) != NULL;
	count_signals(p, sig);
	s.missing = g.missing - (g.unknown < g.missing ? g.unknown : g.missing);
	if (p->exit) {
		long long dr = 0, tr = 0;

		tool_json_int(p->exit, "dropped", &dr);
		tool_json_int(p->exit, "truncated", &tr);
		s.lossy = dr || tr;
	}
	return s;
}

static int by_events(const void *a, const void *b)
{
	const struct proc_stat *x = a, *y = b;

	if (x->p->n != y->p->n)
		return x->p->n > y->p->n ? -1 : 1;
	return x->p->pid < y->p->pid ? -1 : x->p->pid > y->p->pid;
}

static void describe_end(const struct proc_stat *s, char *buf, size_t len)
{
	const char *how = s->p->exit ? tool_json_str(s->p->exit, "how") : NULL;
	long long status = 0;

	if (!s->p->exit)
		snprintf(buf, len, "ENDED ABNORMALLY");
	else if (how && tool_json_int(s->p->exit, "status", &status))
		snprintf(buf, len, "%s(%lld)", how, status);
	else
		snprintf(buf, len, "exited");
}

static void short_proc_line(const struct proc_stat *s)
{
	const char *argv0 = s->p->start ? tool_json_str(s->p->start, "argv0") : NULL;
	char a[256], end[64];

	describe_end(s, end, sizeof end);
	printf("    pid %-8lld %-24s %9zu events %5zu threads  %s%s", s->p->pid,
	       tool_escape(argv0 ? argv0 : "?", a, sizeof a), s->p->n, s->p->nthreads, end,
	       s->lossy ? ", LOST EVENTS" : "");
	if (s->missing)
		printf(", %lld missing by seq", s->missing);
	if (s->violations)
		printf(", %ld violation%s", s->violations, plural(s->violations));
	printf("\n");
}

struct thread_rank {
	const struct tool_proc *p;
	long long tid;
	long events;
};

static int by_thread_events(const void *a, const void *b)
{
	const struct thread_rank *x = a, *y = b;

	if (x->events != y->events)
		return x->events > y->events ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void print_top_threads(const struct tool_logset *ls, size_t top)
{
	struct thread_rank *t = tool_xcalloc(top + 1, sizeof *t);
	size_t n = 0;
	char label[128];

	/* a bounded insertion: top is small, threads may be millions */
	for (size_t i = 0; i < ls->nprocs; i++)
		for (size_t j = 0; j < ls->procs[i]->nthreads; j++) {
			struct thread_rank c = {ls->procs[i], ls->procs[i]->threads[j].tid,
						ls->procs[i]->threads[j].events};
			size_t at = n;

			while (at > 0 && by_thread_events(&c, &t[at - 1]) < 0)
				at--;
			if (at >= top)
				continue;
			memmove(&t[at + 1], &t[at], (n - at) * sizeof *t);
			t[at] = c;
			n += n < top;
		}
	printf("  top %zu threads by events:\n", n);
	for (size_t i = 0; i < n; i++)
		printf("    pid %-8lld %s: %ld event%s\n", t[i].p->pid,
		       tool_thread_label(t[i].p, t[i].tid, label, sizeof label),
		       t[i].events, plural(t[i].events));
	free(t);
}

static void print_short(struct summary_ctx *c, const struct tool_logset *ls, size_t top)
{
	struct proc_stat *st = tool_xcalloc(ls->nprocs + 1, sizeof *st);
	long sig[72][NCOL] = {{0}};
	size_t threads = 0, shown = 0, exited = 0, underscore = 0;

	for (size_t i = 0; i < ls->nprocs; i++) {
		const char *how;

		st[i] = stat_of(ls->procs[i], sig);
		threads += ls->procs[i]->nthreads;
		c->total_violations += st[i].violations;
		c->abnormal += !ls->procs[i]->exit;
		c->lossy += st[i].lossy;
		how = ls->procs[i]->exit ? tool_json_str(ls->procs[i]->exit, "how") : NULL;
		exited += ls->procs[i]->exit != NULL;
		underscore += how && how[0] == '_';
	}
	printf("%zu process%s, %zu thread%s (short form: --full for every process)\n",
	       ls->nprocs, ls->nprocs == 1 ? "" : "es", threads, threads == 1 ? "" : "s");
	printf("  ends: %zu with an exit record (%zu by _exit/_Exit), %ld ENDED ABNORMALLY\n",
	       exited, underscore, c->abnormal);
	printf("  problems (abnormal ends, lost or missing events, violations), up to %zu:\n", top);
	for (size_t i = 0; i < ls->nprocs && shown < top; i++)
		if (!st[i].p->exit || st[i].lossy || st[i].missing || st[i].violations) {
			short_proc_line(&st[i]);
			shown++;
		}
	if (!shown)
		printf("    none\n");
	qsort(st, ls->nprocs, sizeof *st, by_events);
	printf("  top %zu processes by events:\n", ls->nprocs < top ? ls->nprocs : top);
	for (size_t i = 0; i < ls->nprocs && i < top; i++)
		short_proc_line(&st[i]);
	print_top_threads(ls, top);
	print_counts("by signal, all processes:", sig);
	printf("\n");
	free(st);
}

static const struct option summary_opts[] = {
	{"debug-dir", required_argument, NULL, 'd'},
	{"short", no_argument, NULL, 's'},
	{"full", no_argument, NULL, 'f'},
	{"top", required_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

int tool_cmd_summary(int argc, char **argv)
{
	struct summary_ctx c = {0};
	struct tool_logset ls;
	char *dirs[MAX_DIRS], *end;
	size_t ndirs = 0;
	long top = 10;
	int opt, rc, form = 0;  /* -1 short, 1 full, 0 by the number of processes */

	while ((opt = getopt_long(argc, argv, "d:sft:h", summary_opts, NULL)) != -1) {
		if (opt == 'd' && ndirs < MAX_DIRS)
			dirs[ndirs++] = optarg;
		else if (opt == 's' || opt == 'f')
			form = opt == 's' ? -1 : 1;
		else if (opt == 't' && (top = strtol(optarg, &end, 10)) > 0 && !*end && top < 1000000)
			;
		else {
			/* --help on stdout, exit 0; a bad option on stderr, exit 2 */
			if (opt == 't')
				fprintf(stderr, "sigaudit: summary: bad value for --top: %s\n", optarg);
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: sigaudit summary [--short | --full] [--top N] "
				"[--debug-dir DIR] LOG...\n"
				"  more than %d processes or %d threads: the short form (totals, top N),\n"
				"  unless --full\n", SHORT_ABOVE, SHORT_ABOVE_THREADS);
			return opt == 'h' ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return tool_no_logs();
	tool_logset_init(&ls);
	rc = tool_load_logs(&ls, argc, argv, optind);
	c.sym = tool_sym_new(dirs, ndirs);
	c.ls = &ls;
	size_t threads = 0;

	for (size_t i = 0; i < ls.nprocs; i++)
		threads += ls.procs[i]->nthreads;
	if (form < 0 || (form == 0 && (ls.nprocs > SHORT_ABOVE || threads > SHORT_ABOVE_THREADS)))
		print_short(&c, &ls, (size_t)top);
	else
		for (size_t i = 0; i < ls.nprocs; i++)
			print_proc(&c, ls.procs[i]);
	print_totals(&c, &ls);
	tool_sym_free(c.sym);
	tool_logset_free(&ls);
	return rc < 0 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
}
