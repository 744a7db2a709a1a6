/* JUnit XML output of sigaudit check, for CI systems that show test
 * results: one testcase per violation (failure, or skipped when suppressed),
 * or a single passing testcase when the logs are clean, so that a clean run
 * still shows up as "1 passed" rather than as nothing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"

static void testcase(FILE *out, const struct tool_violation *v)
{
	char where[1024], sb[32], *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	tool_violation_where(v, where, sizeof where);
	fprintf(out, "    <testcase classname=\"sigshim.");
	tool_xml_escape(out, v->rule);
	fprintf(out, "\" name=\"pid %d seq %lld %s %s (", v->e->pid, v->e->seq,
		tool_ename(v->e), tool_event_signame(tool_ev(v->e), sb, sizeof sb) ?: "");
	tool_xml_escape(out, tool_event_file(v->e));
	fprintf(out, ":%ld)\">\n", tool_event_line(v->e));
	if (v->suppressed_by) {
		fprintf(out, "      <skipped message=\"suppressed by ");
		tool_xml_escape(out, v->suppressed_by);
		fprintf(out, "\"/>\n    </testcase>\n");
		fclose(mem);
		free(text);
		return;
	}
	tool_report_text_one(mem, v);
	fclose(mem);
	fprintf(out, "      <failure type=\"");
	tool_xml_escape(out, v->rule);
	fprintf(out, "\" message=\"");
	tool_xml_escape(out, where);
	fprintf(out, "\">");
	tool_xml_escape(out, text);
	fprintf(out, "</failure>\n    </testcase>\n");
	free(text);
}

void tool_report_junit(FILE *out, const struct tool_report *r)
{
	size_t tests = r->n ? r->n : 1, skipped = r->n - r->unsuppressed;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites name=\"sigaudit\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"0\" skipped=\"%zu\">\n", tests, r->unsuppressed, skipped);
	fprintf(out, "  <testsuite name=\"sigshim\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"0\" skipped=\"%zu\">\n", tests, r->unsuppressed, skipped);
	for (size_t i = 0; i < r->n; i++)
		testcase(out, &r->v[i]);
	if (!r->n)
		fprintf(out, "    <testcase classname=\"sigshim\" name=\"no signal policy "
			"violations in %zu events of %zu processes\"/>\n",
			r->ls->n, r->ls->nprocs);
	fprintf(out, "  </testsuite>\n</testsuites>\n");
}
