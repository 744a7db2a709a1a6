/* sigaudit check's text report, shaped like the sanitizers' so that people
 * and CI log scrapers that know ASan's WARNING/#N/SUMMARY lines know ours. */
#include "config.h"

#include <string.h>

#include "sigaudit.h"

static void print_frame(FILE *out, size_t i, const struct tool_frame *f)
{
	fprintf(out, "    #%zu 0x%llx", i, (unsigned long long)f->addr);
	if (f->func && f->file)
		fprintf(out, " in %s %s:%d\n", f->func, f->file, f->line);
	else if (f->func)
		fprintf(out, " in %s (%s+0x%llx)\n", f->func, f->module,
			(unsigned long long)f->modoff);
	else if (f->file)
		fprintf(out, " in %s:%d (%s+0x%llx)\n", f->file, f->line, f->module,
			(unsigned long long)f->modoff);
	else
		fprintf(out, " (%s)\n", f->note);
}

void tool_violation_where(const struct tool_violation *v, char *buf, size_t len)
{
	const struct tool_frame *fn = NULL;

	for (size_t i = 0; i < v->nframes && !fn; i++)
		if (v->frames[i].func)
			fn = &v->frames[i];
	if (v->top)
		snprintf(buf, len, "%s %s:%d in %s", v->rule, v->top->file,
			 v->top->line, v->top->func ?: "??");
	else if (fn)
		snprintf(buf, len, "%s in %s", v->rule, fn->func);
	else
		snprintf(buf, len, "%s in %s", v->rule, tool_ename(v->e));
}

/* For pthread_kill thread_id is the target: name the caller instead. */
static long long acting_thread(json_t *ev)
{
	long long id = 0;

	if (!tool_json_int(ev, "caller_thread_id", &id))
		tool_json_int(ev, "thread_id", &id);
	return id;
}

void tool_report_text_one(FILE *out, const struct tool_violation *v)
{
	const struct tool_event *e = v->e;
	char brief[2048], where[1024];

	tool_event_brief(v->ev, brief, sizeof brief);
	fprintf(out, "WARNING: sigshim: %s (pid=%d, thread_id=%lld, tid=%d%s)\n",
		v->rule, e->pid, acting_thread(v->ev), e->tid,
		tool_event_on_main(e) ? ", main thread" : ", not the main thread");
	fprintf(out, "  %s %s policy=%s (%s:%ld)\n", tool_ename(e), brief,
		tool_json_str(v->ev, "policy") ?: "?", tool_event_file(e), tool_event_line(e));
	for (size_t i = 0; i < v->nframes; i++)
		print_frame(out, i, &v->frames[i]);
	if (!v->nframes)
		fprintf(out, "    (no backtrace: run the shim with backtrace=N)\n");
	tool_violation_where(v, where, sizeof where);
	fprintf(out, "SUMMARY: sigshim: %s\n", where);
}

static void print_footer(FILE *out, const struct tool_report *r)
{
	size_t suppressed = r->n - r->unsuppressed;

	if (!r->n) {
		fprintf(out, "sigaudit: no violations (%zu events, %zu process%s)\n",
			r->ls->n, r->ls->nprocs, r->ls->nprocs == 1 ? "" : "es");
		return;
	}
	fprintf(out, "sigaudit: %zu violation%s, %zu suppressed\n", r->unsuppressed,
		r->unsuppressed == 1 ? "" : "s", suppressed);
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].suppressed_by)
			fprintf(out, "  suppressed: %s pid=%d seq=%lld by \"%s\"\n",
				r->v[i].rule, r->v[i].e->pid, r->v[i].e->seq,
				r->v[i].suppressed_by);
}

void tool_report_text(FILE *out, const struct tool_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].suppressed_by)
			continue;
		tool_report_text_one(out, &r->v[i]);
		fputc('\n', out);
	}
	print_footer(out, r);
}
