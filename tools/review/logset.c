/* The log set: every event of every log named on the command line, then
 * grouped per process.  Logs of a process tree (one file per pid, or one file
 * shared by forked children) are read together, so a child's events sit with
 * its own pid and can borrow its parent's module map. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"
#include "sigaudit.h"

void tool_logset_init(struct tool_logset *ls)
{
	memset(ls, 0, sizeof *ls);
}

static void free_proc(struct tool_proc *p)
{
	for (size_t i = 0; i < p->nmods; i++) {
		free(p->mods[i].path);
		free(p->mods[i].build_id);
	}
	free(p->mods);
	free(p->threads);
	free(p->ev);
	free(p);
}

void tool_logset_free(struct tool_logset *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		json_decref(ls->ev[i]->ev);
		free(ls->ev[i]);
	}
	for (size_t i = 0; i < ls->nprocs; i++)
		free_proc(ls->procs[i]);
	for (size_t i = 0; i < ls->nfiles; i++)
		free(ls->files[i]);
	free(ls->ev);
	free(ls->procs);
	free(ls->files);
	memset(ls, 0, sizeof *ls);
}

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 64;
	if (*cap < need)
		*cap = need;
	arr = realloc(arr, *cap * elem);
	if (!arr)
		abort();
	return arr;
}

static int on_event(json_t *ev, const char *file, long line, void *ud)
{
	struct tool_logset *ls = ud;
	struct tool_event *e = calloc(1, sizeof *e);

	if (!e)
		abort();
	e->ev = json_incref(ev);
	e->file = file;
	e->line = line;
	tool_json_int(ev, "pid", &e->pid);
	tool_json_int(ev, "tid", &e->tid);
	tool_json_int(ev, "seq", &e->seq);
	tool_json_int(ev, "ts", &e->ts);
	e->name = tool_json_str(ev, "event");
	ls->ev = grow(ls->ev, &ls->cap, ls->n + 1, sizeof *ls->ev);
	ls->ev[ls->n++] = e;
	return 0;
}

/* Malformed lines are said and skipped: one bad line must not hide the rest. */
static void on_error(const char *file, long line, const char *why, void *ud)
{
	fprintf(stderr, "%s:%ld: %s\n", file, line, why);
}

static int read_one(struct tool_logset *ls, const char *path)
{
	struct logread_stats st = {0};
	char *name = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
	int rc;

	ls->files = realloc(ls->files, (ls->nfiles + 1) * sizeof *ls->files);
	if (!ls->files || !name)
		abort();
	ls->files[ls->nfiles++] = name;
	if (strcmp(path, "-") == 0)
		rc = tool_logread_stream(stdin, name, on_event, on_error, ls, &st);
	else
		rc = tool_logread_file(name, on_event, on_error, ls, &st);
	ls->lines += st.lines;
	ls->bad_lines += st.errors;
	if (rc < 0) {
		fprintf(stderr, "sigaudit: %s: %s\n", path, strerror(-rc));
		ls->io_errors++;
	}
	return rc;
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int tool_logset_add_arg(struct tool_logset *ls, const char *arg)
{
	glob_t g;
	int rc = 0;

	if (strcmp(arg, "-") == 0 || !has_glob_chars(arg))
		return read_one(ls, arg);
	if (glob(arg, GLOB_ERR, NULL, &g) != 0) {
		fprintf(stderr, "sigaudit: %s: no file matches\n", arg);
		ls->io_errors++;
		return -ENOENT;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (read_one(ls, g.gl_pathv[i]) < 0)
			rc = -EIO;
	globfree(&g);
	return rc;
}

/* ---- grouping per process ---- */

static struct tool_proc *find_or_add_proc(struct tool_logset *ls, long long pid)
{
	struct tool_proc *p;
	size_t cap = ls->nprocs;

	for (size_t i = 0; i < ls->nprocs; i++)
		if (ls->procs[i]->pid == pid)
			return ls->procs[i];
	p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->pid = pid;
	p->ppid = -1;
	p->t_first = INT64_MAX;
	p->t_last = INT64_MIN;
	ls->procs = grow(ls->procs, &cap, ls->nprocs + 1, sizeof *ls->procs);
	ls->procs[ls->nprocs++] = p;
	return p;
}

static void add_file_name(struct tool_proc *p, const char *file)
{
	size_t len = strlen(p->files);

	if (strstr(p->files, file))
		return;
	snprintf(p->files + len, sizeof p->files - len, "%s%s",
		 len ? ", " : "", file);
}

static void add_module(struct tool_proc *p, json_t *ev)
{
	struct tool_module m = {0};
	const char *path = tool_json_str(ev, "path");
	const char *bid = tool_json_str(ev, "build_id");

	if (!path || !tool_parse_addr(tool_json_str(ev, "base"), &m.bias))
		return;
	tool_parse_addr(tool_json_str(ev, "start"), &m.start);
	tool_parse_addr(tool_json_str(ev, "end"), &m.end);
	m.path = strdup(path);
	m.build_id = bid ? strdup(bid) : NULL;
	for (char *c = m.build_id; c && *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
	p->mods = grow(p->mods, &p->modcap, p->nmods + 1, sizeof *p->mods);
	p->mods[p->nmods++] = m;
}

static void note_lifecycle(struct tool_proc *p, struct tool_event *e)
{
	if (strcmp(e->name, "sigshim.start") == 0) {
		p->start = e->ev;
		tool_json_int(e->ev, "ppid", &p->ppid);
	} else if (strcmp(e->name, "sigshim.exit") == 0) {
		p->exit = e->ev;
	} else if (strcmp(e->name, "sigshim.module") == 0) {
		add_module(p, e->ev);
	}
}

static struct tool_thread *get_thread(struct tool_proc *p, long long tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	p->threads = grow(p->threads, &p->thrcap, p->nthreads + 1, sizeof *p->threads);
	p->threads[p->nthreads] = (struct tool_thread){.tid = tid};
	return &p->threads[p->nthreads++];
}

/* thread_id names the recording thread except where it names a target
 * (pthread_kill, pthread_sigqueue, forwarded): only learn from the others. */
static void learn_thread(struct tool_proc *p, struct tool_event *e)
{
	struct tool_thread *t = get_thread(p, e->tid);
	long long id;

	t->events++;
	if (strcmp(e->name, "sigshim.start") == 0 &&
	    tool_json_int(e->ev, "main_thread_id", &id))
		get_thread(p, p->pid)->thread_id = id;
	if (tool_json_int(e->ev, "caller_thread_id", &id))
		t->thread_id = id;
	if (!tool_json_int(e->ev, "thread_id", &id) || t->thread_id)
		return;
	if (strcmp(e->name, "signal.pthread_kill") != 0 &&
	    strcmp(e->name, "signal.pthread_sigqueue") != 0 &&
	    strcmp(e->name, "signal.forwarded") != 0)
		t->thread_id = id;
}

static void add_to_proc(struct tool_logset *ls, struct tool_event *e)
{
	struct tool_proc *p = find_or_add_proc(ls, e->pid);

	p->ev = grow(p->ev, &p->cap, p->n + 1, sizeof *p->ev);
	p->ev[p->n++] = e;
	if (strcmp(e->name, "sigshim.start") == 0)
		p->images++;
	e->image = p->images;
	if (e->ts < p->t_first)
		p->t_first = e->ts;
	if (e->ts > p->t_last)
		p->t_last = e->ts;
	add_file_name(p, e->file);
	note_lifecycle(p, e);
	learn_thread(p, e);
}

static int cmp_ll(long long a, long long b)
{
	return a < b ? -1 : a > b;
}

static int cmp_event(const void *a, const void *b)
{
	const struct tool_event *x = *(struct tool_event *const *)a;
	const struct tool_event *y = *(struct tool_event *const *)b;

	if (x->image != y->image)
		return x->image < y->image ? -1 : 1;
	return cmp_ll(x->seq, y->seq) ? cmp_ll(x->seq, y->seq) : cmp_ll(x->ts, y->ts);
}

static int cmp_proc(const void *a, const void *b)
{
	const struct tool_proc *x = *(struct tool_proc *const *)a;
	const struct tool_proc *y = *(struct tool_proc *const *)b;

	return cmp_ll(x->t_first, y->t_first) ? cmp_ll(x->t_first, y->t_first) :
	       cmp_ll(x->pid, y->pid);
}

void tool_logset_finish(struct tool_logset *ls)
{
	ls->t0 = INT64_MAX;
	for (size_t i = 0; i < ls->n; i++) {
		add_to_proc(ls, ls->ev[i]);
		if (ls->ev[i]->ts < ls->t0)
			ls->t0 = ls->ev[i]->ts;
	}
	if (ls->n == 0)
		ls->t0 = 0;
	for (size_t i = 0; i < ls->nprocs; i++) {
		struct tool_proc *p = ls->procs[i];

		qsort(p->ev, p->n, sizeof *p->ev, cmp_event);
		p->parent = (struct tool_proc *)tool_logset_proc(ls, p->ppid);
	}
	if (ls->nprocs)     /* qsort(NULL, 0) is undefined */
		qsort(ls->procs, ls->nprocs, sizeof *ls->procs, cmp_proc);
}

const struct tool_proc *tool_logset_proc(const struct tool_logset *ls, long long pid)
{
	for (size_t i = 0; i < ls->nprocs; i++)
		if (ls->procs[i]->pid == pid)
			return ls->procs[i];
	return NULL;
}

long long tool_proc_tid_of(const struct tool_proc *p, long long thread_id)
{
	for (size_t i = 0; p && i < p->nthreads; i++)
		if (p->threads[i].thread_id == thread_id)
			return p->threads[i].tid;
	return -1;
}

const char *tool_thread_label(const struct tool_proc *p, long long tid,
			      char *buf, size_t len)
{
	long long id = 0;

	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			id = p->threads[i].thread_id;
	if (id)
		snprintf(buf, len, "tid %lld%s (thread_id %lld)", tid,
			 tid == p->pid ? " main" : "", id);
	else
		snprintf(buf, len, "tid %lld%s", tid, tid == p->pid ? " main" : "");
	return buf;
}
