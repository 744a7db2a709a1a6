/* Suppressions: one `type:glob` per line, `#` comments, blank lines.
 *
 *   rule:install-off-main     the violation's rule
 *   signal:SIGUSR1            signal name (SIGUSR1, USR1) or number
 *   event:signal.sigaction    the event name
 *   function:my_func*         any frame's function
 *   module:*libfoo.so*        any frame's module path
 *   src:*vendor*              any frame's source file
 *
 * A violation is suppressed when any line matches it, like the sanitizers'
 * suppression files: frame patterns match anywhere in the stack, because the
 * offending call is often made by a library on behalf of the program. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigaudit.h"
#include "xalloc.h"

enum supp_type { S_RULE, S_SIGNAL, S_EVENT, S_FUNCTION, S_MODULE, S_SRC };

static const char *const type_names[] = {
	[S_RULE] = "rule", [S_SIGNAL] = "signal", [S_EVENT] = "event",
	[S_FUNCTION] = "function", [S_MODULE] = "module", [S_SRC] = "src",
};

struct supp_line {
	enum supp_type type;
	char *pattern;
	char *text;             /* the line as written, for reports */
};

struct tool_supp {
	struct supp_line *l;
	size_t n;
};

void tool_supp_free(struct tool_supp *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->l[i].pattern);
		free(s->l[i].text);
	}
	free(s->l);
	free(s);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_type(const char *s, size_t len)
{
	for (size_t t = 0; t < sizeof type_names / sizeof type_names[0]; t++)
		if (strlen(type_names[t]) == len && strncmp(s, type_names[t], len) == 0)
			return (int)t;
	return -1;
}

static int add_line(struct tool_supp *s, char *line, const char *name, int lineno)
{
	char *colon = strchr(line, ':');
	int type = colon ? parse_type(line, (size_t)(colon - line)) : -1;
	char *pat = colon ? trim(colon + 1) : NULL;

	if (type < 0 || !*pat) {
		fprintf(stderr, "%s:%d: bad suppression \"%s\" (want type:pattern with "
			"type rule, signal, event, function, module or src)\n",
			name, lineno, line);
		return -EINVAL;
	}
	s->l = tool_xrealloc(s->l, (s->n + 1) * sizeof *s->l);
	s->l[s->n].type = (enum supp_type)type;
	s->l[s->n].pattern = tool_xstrdup(pat);
	s->l[s->n].text = tool_xstrdup(line);
	s->n++;
	return 0;
}

struct tool_supp *tool_supp_parse(const char *text, const char *name)
{
	struct tool_supp *s = tool_xcalloc(1, sizeof *s);
	char *copy = tool_xstrdup(text), *save = NULL, *raw;
	int lineno = 0, bad = 0;

	/* strtok_r would merge blank lines and shift the numbers: split by hand. */
	for (raw = copy; raw; raw = save) {
		char *nl = strchr(raw, '\n'), *line;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		line = trim(raw);
		if (*line && *line != '#' && add_line(s, line, name, lineno) < 0)
			bad = 1;
	}
	free(copy);
	if (bad) {
		tool_supp_free(s);
		return NULL;
	}
	return s;
}

struct tool_supp *tool_supp_load(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;
	struct tool_supp *s;

	struct stat sb;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "sigaudit: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "sigaudit: %s: %s\n", path, strerror(EISDIR));
		fclose(f);
		return NULL;
	}
	n = getdelim(&text, &len, '\0', f);
	if (n < 0) {
		free(text);
		text = tool_xstrdup("");
	} else if (n > 0 && text[n - 1] == '\0') {
		/* getdelim stopped at a NUL: the rest would be ignored */
		fprintf(stderr, "sigaudit: %s: a NUL byte at offset %zd: not a suppressions file\n",
			path, n - 1);
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	s = tool_supp_parse(text, path);
	free(text);
	return s;
}

static bool glob_match(const char *pat, const char *s)
{
	return s && fnmatch(pat, s, 0) == 0;
}

/* SIGUSR1, USR1 and 10 all name the same signal. */
static bool signal_match(const char *pat, json_t *ev)
{
	char buf[32];
	const char *name = tool_event_signame(ev, buf, sizeof buf);
	long long num;
	char numbuf[24];

	if (!name)
		return false;
	if (glob_match(pat, name) || fnmatch(pat, name, FNM_CASEFOLD) == 0)
		return true;
	if (strncmp(name, "SIG", 3) == 0 && fnmatch(pat, name + 3, FNM_CASEFOLD) == 0)
		return true;
	if (!tool_json_int(ev, "signalnum", &num))
		return false;
	snprintf(numbuf, sizeof numbuf, "%lld", num);
	return glob_match(pat, numbuf);
}

static bool frames_match(const struct supp_line *l, const struct tool_frame *f,
			 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = l->type == S_FUNCTION ? f[i].func :
				l->type == S_MODULE ? f[i].module : f[i].file;

		if (glob_match(l->pattern, s))
			return true;
	}
	return false;
}

static bool line_match(const struct supp_line *l, json_t *ev,
		       const struct tool_frame *f, size_t n)
{
	switch (l->type) {
	case S_RULE:
		return glob_match(l->pattern, tool_event_violation(ev));
	case S_SIGNAL:
		return signal_match(l->pattern, ev);
	case S_EVENT:
		return glob_match(l->pattern, tool_json_str(ev, "event"));
	default:
		return frames_match(l, f, n);
	}
}

const char *tool_supp_match(struct tool_supp *s, json_t *ev,
			    const struct tool_frame *frames, size_t nframes)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (line_match(&s->l[i], ev, frames, nframes))
			return s->l[i].text;
	return NULL;
}
