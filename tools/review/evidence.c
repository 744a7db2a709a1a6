/* Is the evidence complete?  A CI gate that passes a log with lines
 * missing proves nothing, so `sigaudit check` looks for what a log itself
 * says was lost:
 *  - a file with no event at all (empty, all NUL padding, binary junk);
 *  - malformed lines (torn writes, junk);
 *  - events of a process before its sigshim.start in that file;
 *  - a gap in a process image's seq numbers (each sigshim.start begins an
 *    image: exec keeps the pid and restarts seq; a reused pid starts its
 *    own), seq being taken once per event, atomically: counted exactly,
 *    on each image's sorted seqs (tool_evidence_seq), where a
 *    sigshim.abandoned line stands for its own seq, and one that says
 *    "seq_unknown" for at most one seq it could not name;
 *  - a sigshim.exit that counts dropped events, or more violations than
 *    the image's lines carry, or a sigshim.log_error line.
 * Each finding is one line on stderr; the caller decides the status. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"
#include "xalloc.h"

struct image {
	int file;               /* index in ls->files, -1 = free slot */
	long long pid;
	bool started;
	long long seen;
	long long violation_lines;
	json_t *exit;
};

struct table {
	struct image *slot;
	size_t cap, used;
};

static size_t hash(int file, long long pid, size_t cap)
{
	unsigned long long h = (unsigned long long)pid * 0x9e3779b97f4a7c15ULL ^ (unsigned)file;

	return (size_t)(h >> 17) & (cap - 1);
}

static struct image *lookup(struct table *t, int file, long long pid);

static void grow(struct table *t)
{
	struct table n = { tool_xcalloc(t->cap ? t->cap * 2 : 256, sizeof *n.slot),
			   t->cap ? t->cap * 2 : 256, 0 };

	for (size_t i = 0; i < n.cap; i++)
		n.slot[i].file = -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].file >= 0)
			*lookup(&n, t->slot[i].file, t->slot[i].pid) = t->slot[i];
	free(t->slot);
	*t = n;
}

static struct image *lookup(struct table *t, int file, long long pid)
{
	size_t i;

	if (2 * (t->used + 1) > t->cap)
		grow(t);
	for (i = hash(file, pid, t->cap); t->slot[i].file >= 0; i = (i + 1) & (t->cap - 1))
		if (t->slot[i].file == file && t->slot[i].pid == pid)
			return &t->slot[i];
	memset(&t->slot[i], 0, sizeof t->slot[i]);
	t->slot[i].file = file;
	t->slot[i].pid = pid;
	t->used++;
	return &t->slot[i];
}

static long long exit_count(json_t *exit, const char *key)
{
	json_t *v = json_object_get(exit, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* One finished image: its findings, counted in *n. */
static void close_image(const struct tool_logset *ls, struct image *im, long *n, FILE *out)
{
	const char *f = ls->files[im->file];

	if (!im->started)
		return;
	if (im->exit && exit_count(im->exit, "dropped") > 0) {
		fprintf(out, "sigaudit: incomplete: %s: pid %lld: sigshim.exit counts %lld "
			"dropped event(s)\n", f, im->pid, exit_count(im->exit, "dropped"));
		(*n)++;
	}
	if (im->exit && exit_count(im->exit, "violations") > im->violation_lines) {
		fprintf(out, "sigaudit: incomplete: %s: pid %lld: sigshim.exit counts %lld "
			"violation(s), the log has %lld\n", f, im->pid,
			exit_count(im->exit, "violations"), im->violation_lines);
		(*n)++;
	}
	im->started = false;
}

static void one_event(const struct tool_logset *ls, struct table *t, const struct tool_event *e, FILE *out,
		      int file, long *n)
{
	struct image *im = lookup(t, file, e->pid);

	if (strcmp(tool_ename(e), "sigshim.start") == 0) {
		close_image(ls, im, n, out);
		memset(im, 0, sizeof *im);
		im->file = file;
		im->pid = e->pid;
		im->started = true;
	} else if (!im->started) {
		if (im->seen++ == 0) {
			fprintf(out, "sigaudit: incomplete: %s:%ld: pid %lld: events without "
				"a sigshim.start before them\n", ls->files[file], tool_event_line(e), (long long)e->pid);
			(*n)++;
		}
		return;
	}
	im->seen++;
	if (json_object_get(tool_ev(e), "violation"))
		im->violation_lines++;
	if (strcmp(tool_ename(e), "sigshim.exit") == 0)
		im->exit = tool_ev(e);
	if (strcmp(tool_ename(e), "sigshim.log_error") == 0) {
		fprintf(out, "sigaudit: incomplete: %s:%ld: pid %lld: the shim could not "
			"write %lld event(s)\n", ls->files[file], tool_event_line(e), (long long)e->pid,
			exit_count(tool_ev(e), "dropped"));
		(*n)++;
	}
}

long tool_evidence_check(const struct tool_logset *ls, FILE *out)
{
	struct table t = { 0 };
	long n = 0, *per_file = tool_xcalloc(ls->nfiles + 1, sizeof *per_file);
	for (size_t i = 0; i < ls->n; i++) {
		const struct tool_event *e = &ls->ev[i];

		per_file[e->file]++;
		one_event(ls, &t, e, out, (int)e->file, &n);
	}
	for (size_t i = 0; i < t.cap; i++)
		if (t.slot[i].file >= 0)
			close_image(ls, &t.slot[i], &n, out);
	for (size_t i = 0; i < ls->nfiles; i++)
		if (per_file[i] == 0) {
			fprintf(out, "sigaudit: incomplete: %s: no event at all\n", ls->files[i]);
			n++;
		}
	if (ls->bad_lines) {
		fprintf(out, "sigaudit: incomplete: %ld malformed line%s skipped (torn or foreign data)\n",
			ls->bad_lines, ls->bad_lines == 1 ? "" : "s");
		n++;
	}
	free(per_file);
	free(t.slot);
	return n;
}

long tool_evidence_seq(const struct tool_logset *ls, FILE *out)
{
	long n = 0;

	for (size_t i = 0; i < ls->nprocs; i++) {
		const struct tool_proc *p = ls->procs[i];

		for (size_t j = 0; j < p->n;) {
			const struct tool_event *first = tool_pev(p, j);
			int image = tool_eimage(first);
			long long distinct = 0, max = 0, unknown = 0, prev = 0, missing;

			for (; j < p->n && tool_eimage(tool_pev(p, j)) == image; j++) {
				const struct tool_event *e = tool_pev(p, j);

				if (json_is_true(json_object_get(tool_ev(e), "seq_unknown")))
					unknown++;
				if (e->seq < 1 || (distinct && e->seq == prev))
					continue;
				distinct++;
				prev = max = e->seq;
			}
			if (image == 0)         /* before any start: said in reading order */
				continue;
			missing = tool_sat_sub(max, distinct);
			missing -= unknown < missing ? unknown : missing;
			if (missing > 0) {
				fprintf(out, "sigaudit: incomplete: %s: pid %lld: %lld of %lld events "
					"missing (seq gaps)\n", tool_event_file(first),
					(long long)p->pid, missing, max);
				n++;
			}
		}
	}
	return n;
}
