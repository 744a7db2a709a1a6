/* sigaudit check: the CI gate.  Every event that carries a `violation` is
 * symbolized and matched against the suppressions; the exit code says
 * whether any is left (0 clean, 1 violations, 2 usage or I/O error), or
 * that the logs prove events missing (3, evidence.c) unless
 * --allow-incomplete. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"
#include "xalloc.h"

#define MAX_DIRS 16
#define MAX_FRAMES 64

struct check_opts {
	const char *supp_path;
	const char *format;
	const char *out_path;
	char *dirs[MAX_DIRS];
	size_t ndirs;
	bool allow_incomplete;
};

static const struct option check_longopts[] = {
	{"suppressions", required_argument, NULL, 's'},
	{"format", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, 'o'},
	{"debug-dir", required_argument, NULL, 'd'},
	{"allow-incomplete", no_argument, NULL, 'I'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: sigaudit check [--suppressions FILE] [--format text|sarif|junit]\n"
		"                      [-o FILE] [--debug-dir DIR]... [--allow-incomplete] LOG...\n"
		"exit status: 0 no unsuppressed violation, 1 violations, 2 usage/IO error,\n"
		"             3 the logs prove events missing (not with --allow-incomplete)\n");
	return rc;
}

static bool known_format(const char *f)
{
	return !strcmp(f, "text") || !strcmp(f, "sarif") || !strcmp(f, "junit");
}

/* Returns 0 to go on, else an exit code + 1 (so that --help can say 0). */
static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	int opt;

	o->format = "text";
	while ((opt = getopt_long(argc, argv, "s:f:o:d:h", check_longopts, NULL)) != -1) {
		if (opt == 's')
			o->supp_path = optarg;
		else if (opt == 'f' && known_format(optarg))
			o->format = optarg;
		else if (opt == 'o')
			o->out_path = optarg;
		else if (opt == 'd' && o->ndirs < MAX_DIRS)
			o->dirs[o->ndirs++] = optarg;
		else if (opt == 'I')
			o->allow_incomplete = true;
		else
			return usage(opt == 'h' ? TOOL_EXIT_OK : TOOL_EXIT_USAGE) + 1;
	}
	return 0;
}

static void fill_violation(struct tool_violation *v, struct tool_sym *sym,
			   struct tool_supp *supp, const struct tool_proc *p,
			   const struct tool_event *e)
{
	v->e = e;
	v->proc = p;
	/* the stack and the suppressions need the whole line; a file that
	 * changed since it was read leaves the shape's fields */
	v->ev = tool_event_load(e);
	if (!v->ev)
		v->ev = json_incref(tool_ev(e));
	v->rule = tool_event_violation(tool_ev(e));
	v->frames = tool_xcalloc(MAX_FRAMES, sizeof *v->frames);
	v->nframes = tool_event_stack(sym, p, v->ev, v->frames, MAX_FRAMES);
	for (size_t i = 0; i < v->nframes && !v->top; i++)
		if (v->frames[i].file)
			v->top = &v->frames[i];
	v->suppressed_by = tool_supp_match(supp, v->ev, v->frames, v->nframes);
}

static void collect(struct tool_report *r, struct tool_sym *sym,
		    struct tool_supp *supp, const struct tool_logset *ls)
{
	size_t cap = 0;

	r->ls = ls;
	for (size_t p = 0; p < ls->nprocs; p++)
		for (size_t i = 0; i < ls->procs[p]->n; i++) {
			const struct tool_event *e = tool_pev(ls->procs[p], i);

			if (!tool_event_violation(tool_ev(e)))
				continue;
			if (r->n == cap) {
				cap = cap ? cap * 2 : 16;
				r->v = tool_xrealloc(r->v, cap * sizeof *r->v);
			}
			memset(&r->v[r->n], 0, sizeof r->v[r->n]);
			fill_violation(&r->v[r->n], sym, supp, ls->procs[p], e);
			r->unsuppressed += !r->v[r->n].suppressed_by;
			r->n++;
		}
}

static void write_report(FILE *out, const char *format, const struct tool_report *r)
{
	if (strcmp(format, "sarif") == 0)
		tool_report_sarif(out, r);
	else if (strcmp(format, "junit") == 0)
		tool_report_junit(out, r);
	else
		tool_report_text(out, r);
}

/* Notes that the verdict may be incomplete go to stderr, not the report. */
static void warn_incomplete(const struct tool_logset *ls)
{
	for (size_t i = 0; i < ls->nprocs; i++)
		if (!ls->procs[i]->exit)
			fprintf(stderr, "sigaudit: note: pid %lld: log ended abnormally "
				"(no sigshim.exit)\n", ls->procs[i]->pid);
}

static int emit(const struct check_opts *o, const struct tool_report *r)
{
	FILE *out = o->out_path ? fopen(o->out_path, "we") : stdout;

	if (!out) {
		perror(o->out_path);
		return -1;
	}
	write_report(out, o->format, r);
	if (out != stdout && fclose(out) != 0) {
		perror(o->out_path);
		return -1;
	}
	/* A file report leaves the terminal silent: still say the verdict. */
	if (out != stdout && r->unsuppressed)
		fprintf(stderr, "sigaudit: %zu violation%s (report in %s)\n",
			r->unsuppressed, r->unsuppressed == 1 ? "" : "s", o->out_path);
	return 0;
}

static void free_report(struct tool_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].frames);
		json_decref(r->v[i].ev);
	}
	free(r->v);
}

int tool_cmd_check(int argc, char **argv)
{
	struct check_opts o = {0};
	struct tool_report r = {0};
	struct tool_supp *supp = NULL;
	struct tool_logset ls;
	struct tool_sym *sym;
	int rc = parse_opts(argc, argv, &o);

	if (rc)
		return rc - 1;
	if (optind >= argc)
		return tool_no_logs();
	if (o.supp_path && !(supp = tool_supp_load(o.supp_path)))
		return TOOL_EXIT_USAGE;
	tool_logset_init(&ls);
	ls.want_evidence = true;
	rc = tool_load_logs(&ls, argc, argv, optind);
	sym = tool_sym_new(o.dirs, o.ndirs);
	collect(&r, sym, supp, &ls);
	warn_incomplete(&ls);
	long missing = ls.missing;

	fputs(ls.evidence ? ls.evidence : "", stderr);
	if (emit(&o, &r) < 0)
		rc = -1;
	free_report(&r);
	tool_sym_free(sym);
	tool_supp_free(supp);
	tool_logset_free(&ls);
	if (rc < 0)
		return TOOL_EXIT_USAGE;
	if (r.unsuppressed)
		return TOOL_EXIT_VIOLATIONS;
	if (missing && !o.allow_incomplete) {
		fprintf(stderr, "sigaudit: the logs prove events missing: the verdict is incomplete "
			"(exit 3; --allow-incomplete to pass anyway)\n");
		return TOOL_EXIT_INCOMPLETE;
	}
	return TOOL_EXIT_OK;
}
