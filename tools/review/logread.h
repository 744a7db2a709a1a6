/* Reading sigshim JSON-lines logs.  Shared by sigaudit and the tests, so that
 * the tests check the log with the very reader users run in CI. */
#ifndef SIGSHIM_LOGREAD_H
#define SIGSHIM_LOGREAD_H

#include <stdio.h>
#include <jansson.h>

/* Called for each well-formed line: `ev` is a JSON object (borrowed: incref it
 * to keep it).  Return non-zero to stop reading. */
typedef int (*logread_event_fn)(json_t *ev, const char *file, long line, void *ud);

/* Called for each rejected line with a human-readable reason. */
typedef void (*logread_error_fn)(const char *file, long line, const char *why, void *ud);

struct logread_stats {
	long lines;     /* lines seen, well-formed or not */
	long events;    /* well-formed event objects */
	long errors;    /* rejected lines */
	long padding;   /* NUL bytes skipped (sink=mmap after a crash) */
	/* Where the line handed to on_event lies in the stream (padding
	 * skipped, newline not counted): what lets sigaudit keep 40 bytes per
	 * event and read the line again when it needs all of it. */
	long long line_off;
	size_t line_len;
};

/* Read one log ("-" is stdin).  Lines longer than LOGREAD_MAX_LINE are
 * rejected, not truncated.  Returns 0, or -errno when the file cannot be
 * read (nothing is reported through on_error in that case). */
int tool_logread_file(const char *path, logread_event_fn on_event,
		      logread_error_fn on_error, void *ud,
		      struct logread_stats *stats);

/* Same, on an open stream named `name` in messages. */
int tool_logread_stream(FILE *f, const char *name, logread_event_fn on_event,
			logread_error_fn on_error, void *ud,
			struct logread_stats *stats);

/* Load every event of a log into a JSON array (new reference), in file
 * order; NULL with errno set on I/O failure.  Malformed lines are counted in
 * *errors (if non-NULL) and skipped.  Convenient for tests. */
json_t *tool_logread_load(const char *path, long *errors);

#define LOGREAD_MAX_LINE (1 << 20)

#endif
