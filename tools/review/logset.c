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
	tool_index_free(&p->thr_by_tid);
	tool_index_free(&p->thr_by_id);
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
	tool_index_free(&ls->proc_by_pid);
	free(ls->files);
	memset(ls, 0, sizeof *ls);
}

/* ---- tool_index ---- */

static size_t ix_hash(long long key, size_t cap)
{
	unsigned long long h = (unsigned long long)key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

bool tool_index_get(const struct tool_index *ix, long long key, size_t *val)
{
	if (!ix->cap)
		return false;
	for (size_t i = ix_hash(key, ix->cap); ix->used[i]; i = (i + 1) & (ix->cap - 1))
		if (ix->keys[i] == key) {
			*val = ix->vals[i];
			return true;
		}
	return false;
}

static void ix_set(struct tool_index *ix, long long key, size_t val)
{
	size_t i = ix_hash(key, ix->cap);

	while (ix->used[i] && ix->keys[i] != key)
		i = (i + 1) & (ix->cap - 1);
	if (!ix->used[i])
		ix->n++;
	ix->used[i] = 1;
	ix->keys[i] = key;
	ix->vals[i] = val;
}

void tool_index_put(struct tool_index *ix, long long key, size_t val)
{
	if (2 * (ix->n + 1) > ix->cap) {
		struct tool_index old = *ix;

		ix->cap = old.cap ? old.cap * 2 : 64;
		ix->n = 0;
		ix->keys = malloc(ix->cap * sizeof *ix->keys);
		ix->vals = malloc(ix->cap * sizeof *ix->vals);
		ix->used = calloc(ix->cap, 1);
		if (!ix->keys || !ix->vals || !ix->used)
			abort();
		for (size_t i = 0; i < old.cap; i++)
			if (old.used[i])
				ix_set(ix, old.keys[i], old.vals[i]);
		tool_index_free(&old);
	}
	ix_set(ix, key, val);
}

void tool_index_free(struct tool_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	free(ix->used);
	memset(ix, 0, sizeof *ix);
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
	size_t cap = ls->nprocs, at;

	if (tool_index_get(&ls->proc_by_pid, pid, &at))
		return (struct tool_proc *)at;
	/* procs grows by doubling: cap must say what is allocated */
	for (cap = 64; cap < ls->nprocs; cap *= 2)
		;
	if (ls->nprocs == 0)
		cap = 0;
	p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->pid = pid;
	p->ppid = -1;
	p->t_first = INT64_MAX;
	p->t_last = INT64_MIN;
	ls->procs = grow(ls->procs, &cap, ls->nprocs + 1, sizeof *ls->procs);
	ls->procs[ls->nprocs++] = p;
	tool_index_put(&ls->proc_by_pid, pid, (size_t)p);
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
	size_t at;

	if (tool_index_get(&p->thr_by_tid, tid, &at))
		return &p->threads[at];
	p->threads = grow(p->threads, &p->thrcap, p->nthreads + 1, sizeof *p->threads);
	p->threads[p->nthreads] = (struct tool_thread){.tid = tid};
	tool_index_put(&p->thr_by_tid, tid, p->nthreads);
	return &p->threads[p->nthreads++];
}

/* thread_id is learnt once per thread: index it then (first tid wins, as
 * the list search did). */
static void set_thread_id(struct tool_proc *p, struct tool_thread *t, long long id)
{
	size_t at;

	t->thread_id = id;
	if (!tool_index_get(&p->thr_by_id, id, &at) || at > (size_t)(t - p->threads))
		tool_index_put(&p->thr_by_id, id, (size_t)(t - p->threads));
}

/* thread_id names the recording thread except where it names a target
 * (pthread_kill, pthread_sigqueue, forwarded): only learn from the others. */
static void learn_thread(struct tool_proc *p, struct tool_event *e)
{
	struct tool_thread *t = get_thread(p, e->tid);
	long long id;

	t->events++;
	if (strcmp(e->name, "sigshim.start") == 0 &&
	    tool_json_int(e->ev, "main_thread_id", &id)) {
		t = get_thread(p, p->pid);   /* may move the threads array */
		set_thread_id(p, t, id);
		t = get_thread(p, e->tid);
	}
	if (tool_json_int(e->ev, "caller_thread_id", &id))
		set_thread_id(p, t, id);
	if (!tool_json_int(e->ev, "thread_id", &id) || t->thread_id)
		return;
	if (strcmp(e->name, "signal.pthread_kill") != 0 &&
	    strcmp(e->name, "signal.pthread_sigqueue") != 0 &&
	    strcmp(e->name, "signal.forwarded") != 0)
		set_thread_id(p, t, id);
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
	size_t at;

	return tool_index_get(&ls->proc_by_pid, pid, &at) ? (const struct tool_proc *)at : NULL;
}

long long tool_proc_tid_of(const struct tool_proc *p, long long thread_id)
{
	size_t at;

	if (p && thread_id == 0) {   /* 0 means "not known": never indexed */
		for (size_t i = 0; i < p->nthreads; i++)
			if (p->threads[i].thread_id == 0)
				return p->threads[i].tid;
		return -1;
	}
	return p && tool_index_get(&p->thr_by_id, thread_id, &at) ? p->threads[at].tid : -1;
}

const char *tool_thread_label(const struct tool_proc *p, long long tid,
			      char *buf, size_t len)
{
	long long id = 0;
	size_t at;

	if (tool_index_get(&p->thr_by_tid, tid, &at))
		id = p->threads[at].thread_id;
	if (id)
		snprintf(buf, len, "tid %lld%s (thread_id %lld)", tid,
			 tid == p->pid ? " main" : "", id);
	else
		snprintf(buf, len, "tid %lld%s", tid, tid == p->pid ? " main" : "");
	return buf;
}
