/* Small helpers shared by the commands. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"

void tool_xml_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fputc('?', out);   /* not representable in XML 1.0 */
		else
			fputc(c, out);
	}
}

/* Reviewing nothing must not look like a clean review. */
int tool_no_logs(void)
{
	fprintf(stderr, "sigaudit: no log given (use - for stdin)\n");
	return TOOL_EXIT_USAGE;
}

int tool_load_logs(struct tool_logset *ls, int argc, char **argv, int first)
{
	if (first >= argc) {
		fprintf(stderr, "sigaudit: no log given (use - for stdin)\n");
		return -1;
	}
	for (int i = first; i < argc; i++)
		tool_logset_add_arg(ls, argv[i]);
	tool_logset_finish(ls);
	return ls->io_errors ? -1 : 0;
}

/* Fields said elsewhere on a listing line, or too noisy to repeat. */
static bool is_shown_elsewhere(const char *key)
{
	static const char *const skip[] = {
		"v", "seq", "ts", "pid", "tid", "event", "signame", "signalnum",
		"main", "violation", "policy", "bt",
	};

	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
		if (strcmp(key, skip[i]) == 0)
			return true;
	return false;
}

static size_t append(char *buf, size_t len, size_t pos, const char *s)
{
	int n = snprintf(buf + pos, pos < len ? len - pos : 0, "%s", s);

	return pos + (size_t)(n > 0 ? n : 0);
}

/* A string a program chose (argv0, exe, paths) made safe for a terminal:
 * C0 and C1 control characters and DEL become \n, \t, \r or \xHH
 * (\u0080-\u009f for C1), a backslash becomes \\, so no byte of it can
 * end a line, move the cursor or start an escape sequence. */
const char *tool_escape(const char *s, char *out, size_t n)
{
	size_t o = 0;

	if (!n)
		return "";
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 7 < n; p++) {
		if (*p == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (*p == '\n' || *p == '\t' || *p == '\r') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			o += (size_t)snprintf(out + o, n - o, "\\u%04x", p[1]);
			p++;
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return out;
}

static size_t append_value(char *buf, size_t len, size_t pos, json_t *v)
{
	char *dump;

	if (json_is_string(v)) {
		char esc[4096];

		return append(buf, len, pos, tool_escape(json_string_value(v), esc, sizeof esc));
	}
	dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	pos = append(buf, len, pos, dump ? dump : "?");
	free(dump);
	return pos;
}

void tool_event_brief(json_t *ev, char *buf, size_t len)
{
	char sb[32];
	const char *sig = tool_event_signame(ev, sb, sizeof sb);
	const char *key;
	size_t pos = 0;
	json_t *v;

	buf[0] = '\0';
	if (sig)
		pos = append(buf, len, pos, sig);
	json_object_foreach(ev, key, v) {
		if (is_shown_elsewhere(key))
			continue;
		pos = append(buf, len, pos, pos ? " " : "");
		pos = append(buf, len, pos, key);
		pos = append(buf, len, pos, "=");
		pos = append_value(buf, len, pos, v);
	}
}

int tool_event_on_main(const struct tool_event *e)
{
	json_t *m = json_object_get(tool_ev(e), "main");

	return json_is_boolean(m) ? json_is_true(m) : e->tid == e->pid;
}
