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

/* Reading with the parse on other cores (large files; SIGAUDIT_THREADS=1
 * for none).  digest() runs on any thread, for lines in any order: it turns
 * a parsed line (borrowed) into a record of rec_size bytes, keeping
 * references in it if it must, and strings in the arena, which lives until
 * the record is taken.  take() runs on the calling thread, in file order,
 * with stats->line_off/line_len set; non-zero stops the reading, and drop()
 * then gets the records digested ahead. */
struct logread_arena;
char *tool_logread_arena_strdup(struct logread_arena *a, const char *s, size_t n);

struct logread_digest {
	size_t rec_size;
	void (*digest)(json_t *ev, void *rec, struct logread_arena *a, void *ud);
	int (*take)(void *rec, const char *file, long line, void *ud);
	void (*drop)(void *rec, void *ud);
	logread_error_fn on_error;
	void *error_ud;
};

int tool_logread_stream_digest(FILE *f, const char *name, const struct logread_digest *d,
			       void *ud, struct logread_stats *stats);
int tool_logread_file_digest(const char *path, const struct logread_digest *d,
			     void *ud, struct logread_stats *stats);

/* Load every event of a log into a JSON array (new reference), in file
 * order; NULL with errno set on I/O failure.  Malformed lines are counted in
 * *errors (if non-NULL) and skipped.  Convenient for tests. */
json_t *tool_logread_load(const char *path, long *errors);

#define LOGREAD_MAX_LINE (1 << 20)

#endif
