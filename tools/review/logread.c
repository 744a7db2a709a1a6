#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"
#include "xalloc.h"

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

/* The parse of one line: an event, or why not (in why). */
static json_t *parse_line(const char *buf, size_t len, char *why, size_t whylen)
{
	json_error_t jerr;
	const char *bad;
	json_t *ev;

	if (memchr(buf, '\0', len)) {
		snprintf(why, whylen, "binary data (NUL byte) in line");
		return NULL;
	}
	ev = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ev) {
		snprintf(why, whylen, "invalid JSON at column %d: %.200s", jerr.column, jerr.text);
		return NULL;
	}
	bad = check_shape(ev);
	if (bad) {
		snprintf(why, whylen, "%s", bad);
		json_decref(ev);
		return NULL;
	}
	return ev;
}

/* ---- the reading engine ----
 * Parsing is most of what reading costs (jansson: ~60 % of a summary), and
 * the machines CI runs on have two cores or more: for a large file, lines
 * are read here in batches, parsed and digested by worker threads (which
 * free what they parsed: a tree freed by another thread costs malloc's
 * arena locks), and the records are taken here in file order, so callers
 * see exactly what a sequential read gives them. */

#define BATCH_LINES 1024
#define IN_FLIGHT 4
#define ARENA_CHUNK 65536

struct logread_arena {
	char *chunk;            /* the current chunk; earlier ones linked at its start */
	size_t used, cap;
};

char *tool_logread_arena_strdup(struct logread_arena *a, const char *s, size_t n)
{
	char *out;

	if (a->used + n + 1 > a->cap) {
		size_t cap = n + 1 + sizeof(char *) > ARENA_CHUNK ? n + 1 + sizeof(char *) : ARENA_CHUNK;
		char *c = tool_xmalloc(cap);
		memcpy(c, &a->chunk, sizeof(char *));   /* link the previous chunk */
		a->chunk = c;
		a->used = sizeof(char *);
		a->cap = cap;
	}
	out = a->chunk + a->used;
	memcpy(out, s, n);
	out[n] = '\0';
	a->used += n + 1;
	return out;
}

static void arena_free(struct logread_arena *a);

/* Keep the current chunk for the next line (the sequential reader's). */
static void arena_reset(struct logread_arena *a)
{
	char *prev, *none = NULL;

	if (!a->chunk)
		return;
	memcpy(&prev, a->chunk, sizeof prev);
	memcpy(a->chunk, &none, sizeof none);
	a->used = sizeof(char *);
	while (prev) {
		char *p = prev;

		memcpy(&prev, p, sizeof prev);
		free(p);
	}
}

static void arena_free(struct logread_arena *a)
{
	while (a->chunk) {
		char *prev;

		memcpy(&prev, a->chunk, sizeof prev);
		free(a->chunk);
		a->chunk = prev;
	}
	a->used = a->cap = 0;
}

struct item {
	size_t at, len;         /* in the batch's bytes */
	long line;
	long long off;
	bool ok;                /* digested: the record holds it */
	bool preset;            /* refused while reading: why is already set */
	const char *why;        /* else why not: a literal, or in the arena */
};

struct batch {
	char *bytes;
	size_t used, cap;
	struct item items[BATCH_LINES];
	unsigned char *recs;    /* BATCH_LINES records */
	struct logread_arena arena;
	size_t n;
	bool done;
};

struct reading {
	const char *name;
	const struct logread_digest *d;
	void *ud;
	struct logread_stats *st;
	struct pool *pool;
	struct batch *fill;     /* being filled */
	bool stopped;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, finished;
	struct batch *b[IN_FLIGHT];
	size_t head, tail, next;        /* take from head, submit at tail, parse next */
	bool quit;
	pthread_t threads[4];
	int nthreads;
	struct reading *r;
};

static void digest_batch(const struct reading *r, struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		char why[256];
		json_t *ev;

		if (it->preset)
			continue;
		ev = parse_line(b->bytes + it->at, it->len, why, sizeof why);
		if (!ev) {
			it->why = tool_logread_arena_strdup(&b->arena, why, strlen(why));
			continue;
		}
		r->d->digest(ev, b->recs + i * r->d->rec_size, &b->arena, r->ud);
		json_decref(ev);
		it->ok = true;
	}
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct batch *b;

		while (!p->quit && p->next == p->tail)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->next == p->tail)
			break;
		b = p->b[p->next++ % IN_FLIGHT];
		pthread_mutex_unlock(&p->mu);
		digest_batch(p->r, b);
		pthread_mutex_lock(&p->mu);
		b->done = true;
		pthread_cond_broadcast(&p->finished);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Workers for a file of this size: none for small files (a thread costs
 * more than their parse); SIGAUDIT_THREADS chooses (1: none). */
static int workers_for(FILE *f)
{
	const char *env = getenv("SIGAUDIT_THREADS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct stat sb;

	if (env && *env)
		n = strtol(env, NULL, 10);
	if (n <= 1 || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size < (4 << 20))
		return 0;
	return n > 4 ? 4 : (int)n;
}

static struct batch *batch_new(const struct reading *r)
{
	struct batch *b = tool_xcalloc(1, sizeof *b);

	b->recs = tool_xmalloc(BATCH_LINES * r->d->rec_size);
	return b;
}

static void batch_free(struct batch *b)
{
	arena_free(&b->arena);
	free(b->recs);
	free(b->bytes);
	free(b);
}

static void batch_add(struct batch *b, const char *buf, size_t len, long line,
		      long long off, const char *preset)
{
	struct item *it = &b->items[b->n++];

	if (b->used + len > b->cap) {
		b->cap = (b->used + len) * 2;
		b->bytes = tool_xrealloc(b->bytes, b->cap);
	}
	if (len)
		memcpy(b->bytes + b->used, buf, len);
	*it = (struct item){.at = b->used, .len = len, .line = line, .off = off,
			    .preset = preset != NULL, .why = preset};
	b->used += len;
}

/* Hand a digested batch to the caller, in order. */
static void take_batch(struct reading *r, struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		void *rec = b->recs + i * r->d->rec_size;

		if (r->stopped) {
			if (it->ok && r->d->drop)
				r->d->drop(rec, r->ud);
			continue;
		}
		if (!it->ok) {
			report(r->d->on_error, r->d->error_ud, r->name, it->line, it->why, r->st);
			continue;
		}
		r->st->events++;
		r->st->line_off = it->off;
		r->st->line_len = it->len;
		if (r->d->take(rec, r->name, it->line, r->ud))
			r->stopped = true;
	}
}

/* Take the oldest batch once it is digested (wait: block until it is). */
static bool drain_one(struct reading *r, bool wait)
{
	struct pool *p = r->pool;
	struct batch *b;

	pthread_mutex_lock(&p->mu);
	if (p->head == p->tail || (!p->b[p->head % IN_FLIGHT]->done && !wait)) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	b = p->b[p->head % IN_FLIGHT];
	while (!b->done)
		pthread_cond_wait(&p->finished, &p->mu);
	p->head++;
	pthread_mutex_unlock(&p->mu);
	take_batch(r, b);
	batch_free(b);
	return true;
}

static void submit(struct reading *r)
{
	struct pool *p = r->pool;
	struct batch *b = r->fill;

	r->fill = NULL;
	if (!b)
		return;
	if (!p) {               /* no workers: digest and take here, reuse it */
		digest_batch(r, b);
		take_batch(r, b);
		b->n = 0;
		b->used = 0;
		arena_reset(&b->arena);
		r->fill = b;
		return;
	}
	while (p->tail - p->head == IN_FLIGHT)
		drain_one(r, true);
	pthread_mutex_lock(&p->mu);
	p->b[p->tail++ % IN_FLIGHT] = b;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	while (drain_one(r, false))
		;
}

/* One line read: into the batch, which goes when full. */
static void take(struct reading *r, const char *buf, size_t len, long line,
		 long long off, const char *preset)
{
	if (!r->fill)
		r->fill = batch_new(r);
	batch_add(r->fill, buf, len, line, off, preset);
	/* without workers, a line at a time: a caller that stops early (or a
	 * test that counts) sees no read-ahead */
	if (r->fill->n == BATCH_LINES || !r->pool)
		submit(r);
}

static bool pool_start(struct pool *p, struct reading *r, int n)
{
	memset(p, 0, sizeof *p);
	p->r = r;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->finished, NULL);
	json_object_seed(0);    /* before threads make objects (jansson's rule) */
	for (int i = 0; i < n; i++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
			p->nthreads++;
	if (p->nthreads)
		return true;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->finished);
	return false;
}

static void pool_stop(struct reading *r)
{
	struct pool *p = r->pool;

	submit(r);
	while (drain_one(r, true))
		;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->finished);
}

int tool_logread_stream_digest(FILE *f, const char *name, const struct logread_digest *d,
			       void *ud, struct logread_stats *stats)
{
	struct logread_stats local = {0};
	struct logread_stats *st = stats ? stats : &local;
	struct reading r = {.name = name, .d = d, .ud = ud, .st = st};
	struct pool pool;
	int nworkers = workers_for(f);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	long line = 0;
	long long pos = 0;
	int rc = 0;

	if (nworkers && pool_start(&pool, &r, nworkers))
		r.pool = &pool;
	while (!r.stopped && (n = getline(&buf, &cap, f)) >= 0) {
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
			take(&r, "", 0, line, start, "line too long (over 1 MiB)");
			continue;
		}
		if (!complete) {
			take(&r, "", 0, line, start,
			     "truncated last line (no newline): the writer stopped mid-event");
			break;
		}
		take(&r, buf, (size_t)n, line, start, NULL);
	}
	if (r.pool)
		pool_stop(&r);
	else
		submit(&r);
	if (r.fill)
		batch_free(r.fill);
	if (ferror(f))
		rc = -EIO;
	free(buf);
	return rc;
}

/* The JSON-object interface on top: the record is the parsed line. */
struct json_reading {
	logread_event_fn on_event;
	void *ud;
};

static void json_digest(json_t *ev, void *rec, struct logread_arena *a, void *ud)
{
	*(json_t **)rec = json_incref(ev);
}

static int json_take(void *rec, const char *file, long line, void *ud)
{
	struct json_reading *j = ud;
	json_t *ev = *(json_t **)rec;
	int stop = j->on_event ? j->on_event(ev, file, line, j->ud) : 0;

	json_decref(ev);
	return stop;
}

static void json_drop(void *rec, void *ud)
{
	json_decref(*(json_t **)rec);
}

static struct logread_digest json_digester(logread_error_fn on_error, void *ud)
{
	return (struct logread_digest){
		.rec_size = sizeof(json_t *), .digest = json_digest, .take = json_take,
		.drop = json_drop, .on_error = on_error, .error_ud = ud,
	};
}

int tool_logread_stream(FILE *f, const char *name, logread_event_fn on_event,
			logread_error_fn on_error, void *ud,
			struct logread_stats *stats)
{
	struct json_reading j = {.on_event = on_event, .ud = ud};
	struct logread_digest d = json_digester(on_error, ud);

	return tool_logread_stream_digest(f, name, &d, &j, stats);
}

int tool_logread_file_digest(const char *path, const struct logread_digest *d,
			     void *ud, struct logread_stats *stats)
{
	struct stat sb;
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0)
		return tool_logread_stream_digest(stdin, "<stdin>", d, ud, stats);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* fopen takes a directory; reading it would fail line by line */
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		return -EISDIR;
	}
	rc = tool_logread_stream_digest(f, path, d, ud, stats);
	fclose(f);
	return rc;
}

int tool_logread_file(const char *path, logread_event_fn on_event,
		      logread_error_fn on_error, void *ud,
		      struct logread_stats *stats)
{
	struct json_reading j = {.on_event = on_event, .ud = ud};
	struct logread_digest d = json_digester(on_error, ud);

	return tool_logread_file_digest(path, &d, &j, stats);
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
