/* The log set: every event of every log named on the command line, grouped
 * per process.  Logs of a process tree (one file per pid, or one file shared
 * by forked children) are read together, so a child's events sit with its
 * own pid and can borrow its parent's module map.
 *
 * Memory is what limits a reviewer of CI runs: each event is kept as 40
 * bytes (struct tool_event) plus 4 in its process's index; the fields the
 * commands read live in shapes, JSON objects of the few keys they use,
 * interned so that a million signal.received lines of one kind share one;
 * per-process facts (threads, modules, handler latency) are gathered while
 * reading, when the whole line is at hand; the rest of a line is read back
 * from its file on demand (tool_event_load).  A log given on stdin is copied
 * to a temporary file first so that it can be read back too. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "logread.h"
#include "sigaudit.h"
#include "xalloc.h"

#define OFF_BITS 40
#define LEN_BITS 24
#define CKPT_EVERY 4096         /* lines between line-number checkpoints */

struct shape {
	json_t *ev;
	const char *name;
	int image;
	char *key;              /* the compact dump the shape is interned by */
};

struct ckpt {
	long long off;
	long line;
};

struct file_meta {
	const char *name;       /* ls->files[i] */
	const char *path;       /* what to open again: the name, or the stdin copy */
	char *tmp;              /* the copy of stdin (unlinked when the set is freed) */
	struct ckpt *ck;
	size_t nck, ckcap;
	long next_ck;
};

struct keybuf {
	char *s;
	size_t n, cap;
};

/* One set at a time (a command reads one): the tables events point into. */
static struct {
	struct tool_logset *ls;
	struct shape *shapes;
	size_t nshapes, shapecap;
	struct tool_index by_hash;      /* hash of key -> first shape with it */
	size_t *chain;                  /* next shape with the same hash + 1 */
	struct file_meta *files;
	size_t nfiles;
	int fd;                         /* the file last read back, and which */
	uint32_t fd_file;
	bool warned_changed;
	char **pool;                    /* pooled(): module paths, build ids */
	size_t npool, poolcap, *pool_chain;
	struct tool_index pool_ix;
} set = {.fd = -1};

void tool_logset_init(struct tool_logset *ls)
{
	memset(ls, 0, sizeof *ls);
	set.ls = ls;
}

static void free_proc(struct tool_proc *p)
{
	free(p->mods);         /* their strings are the pool's */
	free(p->threads);
	free(p->file_ix);
	tool_index_free(&p->thr_by_tid);
	tool_index_free(&p->thr_by_id);
	free(p);
}

void tool_logset_free(struct tool_logset *ls)
{
	for (size_t i = 0; i < ls->nprocs; i++)
		free_proc(ls->procs[i]);
	for (size_t i = 0; i < set.nshapes; i++) {
		json_decref(set.shapes[i].ev);
		free(set.shapes[i].key);
	}
	for (size_t i = 0; i < set.nfiles; i++) {
		if (set.files[i].tmp)
			unlink(set.files[i].tmp);
		free(set.files[i].tmp);
		free(set.files[i].ck);
	}
	for (size_t i = 0; i < ls->nfiles; i++)
		free(ls->files[i]);
	if (set.fd >= 0)
		close(set.fd);
	free(set.shapes);
	free(set.chain);
	for (size_t i = 0; i < set.npool; i++)
		free(set.pool[i]);
	free(set.pool);
	free(set.pool_chain);
	tool_index_free(&set.pool_ix);
	free(set.files);
	tool_index_free(&set.by_hash);
	memset(&set, 0, sizeof set);
	set.fd = -1;
	if (ls->ev)
		munmap(ls->ev, ls->cap * sizeof *ls->ev);
	free(ls->procs);
	free(ls->evidence);
	tool_index_free(&ls->proc_by_pid);
	free(ls->files);
	memset(ls, 0, sizeof *ls);
}

/* ---- tool_index ---- */

static size_t ix_hash(long long key, size_t cap)
{
	unsigned long long h = (unsigned long long)key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

bool tool_index_get(const struct tool_index *ix, long long key, size_t *val)
{
	if (!ix->cap)
		return false;
	for (size_t i = ix_hash(key, ix->cap); ix->used[i]; i = (i + 1) & (ix->cap - 1))
		if (ix->keys[i] == key) {
			*val = ix->vals[i];
			return true;
		}
	return false;
}

static void ix_set(struct tool_index *ix, long long key, size_t val)
{
	size_t i = ix_hash(key, ix->cap);

	while (ix->used[i] && ix->keys[i] != key)
		i = (i + 1) & (ix->cap - 1);
	if (!ix->used[i])
		ix->n++;
	ix->used[i] = 1;
	ix->keys[i] = key;
	ix->vals[i] = val;
}

void tool_index_put(struct tool_index *ix, long long key, size_t val)
{
	if (2 * (ix->n + 1) > ix->cap) {
		struct tool_index old = *ix;

		ix->cap = old.cap ? old.cap * 2 : 8;
		ix->n = 0;
		ix->keys = tool_xmalloc(ix->cap * sizeof *ix->keys);
		ix->vals = tool_xmalloc(ix->cap * sizeof *ix->vals);
		ix->used = tool_xcalloc(ix->cap, 1);
		for (size_t i = 0; i < old.cap; i++)
			if (old.used[i])
				ix_set(ix, old.keys[i], old.vals[i]);
		tool_index_free(&old);
	}
	ix_set(ix, key, val);
}

void tool_index_free(struct tool_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	free(ix->used);
	memset(ix, 0, sizeof *ix);
}

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 4;     /* small: 100k processes have one thread each */
	if (*cap < need)
		*cap = need;
	arr = tool_xrealloc(arr, *cap * elem);
	return arr;
}


/* ---- shapes ---- */

/* The keys a command reads from tool_ev(), and nothing that differs from
 * one event to the next of the same kind.  thread_id is kept only where it
 * names a target (pthread_kill, pthread_sigqueue): elsewhere it names the
 * recording thread, which the set learns while reading. */
static const char *const shape_keys[] = {
	"event", "signalnum", "signame", "error", "violation", "policy", "finding",
	"truncated", "maybe_written", "seq_unknown", "main", "si_code", "exception", "from_tid",
	"to_tid", "target_tid", "target_tgid", "target_pid", "handler", "dropped",
	/* sigshim.start */
	"argv0", "exe", "forked", "ppid",
	/* sigshim.exit */
	"events", "dropped_bytes", "violations", "how", "status",
};

static unsigned long long hash_str(const char *s, int image)
{
	unsigned long long h = 1469598103934665603ULL ^ (unsigned)image;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void key_put(struct keybuf *k, const char *s, size_t n)
{
	k->s = grow(k->s, &k->cap, k->n + n + 1, 1);
	memcpy(k->s + k->n, s, n);
	k->n += n;
	k->s[k->n] = '\0';
}

/* A value in the key: type letter, length, bytes; so no two different
 * values spell the same key. */
static void key_value(struct keybuf *k, char tag, json_t *v)
{
	char num[48];
	const char *s = NULL;
	char *dump = NULL;
	size_t n = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		s = num;
		break;
	case JSON_TRUE: s = "t"; n = 1; break;
	case JSON_FALSE: s = "f"; n = 1; break;
	case JSON_NULL: s = "n"; n = 1; break;
	default:
		dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		s = dump ? dump : "?";
		n = strlen(s);
		break;
	}
	char head[48];

	snprintf(head, sizeof head, "%c%c%zu:", tag,
		 "oasirtfn?"[json_typeof(v) < 8 ? json_typeof(v) : 8], n);
	key_put(k, head, strlen(head));
	key_put(k, s, n);
	free(dump);
}

/* What the shape of ev would hold, as a string: built without the shape
 * itself, which is made only when the key is new (most lines repeat one). */
static void shape_key(struct keybuf *k, json_t *ev, const char *name)
{
	json_t *act = json_object_get(ev, "act");

	k->n = 0;
	key_put(k, "", 0);
	for (size_t i = 0; i < sizeof shape_keys / sizeof shape_keys[0]; i++) {
		json_t *v = json_object_get(ev, shape_keys[i]);

		if (v)
			key_value(k, (char)('A' + i), v);
	}
	if (json_is_object(act)) {
		json_t *h = json_object_get(act, "handler");

		key_put(k, "{", 1);
		if (h)
			key_value(k, '}', h);
	} else if (act) {
		key_value(k, '~', act);
	}
	if (name && tool_event_kind(name) == TOOL_K_SEND && strstr(name, "pthread_") &&
	    json_object_get(ev, "thread_id"))
		key_value(k, '|', json_object_get(ev, "thread_id"));
}

/* The shape a key spells (shape_key's inverse): made on the reading
 * thread, from the key alone, when the key is new. */
static json_t *shape_of_key(const char *k)
{
	json_t *r = json_object(), *act = NULL;

	if (!r)
		tool_oom(sizeof *r);
	while (*k) {
		char tag = *k++, type;
		unsigned long n;
		char *end;
		json_t *v;

		if (tag == '{') {
			act = json_object();
			json_object_set_new(r, "act", act);
			continue;
		}
		type = *k++;
		n = strtoul(k, &end, 10);
		k = end + 1;    /* past ':' */
		switch (type) {
		case 's': v = json_stringn(k, n); break;
		case 'i': v = json_integer(strtoll(k, NULL, 10)); break;
		case 't': v = json_true(); break;
		case 'f': v = json_false(); break;
		case 'n': v = json_null(); break;
		default: {
			char *text = strndup(k, n);

			v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
			free(text);
		}
		}
		k += n;
		if (!v)
			continue;
		if (tag == '}' && act)
			json_object_set_new(act, "handler", v);
		else if (tag == '~')
			json_object_set_new(r, "act", v);
		else if (tag == '|')
			json_object_set_new(r, "thread_id", v);
		else if (tag >= 'A' && (size_t)(tag - 'A') < sizeof shape_keys / sizeof shape_keys[0])
			json_object_set_new(r, shape_keys[tag - 'A'], v);
		else
			json_decref(v);
	}
	return r;
}

static uint32_t intern(const char *k, int image)
{
	char *key;
	json_t *r;
	long long h;
	size_t at, id;

	h = (long long)hash_str(k, image);
	if (tool_index_get(&set.by_hash, h, &at))
		for (id = at; id != (size_t)-1; id = set.chain[id] - 1)
			if (set.shapes[id].image == image && strcmp(set.shapes[id].key, k) == 0)
				return (uint32_t)id;
	r = shape_of_key(k);
	key = tool_xstrdup(k);
	if (set.nshapes == UINT32_MAX)
		tool_oom(0);    /* 4G distinct shapes: no index left */
	if (set.nshapes == set.shapecap) {
		set.shapecap = set.shapecap ? set.shapecap * 2 : 256;
		set.shapes = tool_xrealloc(set.shapes, set.shapecap * sizeof *set.shapes);
		set.chain = tool_xrealloc(set.chain, set.shapecap * sizeof *set.chain);
	}
	id = set.nshapes++;
	set.shapes[id] = (struct shape){.ev = r, .image = image, .key = key,
					.name = tool_json_str(r, "event")};
	set.chain[id] = tool_index_get(&set.by_hash, h, &at) ? at + 1 : 0;
	tool_index_put(&set.by_hash, h, id);
	return (uint32_t)id;
}

json_t *tool_ev(const struct tool_event *e)
{
	return set.shapes[e->shape].ev;
}

const char *tool_ename(const struct tool_event *e)
{
	return set.shapes[e->shape].name;
}

int tool_eimage(const struct tool_event *e)
{
	return set.shapes[e->shape].image;
}

const struct tool_event *tool_pev(const struct tool_proc *p, size_t i)
{
	return &set.ls->ev[p->first + i];
}

/* ---- reading lines back ---- */

const char *tool_event_file(const struct tool_event *e)
{
	return set.files[e->file].name;
}

static int file_fd(uint32_t file)
{
	if (set.fd >= 0 && set.fd_file == file)
		return set.fd;
	if (set.fd >= 0)
		close(set.fd);
	set.fd = open(set.files[file].path, O_RDONLY | O_CLOEXEC);
	set.fd_file = file;
	return set.fd;
}

static void changed(const struct tool_event *e)
{
	if (!set.warned_changed)
		fprintf(stderr, "sigaudit: %s: the file changed while it was read: "
			"some details are missing\n", tool_event_file(e));
	set.warned_changed = true;
}

json_t *tool_event_load(const struct tool_event *e)
{
	size_t len = e->where & ((1u << LEN_BITS) - 1);
	off_t off = (off_t)(e->where >> LEN_BITS);
	char *buf = tool_xmalloc(len + 1);
	int fd = file_fd(e->file);
	json_t *ev = NULL;
	long long seq, pid;

	if (fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len)
		ev = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!ev || !tool_json_int(ev, "seq", &seq) || seq != e->seq ||
	    !tool_json_int(ev, "pid", &pid) || pid != e->pid) {
		json_decref(ev);
		changed(e);
		return NULL;
	}
	return ev;
}

long tool_event_line(const struct tool_event *e)
{
	const struct file_meta *f = &set.files[e->file];
	long long off = (long long)(e->where >> LEN_BITS), at;
	size_t lo = 0, hi = f->nck;
	long line;
	char buf[65536];
	int fd;

	while (hi - lo > 1) {       /* the last checkpoint at or before off */
		size_t mid = lo + (hi - lo) / 2;

		if (f->ck[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (!f->nck)
		return 0;
	line = f->ck[lo].line;
	at = f->ck[lo].off;
	fd = file_fd(e->file);
	while (fd >= 0 && at < off) {
		size_t want = off - at < (long long)sizeof buf ? (size_t)(off - at) : sizeof buf;
		ssize_t n = pread(fd, buf, want, at);

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			line += buf[i] == '\n';
		at += n;
	}
	return line;
}

/* ---- reading ---- */

/* The events array is most of the memory: grown in place by the kernel
 * (mremap), never copied by realloc, which at the peak of a copy holds the
 * old array and the new one (measured: +25 % of RSS on a 900 MB log). */
static void grow_events(struct tool_logset *ls)
{
	size_t cap = ls->cap ? ls->cap * 2 : 65536;
	void *p = ls->ev ? mremap(ls->ev, ls->cap * sizeof *ls->ev, cap * sizeof *ls->ev,
				  MREMAP_MAYMOVE) :
		  mmap(NULL, cap * sizeof *ls->ev, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "sigaudit: out of memory for %zu events\n", cap);
		tool_oom(cap * sizeof *ls->ev);
	}
	ls->ev = p;
	ls->cap = cap;
}

struct reader {
	struct tool_logset *ls;
	uint32_t file;
	struct logread_stats *st;
};

/* What a worker makes of a line (digest), for the reading thread (take). */
struct rec {
	const char *key;        /* its shape's key, in the batch's arena */
	long long pid, tid, seq, ts;
	long long thread_id, caller_thread_id, latency;
	bool has_thread_id, has_caller, has_latency;
	/* sigshim.start: */
	bool is_start, has_ppid, has_main_id;
	long long ppid, main_thread_id;
	/* sigshim.module (a whole one: path and base): strings in the arena.
	 * No JSON crosses threads: a tree freed on another thread costs
	 * malloc's arena locks (100k processes' module lines: 8 s). */
	bool is_module;
	const char *mod_path, *mod_build_id;
	uint64_t mod_bias, mod_start, mod_end;
};

static struct tool_proc *find_or_add_proc(struct tool_logset *ls, long long pid);
static void add_to_proc(struct tool_logset *ls, struct tool_event *e, const struct rec *r);

static void checkpoint(struct file_meta *f, long line, long long off)
{
	if (line < f->next_ck)
		return;
	f->ck = grow(f->ck, &f->ckcap, f->nck + 1, sizeof *f->ck);
	f->ck[f->nck++] = (struct ckpt){.off = off, .line = line};
	f->next_ck = line + CKPT_EVERY;
}

static bool in_i32(long long v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* On any thread: touches nothing but ev, the record and the arena. */
static void digest(json_t *ev, void *out, struct logread_arena *a, void *ud)
{
	struct rec *r = out;
	const char *name = tool_json_str(ev, "event");
	struct keybuf k = {0};

	*r = (struct rec){0};
	tool_json_int(ev, "pid", &r->pid);
	tool_json_int(ev, "tid", &r->tid);
	tool_json_int(ev, "seq", &r->seq);
	tool_json_int(ev, "ts", &r->ts);
	r->has_thread_id = tool_json_int(ev, "thread_id", &r->thread_id);
	r->has_caller = tool_json_int(ev, "caller_thread_id", &r->caller_thread_id);
	r->has_latency = tool_event_kind(name) == TOOL_K_HANDLE &&
			 tool_json_int(ev, "latency_ns", &r->latency);
	if (strcmp(name, "sigshim.start") == 0) {
		r->is_start = true;
		r->has_ppid = tool_json_int(ev, "ppid", &r->ppid);
		r->has_main_id = tool_json_int(ev, "main_thread_id", &r->main_thread_id);
	} else if (strcmp(name, "sigshim.module") == 0) {
		const char *path = tool_json_str(ev, "path"), *bid = tool_json_str(ev, "build_id");

		if (path && tool_parse_addr(tool_json_str(ev, "base"), &r->mod_bias)) {
			r->is_module = true;
			tool_parse_addr(tool_json_str(ev, "start"), &r->mod_start);
			tool_parse_addr(tool_json_str(ev, "end"), &r->mod_end);
			r->mod_path = tool_logread_arena_strdup(a, path, strlen(path));
			r->mod_build_id = bid ? tool_logread_arena_strdup(a, bid, strlen(bid)) : NULL;
		}
	}
	shape_key(&k, ev, name);
	r->key = tool_logread_arena_strdup(a, k.s, k.n);
	free(k.s);
}

static void drop(void *rec, void *ud)
{
	(void)rec;      /* nothing a record holds outlives its batch's arena */
}

/* On the reading thread, in file order. */
static int take(void *rec, const char *file, long line, void *ud)
{
	struct reader *rd = ud;
	struct tool_logset *ls = rd->ls;
	struct rec *r = rec;
	struct tool_event *e;
	struct tool_proc *p;
	bool start;

	if (!in_i32(r->pid) || !in_i32(r->tid) || rd->st->line_off >> OFF_BITS) {
		fprintf(stderr, "%s:%ld: %s\n", file, line, rd->st->line_off >> OFF_BITS ?
			"beyond 1 TiB into the file: not read" : "pid or tid out of range");
		ls->bad_lines++;
		return 0;
	}
	if (ls->n >= UINT32_MAX) {
		fprintf(stderr, "sigaudit: more than %u events: the rest is not read\n",
			UINT32_MAX);
		return 1;
	}
	checkpoint(&set.files[rd->file], line, rd->st->line_off);
	p = find_or_add_proc(ls, r->pid);
	start = r->is_start;
	if (start && p->images < 65535)
		p->images++;
	if (ls->n == ls->cap)
		grow_events(ls);
	e = &ls->ev[ls->n++];
	*e = (struct tool_event){
		.pid = (int32_t)r->pid, .tid = (int32_t)r->tid, .file = rd->file,
		.seq = r->seq, .ts = r->ts,
		.where = (uint64_t)rd->st->line_off << LEN_BITS | rd->st->line_len,
		.shape = intern(r->key, p->images),
	};
	add_to_proc(ls, e, r);
	return 0;
}

/* Malformed lines are said and skipped: one bad line must not hide the rest. */
static void on_error(const char *file, long line, const char *why, void *ud)
{
	fprintf(stderr, "%s:%ld: %s\n", file, line, why);
}

/* stdin cannot be read twice: copy it to an unlinked-at-free temporary. */
static char *copy_stdin(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL, buf[65536];
	size_t n;
	int fd;

	if (asprintf(&path, "%s/sigaudit-stdin-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
		tool_oom(0);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sigaudit: cannot copy stdin to %s: %s\n", path, strerror(errno));
		free(path);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		if (write(fd, buf, n) != (ssize_t)n) {
			fprintf(stderr, "sigaudit: cannot copy stdin to %s: %s\n", path,
				strerror(errno));
			close(fd);
			unlink(path);
			free(path);
			return NULL;
		}
	close(fd);
	return path;
}

static int read_one(struct tool_logset *ls, const char *path)
{
	struct logread_stats st = {0};
	bool is_stdin = strcmp(path, "-") == 0;
	char *name = tool_xstrdup(is_stdin ? "<stdin>" : path);
	struct reader r = {.ls = ls, .st = &st};
	struct file_meta *f;
	int rc;

	ls->files = tool_xrealloc(ls->files, (ls->nfiles + 1) * sizeof *ls->files);
	set.files = tool_xrealloc(set.files, (set.nfiles + 1) * sizeof *set.files);
	ls->files[ls->nfiles++] = name;
	r.file = (uint32_t)set.nfiles;
	f = &set.files[set.nfiles++];
	*f = (struct file_meta){.name = name, .path = name};
	if (is_stdin) {
		f->tmp = copy_stdin();
		if (!f->tmp) {
			ls->io_errors++;
			return -EIO;
		}
		f->path = f->tmp;
	}
	{
		struct logread_digest d = {
			.rec_size = sizeof(struct rec), .digest = digest, .take = take,
			.drop = drop, .on_error = on_error, .error_ud = &r,
		};

		rc = tool_logread_file_digest(f->path, &d, &r, &st);
	}
	ls->lines += st.lines;
	ls->bad_lines += st.errors;
	if (rc < 0) {
		fprintf(stderr, "sigaudit: %s: %s\n", path, strerror(-rc));
		ls->io_errors++;
	}
	return rc;
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int tool_logset_add_arg(struct tool_logset *ls, const char *arg)
{
	glob_t g;
	int rc = 0;

	if (strcmp(arg, "-") == 0 || !has_glob_chars(arg))
		return read_one(ls, arg);
	if (glob(arg, GLOB_ERR, NULL, &g) != 0) {
		fprintf(stderr, "sigaudit: %s: no file matches\n", arg);
		ls->io_errors++;
		return -ENOENT;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (read_one(ls, g.gl_pathv[i]) < 0)
			rc = -EIO;
	globfree(&g);
	return rc;
}

/* ---- grouping per process ---- */

static struct tool_proc *find_or_add_proc(struct tool_logset *ls, long long pid)
{
	struct tool_proc *p;
	size_t at;

	if (tool_index_get(&ls->proc_by_pid, pid, &at))
		return (struct tool_proc *)at;
	p = tool_xcalloc(1, sizeof *p);
	p->pid = pid;
	p->ppid = -1;
	p->t_first = INT64_MAX;
	p->t_last = INT64_MIN;
	ls->procs = grow(ls->procs, &ls->proccap, ls->nprocs + 1, sizeof *ls->procs);
	ls->procs[ls->nprocs++] = p;
	tool_index_put(&ls->proc_by_pid, pid, (size_t)p);
	return p;
}

/* The files a process came from, by index: the last one is checked
 * first (events come file by file), the names are joined when printed. */
static void add_file(struct tool_proc *p, uint32_t file)
{
	if (p->nfiles && p->file_ix[p->nfiles - 1] == file)
		return;
	for (size_t i = 0; i < p->nfiles; i++)
		if (p->file_ix[i] == file)
			return;
	p->file_ix = grow(p->file_ix, &p->filecap, p->nfiles + 1, sizeof *p->file_ix);
	p->file_ix[p->nfiles++] = file;
}

const char *tool_proc_files(const struct tool_proc *p, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->nfiles && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "",
				       set.files[p->file_ix[i]].name);
	return buf;
}

/* Module paths and build ids repeat in every process of a tree: pooled,
 * one copy each, freed with the set. */
static char *pooled(const char *s)
{
	long long h = (long long)hash_str(s, 0);
	size_t at;

	if (tool_index_get(&set.pool_ix, h, &at))
		for (size_t id = at; id != (size_t)-1; id = set.pool_chain[id] - 1)
			if (strcmp(set.pool[id], s) == 0)
				return set.pool[id];
	if (set.npool == set.poolcap) {
		set.poolcap = set.poolcap ? set.poolcap * 2 : 64;
		set.pool = tool_xrealloc(set.pool, set.poolcap * sizeof *set.pool);
		set.pool_chain = tool_xrealloc(set.pool_chain, set.poolcap * sizeof *set.pool_chain);
	}
	set.pool[set.npool] = tool_xstrdup(s);
	set.pool_chain[set.npool] = tool_index_get(&set.pool_ix, h, &at) ? at + 1 : 0;
	tool_index_put(&set.pool_ix, h, set.npool);
	return set.pool[set.npool++];
}

static void add_module(struct tool_proc *p, const struct rec *r)
{
	struct tool_module m = {.bias = r->mod_bias, .start = r->mod_start, .end = r->mod_end};

	if (!r->is_module)
		return;
	m.path = pooled(r->mod_path);
	if (r->mod_build_id) {
		char low[256];
		size_t i = 0;

		for (; r->mod_build_id[i] && i + 1 < sizeof low; i++) {
			char c = r->mod_build_id[i];

			low[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
		}
		low[i] = '\0';
		m.build_id = pooled(low);
	}
	p->mods = grow(p->mods, &p->modcap, p->nmods + 1, sizeof *p->mods);
	p->mods[p->nmods++] = m;
}

static void note_lifecycle(struct tool_proc *p, struct tool_event *e, const struct rec *r)
{
	const char *name = tool_ename(e);
	long long lat = r->latency;

	if (strcmp(name, "sigshim.start") == 0) {
		p->start = tool_ev(e);
		if (r->has_ppid)
			p->ppid = r->ppid;
	} else if (strcmp(name, "sigshim.exit") == 0) {
		p->exit = tool_ev(e);
	} else if (strcmp(name, "sigshim.module") == 0) {
		add_module(p, r);
	} else if (r->has_latency) {
		p->lat_min = p->lat_n && p->lat_min < lat ? p->lat_min : lat;
		p->lat_max = p->lat_n && p->lat_max > lat ? p->lat_max : lat;
		p->lat_sum = tool_sat_add(p->lat_sum, lat);
		p->lat_n++;
	}
}

/* Most processes have a few threads: those are searched, and the indices
 * exist only past SMALL_THREADS (100k processes of one thread each paid
 * two hash tables apiece). */
#define SMALL_THREADS 8

/* The first thread (lowest index) whose tid, or thread_id, is key: by its
 * index once the process has one, else by a search. */
static bool find_thread(const struct tool_proc *p, bool by_id, long long key, size_t *at)
{
	if (p->thr_by_tid.cap)
		return tool_index_get(by_id ? &p->thr_by_id : &p->thr_by_tid, key, at);
	for (size_t i = 0; i < p->nthreads; i++)
		if ((by_id ? p->threads[i].thread_id : p->threads[i].tid) == key) {
			*at = i;
			return true;
		}
	return false;
}

bool tool_proc_thread(const struct tool_proc *p, long long tid, size_t *at)
{
	return find_thread(p, false, tid, at);
}

static void index_thread_id(struct tool_proc *p, size_t i)
{
	size_t at;
	long long id = p->threads[i].thread_id;

	if (id && (!tool_index_get(&p->thr_by_id, id, &at) || at > i))
		tool_index_put(&p->thr_by_id, id, i);
}

static struct tool_thread *get_thread(struct tool_proc *p, long long tid)
{
	size_t at;

	if (tool_proc_thread(p, tid, &at))
		return &p->threads[at];
	p->threads = grow(p->threads, &p->thrcap, p->nthreads + 1, sizeof *p->threads);
	p->threads[p->nthreads] = (struct tool_thread){.tid = tid};
	if (p->thr_by_tid.cap) {
		tool_index_put(&p->thr_by_tid, tid, p->nthreads);
	} else if (p->nthreads + 1 > SMALL_THREADS) {   /* from now on, indexed */
		for (size_t i = 0; i <= p->nthreads; i++) {
			tool_index_put(&p->thr_by_tid, p->threads[i].tid, i);
			index_thread_id(p, i);
		}
	}
	return &p->threads[p->nthreads++];
}

/* thread_id is learnt once per thread: index it then (first tid wins, as
 * the list search did). */
static void set_thread_id(struct tool_proc *p, struct tool_thread *t, long long id)
{
	t->thread_id = id;
	if (p->thr_by_tid.cap)
		index_thread_id(p, (size_t)(t - p->threads));
}

/* thread_id names the recording thread except where it names a target
 * (pthread_kill, pthread_sigqueue, forwarded): only learn from the others. */
static void learn_thread(struct tool_proc *p, struct tool_event *e, const struct rec *r)
{
	struct tool_thread *t = get_thread(p, e->tid);
	const char *name = tool_ename(e);
	long long id;

	t->events++;
	if (strcmp(name, "sigshim.start") == 0 &&
	    r->has_main_id && (id = r->main_thread_id, true)) {
		t = get_thread(p, p->pid);   /* may move the threads array */
		set_thread_id(p, t, id);
		t = get_thread(p, e->tid);
	}
	if (r->has_caller)
		set_thread_id(p, t, r->caller_thread_id);
	if (!r->has_thread_id || t->thread_id)
		return;
	id = r->thread_id;
	if (strcmp(name, "signal.pthread_kill") != 0 &&
	    strcmp(name, "signal.pthread_sigqueue") != 0 &&
	    strcmp(name, "signal.forwarded") != 0)
		set_thread_id(p, t, id);
}

static void add_to_proc(struct tool_logset *ls, struct tool_event *e, const struct rec *r)
{
	struct tool_proc *p = find_or_add_proc(ls, e->pid);

	p->n++;
	if (e->ts < p->t_first)
		p->t_first = e->ts;
	if (e->ts > p->t_last)
		p->t_last = e->ts;
	add_file(p, e->file);
	note_lifecycle(p, e, r);
	learn_thread(p, e, r);
}

static int cmp_ll(long long a, long long b)
{
	return a < b ? -1 : a > b;
}

static int cmp_event(const struct tool_event *x, const struct tool_event *y)
{
	int ix = tool_eimage(x), iy = tool_eimage(y);

	if (ix != iy)
		return ix < iy ? -1 : 1;
	if (cmp_ll(x->seq, y->seq))
		return cmp_ll(x->seq, y->seq);
	if (cmp_ll(x->ts, y->ts))
		return cmp_ll(x->ts, y->ts);
	if (x->file != y->file)         /* then reading order: a total order */
		return x->file < y->file ? -1 : 1;
	return x->where < y->where ? -1 : x->where > y->where;
}

static void swap_ev(struct tool_event *a, struct tool_event *b)
{
	struct tool_event t = *a;

	*a = *b;
	*b = t;
}

static void sift_down(struct tool_event *a, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && cmp_event(&a[child], &a[child + 1]) < 0)
			child++;
		if (cmp_event(&a[root], &a[child]) >= 0)
			return;
		swap_ev(&a[root], &a[child]);
	}
}

/* In place (qsort takes a copy as large as the array: a second array of
 * events at the peak), and n log n whatever order a hostile log has. */
static void sort_events(struct tool_event *a, size_t n)
{
	bool sorted = true;

	for (size_t i = 1; i < n && sorted; i++)   /* the usual case: one writer */
		sorted = cmp_event(&a[i - 1], &a[i]) <= 0;
	if (sorted)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (size_t end = n; end-- > 1;) {
		swap_ev(&a[0], &a[end]);
		sift_down(a, 0, end);
	}
}

static int cmp_proc(const void *a, const void *b)
{
	const struct tool_proc *x = *(struct tool_proc *const *)a;
	const struct tool_proc *y = *(struct tool_proc *const *)b;

	return cmp_ll(x->t_first, y->t_first) ? cmp_ll(x->t_first, y->t_first) :
	       cmp_ll(x->pid, y->pid);
}

static size_t rank_of(const struct tool_logset *ls, const struct tool_event *e)
{
	return ((struct tool_proc *)tool_logset_proc(ls, e->pid))->first;   /* rank kept here */
}

/* Group the events process by process, in place: each one is swapped into
 * its process's range (a cycle-leader permutation, no second array). */
static void group_in_place(struct tool_logset *ls)
{
	size_t *next = tool_xmalloc((ls->nprocs + 1) * sizeof *next);
	size_t *end = tool_xmalloc((ls->nprocs + 1) * sizeof *end);

	next[0] = 0;
	for (size_t r = 0; r < ls->nprocs; r++) {
		end[r] = next[r + 1] = next[r] + ls->procs[r]->n;
		ls->procs[r]->first = r;        /* its rank, for rank_of, until below */
	}
	for (size_t r = 0; r < ls->nprocs; r++)
		while (next[r] < end[r]) {      /* next[r] walks range r */
			size_t to = rank_of(ls, &ls->ev[next[r]]);

			if (to == r)
				next[r]++;
			else
				swap_ev(&ls->ev[next[r]], &ls->ev[next[to]++]);
		}
	for (size_t r = 0; r < ls->nprocs; r++)
		ls->procs[r]->first = end[r] - ls->procs[r]->n;
	free(next);
	free(end);
}

void tool_logset_finish(struct tool_logset *ls)
{
	size_t len = 0;
	/* only check gates on the evidence; it is read in reading order:
	 * before the grouping */
	FILE *out = ls->want_evidence ? open_memstream(&ls->evidence, &len) : NULL;

	if (ls->want_evidence && !out)
		tool_oom(0);
	if (out)
		ls->missing = tool_evidence_check(ls, out);
	ls->t0 = INT64_MAX;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->ev[i].ts < ls->t0)
			ls->t0 = ls->ev[i].ts;
	if (ls->n == 0)
		ls->t0 = 0;
	if (ls->nprocs)     /* qsort(NULL, 0) is undefined */
		qsort(ls->procs, ls->nprocs, sizeof *ls->procs, cmp_proc);
	group_in_place(ls);
	for (size_t i = 0; i < ls->nprocs; i++) {
		struct tool_proc *p = ls->procs[i];

		sort_events(&ls->ev[p->first], p->n);
		p->parent = (struct tool_proc *)tool_logset_proc(ls, p->ppid);
	}
	if (out) {
		ls->missing += tool_evidence_seq(ls, out);
		fclose(out);
	}
}

const struct tool_proc *tool_logset_proc(const struct tool_logset *ls, long long pid)
{
	size_t at;

	return tool_index_get(&ls->proc_by_pid, pid, &at) ? (const struct tool_proc *)at : NULL;
}

long long tool_proc_tid_of(const struct tool_proc *p, long long thread_id)
{
	size_t at;

	if (p && thread_id == 0) {   /* 0 means "not known": never indexed */
		for (size_t i = 0; i < p->nthreads; i++)
			if (p->threads[i].thread_id == 0)
				return p->threads[i].tid;
		return -1;
	}
	return p && find_thread(p, true, thread_id, &at) ? p->threads[at].tid : -1;
}

const char *tool_thread_label(const struct tool_proc *p, long long tid,
			      char *buf, size_t len)
{
	long long id = 0;
	size_t at;

	if (tool_proc_thread(p, tid, &at))
		id = p->threads[at].thread_id;
	if (id)
		snprintf(buf, len, "tid %lld%s (thread_id %lld)", tid,
			 tid == p->pid ? " main" : "", id);
	else
		snprintf(buf, len, "tid %lld%s", tid, tid == p->pid ? " main" : "");
	return buf;
}
