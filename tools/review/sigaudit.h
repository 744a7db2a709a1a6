/* sigaudit internals shared by the commands: the loaded log set (events
 * grouped per process), event helpers, symbolization, suppressions, filters.
 * Non-static functions are prefixed tool_. */
#ifndef SIGSHIM_SIGAUDIT_H
#define SIGSHIM_SIGAUDIT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Exit codes, documented in docs/sigaudit.md. */
enum {
	TOOL_EXIT_OK = 0,
	TOOL_EXIT_VIOLATIONS = 1,
	TOOL_EXIT_USAGE = 2,
	TOOL_EXIT_INCOMPLETE = 3,   /* check: the logs prove that events are missing */
};

/* ---- is the evidence complete? (evidence.c) ---- */
struct tool_logset;
/* Findings (each said on out): lost lines, seq gaps, empty files, ...
 * Needs the events in reading order: tool_logset_finish runs it when
 * ls->want_evidence (check sets it) and keeps
 * what it said in ls->evidence, its count in ls->missing. */
long tool_evidence_check(const struct tool_logset *ls, FILE *out);
/* The seq gaps, exactly: on the events grouped and sorted per process. */
long tool_evidence_seq(const struct tool_logset *ls, FILE *out);

/* ---- the log set (logset.c) ---- */

/* One event as the set keeps it: 40 bytes, whatever the line held, so a
 * 1 GB log fits in a fraction of its size (issue 10: jansson objects for
 * every line cost ten times the input).  What commands read of an event's
 * fields comes from its shape, shared by every event with the same name,
 * signal, targets, handler, flags and image; the whole line is read back
 * from its file when it is needed (tool_event_load: list, check's stacks). */
struct tool_event {
	long long seq, ts;
	uint64_t where;         /* offset << 24 | length of its line in its file */
	int32_t pid, tid;       /* a line whose pid or tid is out of range is rejected */
	uint32_t file;          /* index in the set's files */
	uint32_t shape;         /* index in the shape table (tool_ev) */
};

/* What commands read of an event beyond its header is its shape: a JSON
 * object holding only the keys they use (logset.c: shape_keys), never the
 * per-event numbers (seq, ts, pid, tid, latency) nor the stack, interned so
 * that every event with the same name, signal, targets, handler, flags and
 * image shares one. */
/* The reduced fields of an event (borrowed, lives as long as the set). */
json_t *tool_ev(const struct tool_event *e);
const char *tool_ename(const struct tool_event *e);
int tool_eimage(const struct tool_event *e);
/* Name of the file the event came from, as given. */
const char *tool_event_file(const struct tool_event *e);
/* Its line number in that file (counted again from a nearby checkpoint). */
long tool_event_line(const struct tool_event *e);
/* The whole line, parsed again from its file: a new reference, or NULL when
 * the file changed since it was read (said once on stderr). */
json_t *tool_event_load(const struct tool_event *e);

/* Whether the event's thread was the main thread: its "main" field (the
 * shim's own judgement, which main_thread=first-installer may move off
 * the primordial thread), else tid == pid. */
int tool_event_on_main(const struct tool_event *e);

/* Arithmetic on numbers a log supplies (ts, seq): saturating, so that a
 * hostile or corrupt log cannot overflow. */
static inline long long tool_sat_sub(long long a, long long b)
{
	long long r;

	return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? LLONG_MAX : LLONG_MIN) : r;
}

static inline long long tool_sat_add(long long a, long long b)
{
	long long r;

	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? LLONG_MAX : LLONG_MIN) : r;
}

/* (a - b) ns in seconds, without integer overflow. */
static inline double tool_ns_diff_s(long long a, long long b)
{
	return ((double)a - (double)b) / 1e9;
}

/* s with control characters escaped for a terminal, in out (n bytes). */
const char *tool_escape(const char *s, char *out, size_t n);

/* An open-addressing map from a 64-bit key (pid, tid, pthread_t) to a
 * size_t: what keeps grouping linear in the number of events however many
 * processes and threads a log tree holds (the first version searched
 * lists: 100k tids took minutes, issue 10). */
struct tool_index {
	long long *keys;
	size_t *vals;
	unsigned char *used;
	size_t cap, n;
};
/* Sets *val and returns true when key is present. */
bool tool_index_get(const struct tool_index *ix, long long key, size_t *val);
void tool_index_put(struct tool_index *ix, long long key, size_t val);
void tool_index_free(struct tool_index *ix);

struct tool_module {
	char *path;
	uint64_t bias, start, end;
	char *build_id;         /* lower-case hex, NULL when the log said null */
};

struct tool_thread {
	long long tid;
	long long thread_id;    /* pthread_t, 0 until an event tells */
	long events;
};

struct tool_proc {
	long long pid, ppid;
	size_t first, n;        /* its events: ls->ev[first..first+n), sorted by
				 * image, seq, ts, then reading order */
	struct tool_module *mods;
	size_t nmods, modcap;
	json_t *start, *exit;   /* borrowed shapes of sigshim.start / sigshim.exit */
	long long lat_min, lat_max, lat_sum, lat_n;   /* signal.handled latency_ns */
	struct tool_proc *parent;   /* the process that forked this one, if logged */
	long long t_first, t_last;
	struct tool_thread *threads;    /* every tid seen, in order of appearance */
	size_t nthreads, thrcap;
	struct tool_index thr_by_tid, thr_by_id;   /* indices into threads */
	uint32_t *file_ix;      /* the files it came from (indices), in reading order */
	size_t nfiles, filecap;
	int images;             /* sigshim.start lines read (add_to_proc) */
};

struct tool_logset {
	struct tool_event *ev;  /* every event: in reading order until
				 * tool_logset_finish, then process by process */
	size_t n, cap;
	bool want_evidence;     /* set before reading: finish then fills these */
	char *evidence;         /* tool_evidence_check's findings, one per line */
	long missing;           /* how many */
	struct tool_proc **procs;   /* ordered by first timestamp */
	size_t nprocs, proccap;
	struct tool_index proc_by_pid;  /* pid -> struct tool_proc * */
	char **files;
	size_t nfiles;
	long lines, bad_lines;
	int io_errors;          /* files that could not be opened or read */
	long long t0;           /* earliest timestamp, for relative times */
};

/* Event i of a process, in its order. */
const struct tool_event *tool_pev(const struct tool_proc *p, size_t i);

/* One log set at a time: the shape table and the files are the process's. */
void tool_logset_init(struct tool_logset *ls);
void tool_logset_free(struct tool_logset *ls);
/* Read one argument: "-" (stdin), a file, or a glob pattern (expanded here
 * with glob(3) so that quoted patterns work).  Problems go to stderr. */
int tool_logset_add_arg(struct tool_logset *ls, const char *arg);
/* Group events per process; call once after the last add. */
void tool_logset_finish(struct tool_logset *ls);
const struct tool_proc *tool_logset_proc(const struct tool_logset *ls, long long pid);
/* The index of a thread in p->threads. */
bool tool_proc_thread(const struct tool_proc *p, long long tid, size_t *at);
/* "a.jsonl, b.jsonl": the files a process came from. */
const char *tool_proc_files(const struct tool_proc *p, char *buf, size_t len);
/* The kernel tid of a pthread_t in this process, or -1 when no event told. */
long long tool_proc_tid_of(const struct tool_proc *p, long long thread_id);
/* "tid 4243" plus "(main)" and the pthread_t when known. */
const char *tool_thread_label(const struct tool_proc *p, long long tid,
			      char *buf, size_t len);

/* ---- event helpers (event.c) ---- */

enum tool_kind {
	TOOL_K_OTHER,
	TOOL_K_LIFECYCLE,       /* sigshim.* */
	TOOL_K_INSTALL,         /* sigaction/signal family/sigset */
	TOOL_K_MASK,            /* sigprocmask, pthread_sigmask, sighold... */
	TOOL_K_SEND,            /* pthread_kill, kill, tgkill, raise, ... */
	TOOL_K_RECEIVE,
	TOOL_K_FORWARD,
	TOOL_K_HANDLE,
};

enum tool_kind tool_event_kind(const char *name);
bool tool_json_int(json_t *ev, const char *key, long long *out);
const char *tool_json_str(json_t *ev, const char *key);
bool tool_parse_addr(const char *s, uint64_t *out);
/* The handler an install event sets ("0x…", "SIG_DFL"...), or NULL for a
 * query or a non-install event. */
const char *tool_event_handler(json_t *ev);
/* signame field, or a name computed from signalnum; NULL when neither. */
const char *tool_event_signame(json_t *ev, char *buf, size_t len);
const char *tool_event_violation(json_t *ev);
/* Name to number: "SIGUSR1", "USR1", "usr1", "10", "SIGRTMIN+3".  -1 if not. */
int tool_signal_parse(const char *s);
const char *tool_signal_name(int sig, char *buf, size_t len);

/* ---- symbolization (symbolize.c) ---- */

struct tool_frame {
	uint64_t addr;          /* as logged */
	const char *func;       /* NULL when unknown */
	const char *file;       /* NULL when no line info */
	int line;
	const char *module;     /* logged module path, NULL when unmapped */
	uint64_t modoff;        /* addr - bias */
	char note[512];         /* why there is no symbol, when there is none */
};

struct tool_sym;
struct tool_sym *tool_sym_new(char *const *debug_dirs, size_t ndirs);
void tool_sym_free(struct tool_sym *s);
/* Resolve addr in the module map of proc (or of its parents).  A return
 * address is looked up at addr-1 so the call line, not the next one, shows. */
void tool_sym_lookup(struct tool_sym *s, const struct tool_proc *proc,
		     uint64_t addr, bool is_return, struct tool_frame *out);
/* "func file:line", "func (module+0x…)" or the note; for short listings. */
void tool_frame_describe(const struct tool_frame *f, char *buf, size_t len);
/* The stack of an event: its `pc` (exact) then its `bt` (return addresses). */
size_t tool_event_stack(struct tool_sym *s, const struct tool_proc *proc,
			json_t *ev, struct tool_frame *frames, size_t max);

/* ---- suppressions (suppress.c) ---- */

struct tool_supp;
/* NULL with a message on stderr when the file is unreadable or malformed. */
struct tool_supp *tool_supp_load(const char *path);
struct tool_supp *tool_supp_parse(const char *text, const char *name);
void tool_supp_free(struct tool_supp *s);
/* The matching suppression line ("rule:install-off-main"), or NULL. */
const char *tool_supp_match(struct tool_supp *s, json_t *ev,
			    const struct tool_frame *frames, size_t nframes);

/* ---- filters for list (filter.c) ---- */

struct tool_filter {
	const char *events[16];
	size_t nevents;
	int signals[16];
	size_t nsignals;
	long long threads[16];
	size_t nthreads;
	long long pids[16];
	size_t npids;
	bool violations;
};

/* Add one --event/--signal/--thread/--pid value; -1 when it does not parse
 * or there are too many. */
int tool_filter_add(struct tool_filter *f, char opt, const char *value);
/* On an event's whole line (tool_event_load). */
bool tool_filter_match(const struct tool_filter *f, json_t *ev);

/* ---- commands ---- */

int tool_cmd_summary(int argc, char **argv);
int tool_cmd_list(int argc, char **argv);
int tool_cmd_check(int argc, char **argv);
int tool_cmd_timeline(int argc, char **argv);

/* ---- check reports (report-*.c) ---- */

struct tool_violation {
	const struct tool_event *e;
	json_t *ev;                     /* its whole line (owned) */
	const struct tool_proc *proc;
	const char *rule;
	const char *suppressed_by;      /* NULL when it counts */
	struct tool_frame *frames;
	size_t nframes;
	const struct tool_frame *top;   /* first frame with source info, or NULL */
};

struct tool_report {
	struct tool_violation *v;
	size_t n;
	size_t unsuppressed;
	const struct tool_logset *ls;
};

void tool_report_text(FILE *out, const struct tool_report *r);
/* One violation, sanitizer style: WARNING line, stack, SUMMARY line. */
void tool_report_text_one(FILE *out, const struct tool_violation *v);
/* "rule file:line in func", or less when the stack has less. */
void tool_violation_where(const struct tool_violation *v, char *buf, size_t len);
void tool_report_sarif(FILE *out, const struct tool_report *r);
void tool_report_junit(FILE *out, const struct tool_report *r);
/* One-line description of an event's arguments, for list and reports. */
void tool_event_brief(json_t *ev, char *buf, size_t len);

/* ---- misc (util.c) ---- */

void tool_xml_escape(FILE *out, const char *s);
/* Shared argument loop: each non-option argument is a log. */
int tool_load_logs(struct tool_logset *ls, int argc, char **argv, int first);
/* Says that no log was named; returns TOOL_EXIT_USAGE. */
int tool_no_logs(void);

#endif
