/* async-signal-safe (audit_sink_write and the counters; opening is not)
 *
 * The log file.  It lives inside a program that may close every descriptor
 * or dup2() over ours, so it sits at a high descriptor, close-on-exec, and
 * the shim's close/dup2/dup3/close_range/closefrom wrappers ask
 * audit_sink_claims() before touching a descriptor. */
#ifndef SIGSHIM_SINK_H
#define SIGSHIM_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/types.h>

struct audit_sink_stats {
	unsigned long long events;         /* lines written whole */
	unsigned long long dropped;        /* lines lost */
	unsigned long long dropped_bytes;
	int last_errno;                    /* why the last line was lost */
};

/* Descriptor numbers at or above this are where the log lives. */
#define AUDIT_SINK_FD_BASE 1000

/* Expands %p (pid) and %% in `tmpl` into `out`.  Returns 0 or -ENAMETOOLONG. */
int audit_sink_expand(const char *tmpl, pid_t pid, char *out, size_t outlen);

/* Opens the log: "stderr" means a duplicate of descriptor 2, anything else is
 * a path template.  Returns 0 or -errno; *path_out gets the expanded path. */
int audit_sink_open(const char *tmpl, char *path_out, size_t outlen);
/* Opens (creating, mode 0600) the log file at `path` by the safety rules
 * in sink.c; fd, or -errno with audit_sink_refusal() saying why when it
 * was a rule. */
int audit_sink_open_file(const char *path, int flags);
const char *audit_sink_refusal(void);
/* Remembers whether fd is a pipe or socket (writes then hold SIGPIPE). */
void audit_sink_note_kind(int fd);
/* Writes s to stderr without a cancellation point or SIGPIPE. */
void audit_stderr(const char *s);

/* Forgets the log without closing it (a forked child that must open its
 * own) or closes it (real close given, so the shim's wrapper is bypassed). */
void audit_sink_detach(int (*real_close)(int));

/* The log's descriptor (-1: no log).  Read on every interposed call, so
 * the test is inline. */
#include <stdatomic.h>
extern atomic_int audit_sink_fd_;
extern atomic_bool audit_sink_mapped_;

/* The log was lost (no descriptor to move it to): events are still
 * formatted, and counted as dropped. */
void audit_sink_lose(int err, int (*real_close)(int));
extern atomic_int audit_sink_lost_;   /* the errno it was lost with, or 0 */

static inline bool audit_sink_active(void)
{
	return atomic_load_explicit(&audit_sink_fd_, memory_order_relaxed) >= 0 ||
	       atomic_load_explicit(&audit_sink_mapped_, memory_order_relaxed) ||
	       atomic_load_explicit(&audit_sink_lost_, memory_order_relaxed);
}

/* sink=mmap (sink-map.c): a per-process file written through a shared
 * mapping, no descriptor kept.  Opens `tmpl` expanded; 0 or -errno. */
int audit_sink_open_mapped(const char *tmpl, char *path_out, size_t outlen);
/* At exit: cut a mapped log back to its content and stop logging. */
void audit_sink_finish(void);
/* The log file was deleted or replaced under us. */
bool audit_sink_vanished(void);

int audit_sinkmap_open(const char *path);
/* SIGBUS handler: the jump back into a copy that faulted on a cut file. */
#include <setjmp.h>
sigjmp_buf *audit_sinkmap_fault(const void *addr);
bool audit_sinkmap_write(const char *line, size_t len, int *err);
void audit_sinkmap_close(bool truncate_file);
/* A jump to `target_sp` abandons copies this thread began below it: they
 * are finished, and stop counting as in flight. */
void audit_sinkmap_unwind_to(uintptr_t target_sp);
void audit_sinkmap_after_fork(void);
bool audit_sinkmap_vanished(void);

int audit_sink_fd(void);

/* true when `fd` is the log's descriptor. */
bool audit_sink_claims(int fd);

/* Moves the log to another descriptor so the program can have `fd` (which
 * it is about to dup2() onto, replacing our old copy).  Waits for writes in
 * flight on the old one (other threads' only).  Returns 0 or -errno. */
int audit_sink_relocate(void);
/* Around a dup2()/dup3()/close() of fd: no relocation may pick fd until the
 * release (true when this call took the lock; sp: the caller's frame). */
bool audit_sink_hold(int fd, uintptr_t sp);
void audit_sink_release(bool held);

/* Writes one whole line, or counts it as dropped.  Returns true on success. */
bool audit_sink_write(const char *line, size_t len);

void audit_sink_stats(struct audit_sink_stats *out);
void audit_sink_reset_stats(void);
/* In a forked child: no writer of the parent's is in flight any more. */
void audit_sink_after_fork(void);
/* A jump to the frame at `target_sp` abandons the writes below it. */
void audit_sink_unwind_to(uintptr_t target_sp);
/* close(2) itself: the shim interposes close(), and the sink must not call
 * back into it. */
static inline void audit_raw_close(int fd)
{
	syscall(SYS_close, fd);
}

#endif
