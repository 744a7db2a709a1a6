#include "config.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"

/* A line must be one JSON object with the fields every event carries; any
 * other shape is reported with its position and skipped, so one bad line
 * (a log cut by a full disk, a crash mid-write) never hides the rest. */
static const char *check_shape(json_t *ev)
{
	static const char *const ints[] = {"v", "seq", "ts", "pid", "tid"};

	if (!json_is_object(ev))
		return "not a JSON object";
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		if (!json_is_integer(json_object_get(ev, ints[i])))
			return ints[i][0] == 'v' ? "missing or non-integer \"v\"" :
			       "missing or non-integer header field (seq/ts/pid/tid)";
	if (!json_is_string(json_object_get(ev, "event")))
		return "missing or non-string \"event\"";
	return NULL;
}

static void report(logread_error_fn on_error, void *ud, const char *name,
		   long line, const char *why, struct logread_stats *st)
{
	st->errors++;
	if (on_error)
		on_error(name, line, why, ud);
}

static int handle_line(char *buf, size_t len, const char *name, long line,
		       logread_event_fn on_event, logread_error_fn on_error,
		       void *ud, struct logread_stats *st)
{
	json_error_t jerr;
	char why[300];
	const char *bad;
	json_t *ev;
	int stop = 0;

	if (memchr(buf, '\0', len)) {
		report(on_error, ud, name, line, "binary data (NUL byte) in line", st);
		return 0;
	}
	ev = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ev) {
		snprintf(why, sizeof why, "invalid JSON at column %d: %s",
			 jerr.column, jerr.text);
		report(on_error, ud, name, line, why, st);
		return 0;
	}
	bad = check_shape(ev);
	if (bad)
		report(on_error, ud, name, line, bad, st);
	else {
		st->events++;
		if (on_event)
			stop = on_event(ev, name, line, ud);
	}
	json_decref(ev);
	return stop;
}

int tool_logread_stream(FILE *f, const char *name, logread_event_fn on_event,
			logread_error_fn on_error, void *ud,
			struct logread_stats *stats)
{
	struct logread_stats local = {0};
	struct logread_stats *st = stats ? stats : &local;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	long line = 0;
	long long pos = 0;
	int rc = 0;

	while ((n = getline(&buf, &cap, f)) >= 0) {
		int complete = n > 0 && buf[n - 1] == '\n';
		ssize_t pad = 0;
		long long start = pos;

		pos += n;
		line++;
		st->lines++;
		if (complete)
			n--;
		/* sink=mmap leaves NUL padding where a process stopped without
		 * cutting its file back (a crash, an exec): a NUL run that ends
		 * the line or runs into the start of an event is not data; any
		 * other NUL is binary junk, reported as such. */
		while (pad < n && buf[pad] == '\0')
			pad++;
		if (pad && (pad == n || buf[pad] == '{')) {
			memmove(buf, buf + pad, (size_t)(n - pad));
			n -= pad;
			st->padding += pad;
			start += pad;
		}
		if (n == 0)
			continue;
		if (n > LOGREAD_MAX_LINE) {
			report(on_error, ud, name, line, "line too long (over 1 MiB)", st);
			continue;
		}
		if (!complete) {
			report(on_error, ud, name, line,
			       "truncated last line (no newline): the writer stopped mid-event", st);
			break;
		}
		st->line_off = start;
		st->line_len = (size_t)n;
		if (handle_line(buf, (size_t)n, name, line, on_event, on_error, ud, st))
			break;
	}
	if (ferror(f))
		rc = -EIO;
	free(buf);
	return rc;
}

int tool_logread_file(const char *path, logread_event_fn on_event,
		      logread_error_fn on_error, void *ud,
		      struct logread_stats *stats)
{
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0)
		return tool_logread_stream(stdin, "<stdin>", on_event, on_error, ud, stats);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* fopen takes a directory; reading it would fail line by line */
	{
		struct stat sb;

		if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			fclose(f);
			return -EISDIR;
		}
	}
	rc = tool_logread_stream(f, path, on_event, on_error, ud, stats);
	fclose(f);
	return rc;
}

static int append_event(json_t *ev, const char *file, long line, void *ud)
{
	(void)file;
	(void)line;
	json_array_append(ud, ev);
	return 0;
}

json_t *tool_logread_load(const char *path, long *errors)
{
	struct logread_stats st = {0};
	json_t *arr = json_array();
	int rc = tool_logread_file(path, append_event, NULL, arr, &st);

	if (rc < 0) {
		json_decref(arr);
		errno = -rc;
		return NULL;
	}
	if (errors)
		*errors = st.errors;
	return arr;
}
