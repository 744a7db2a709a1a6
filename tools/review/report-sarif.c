/* SARIF 2.1.0 output of sigaudit check, for code-scanning dashboards.
 * One result per violation; suppressed ones stay in with a `suppressions`
 * entry (SARIF's way to say "seen and accepted"), so the dashboard shows
 * them as such instead of forgetting them. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "sigaudit.h"

static const struct {
	const char *id, *text;
} rule_texts[] = {
	{"install-off-main", "A function signal handler was installed from a thread "
	 "other than the main thread (Python's signal model allows handlers to be "
	 "set only from the main thread)."},
	{"forwarded-handler-waits", "A handler run on the main thread for a signal another "
	 "thread received waited there (sigsuspend, sigwait) for another signal: a per-thread "
	 "protocol that deadlocks when the main thread is the one to wake it; run the signal "
	 "where received (run_where_received=)."},
};

static const char *rule_text(const char *id)
{
	for (size_t i = 0; i < sizeof rule_texts / sizeof rule_texts[0]; i++)
		if (strcmp(rule_texts[i].id, id) == 0)
			return rule_texts[i].text;
	return "A signal API use that breaks the sigshim policy.";
}

/* artifactLocation.uri is a URI reference: escape what a path may hold
 * that a URI may not. */
static json_t *path_uri(const char *path)
{
	char buf[4096];
	size_t o = 0;

	for (const unsigned char *c = (const unsigned char *)path; *c && o < sizeof buf - 4; c++) {
		if (isalnum(*c) || strchr("/-._~+", *c))
			buf[o++] = (char)*c;
		else
			o += (size_t)snprintf(buf + o, 4, "%%%02X", *c);
	}
	buf[o] = '\0';
	return json_string(buf);
}

static json_t *frame_location(const struct tool_frame *f)
{
	json_t *loc = json_object();
	char msg[800];

	if (f->file)
		json_object_set_new(loc, "physicalLocation", json_pack(
			"{s:{s:o},s:{s:i}}", "artifactLocation", "uri", path_uri(f->file),
			"region", "startLine", f->line > 0 ? f->line : 1));
	if (f->func)
		json_object_set_new(loc, "logicalLocations", json_pack(
			"[{s:s,s:s}]", "name", f->func, "kind", "function"));
	tool_frame_describe(f, msg, sizeof msg);
	json_object_set_new(loc, "message", json_pack("{s:s}", "text", msg));
	return loc;
}

static json_t *stack_of(const struct tool_violation *v)
{
	json_t *frames = json_array();

	for (size_t i = 0; i < v->nframes; i++) {
		json_t *fr = json_pack("{s:o}", "location", frame_location(&v->frames[i]));
		char addr[32];

		if (v->frames[i].module)
			json_object_set_new(fr, "module", json_string(v->frames[i].module));
		snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)v->frames[i].addr);
		json_object_set_new(fr, "properties", json_pack("{s:s}", "address", addr));
		json_array_append_new(frames, fr);
	}
	return json_pack("{s:{s:s},s:o}", "message", "text", "call stack at the violation",
			 "frames", frames);
}

static json_t *properties_of(const struct tool_violation *v)
{
	const struct tool_event *e = v->e;
	char sb[32], log[600];
	const char *sig = tool_event_signame(tool_ev(e), sb, sizeof sb);

	snprintf(log, sizeof log, "%s:%ld", tool_event_file(e), tool_event_line(e));
	return json_pack("{s:I,s:I,s:I,s:s,s:s?,s:s?,s:s,s:b}", "pid", (json_int_t)e->pid,
			 "tid", (json_int_t)e->tid, "seq", (json_int_t)e->seq,
			 "event", tool_ename(e), "signal", sig,
			 "policy", tool_json_str(tool_ev(e), "policy"), "log", log,
			 "main_thread", tool_event_on_main(e));
}

static json_t *result_of(const struct tool_violation *v, size_t rule_index)
{
	char where[1024], msg[1400];
	const char *policy = tool_json_str(tool_ev(v->e), "policy");
	json_t *res;

	tool_violation_where(v, where, sizeof where);
	snprintf(msg, sizeof msg, "sigshim: %s (pid %d, tid %d, %s, policy %s)",
		 where, v->e->pid, v->e->tid, tool_ename(v->e), policy ?: "?");
	res = json_pack("{s:s,s:I,s:s,s:{s:s}}", "ruleId", v->rule,
			"ruleIndex", (json_int_t)rule_index,
			"level", policy && strcmp(policy, "deny") == 0 ? "error" : "warning",
			"message", "text", msg);
	if (v->top)
		json_object_set_new(res, "locations", json_pack("[o]", frame_location(v->top)));
	if (v->nframes)
		json_object_set_new(res, "stacks", json_pack("[o]", stack_of(v)));
	if (v->suppressed_by)
		json_object_set_new(res, "suppressions", json_pack("[{s:s,s:s}]",
			"kind", "external", "justification", v->suppressed_by));
	json_object_set_new(res, "properties", properties_of(v));
	return res;
}

static size_t rule_index(json_t *rules, const char *id)
{
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
			return i;
	json_array_append_new(rules, json_pack("{s:s,s:{s:s},s:{s:s}}", "id", id,
		"shortDescription", "text", id, "fullDescription", "text", rule_text(id)));
	return json_array_size(rules) - 1;
}

void tool_report_sarif(FILE *out, const struct tool_report *r)
{
	json_t *rules = json_array(), *results = json_array(), *log;

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(results,
				      result_of(&r->v[i], rule_index(rules, r->v[i].rule)));
	log = json_pack("{s:s,s:s,s:[{s:{s:{s:s,s:s,s:o}},s:o}]}",
			"$schema", "https://json.schemastore.org/sarif-2.1.0.json",
			"version", "2.1.0", "runs", "tool", "driver",
			"name", "sigaudit", "version", SIGSHIM_VERSION,
			"rules", rules, "results", results);
	json_dumpf(log, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(log);
}
