/* Deterministic transcripts for the helper programs.
 *
 * A helper prints every call it makes, its result and errno, and what its
 * signal handlers observed, to stdout.  Nothing in a transcript may depend
 * on ASLR, pids or timing: handlers are named, threads are named, masks are
 * sorted lists.  The run-specific values that the event tests need to match
 * log fields (function addresses, pthread_t values) go to stderr on lines
 * starting with '@', which the transparency test filters out. */
#ifndef SIGSHIM_TRANSCRIPT_H
#define SIGSHIM_TRANSCRIPT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SA_UNSUPPORTED
#define SA_UNSUPPORTED 0x00000400
#endif
#ifndef SA_EXPOSE_TAGBITS
#define SA_EXPOSE_TAGBITS 0x00000800
#endif

#define TR_MAX_NAME 64

/* Prints "@pid <pid>" on stderr; call first in main. */
void tr_init(void);

/* Formats one or more complete lines and writes them with one write(2). */
void tr_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line (the newline is added), one write(2): safe around fork, vfork
 * and exec, no lock (a vfork child must not take the parent's). */
void tr_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Names a handler (prints "@fn NAME 0xADDR" on stderr). */
void tr_name_fn(const char *name, void *fn);
#define TR_FN(f) tr_name_fn(#f, (void *)(f))

/* Names a thread (prints "@thread NAME <pthread_t as unsigned>" on stderr). */
void tr_name_thread(const char *name, pthread_t t);

/* Symbolic names, never addresses. */
const char *tr_handler(void *h);
const char *tr_thread_name(pthread_t t);
const char *tr_errname(int e);
const char *tr_signame(int sig);
const char *tr_sicode(int code);
/* "[2 10 12]": raw bits 1..64, so 32/33 show if present. */
char *tr_mask(const sigset_t *s, char *buf, size_t n);
/* "{h_usr1 flags=0x14000000 mask=[12 15]}" */
char *tr_act(const struct sigaction *a, char *buf, size_t n);
/* Set a raw bit (sigaddset refuses glibc's internal signals 32/33). */
void tr_set_raw(sigset_t *s, int sig);

/* The calling thread's current mask, printed as "  mask NAME [..]". */
void tr_show_mask(const char *label);

/* Handler observations (async-signal-safe recording, printed later). */
void tr_record(const char *handler, int sig, const siginfo_t *si);
/* Also records the thread's blocked mask inside the handler. */
void tr_record_mask(const char *handler, int sig, const siginfo_t *si);
/* Prints and clears every observation recorded so far. */
void tr_flush(void);
/* Number of observations recorded since start (atomic). */
int tr_count(void);
/* Waits (bounded, 10 s) until tr_count() >= n. */
int tr_wait_count(int n);

/* Result line: "NAME -> RET errno=ENAME" then pending observations. */
void tr_ret(const char *call, long ret, int err);
/* For pthread_* calls: the return is an error number; errno printed too. */
void tr_ret_pt(const char *call, int ret, int err);
/* For handler-returning calls. */
void tr_ret_h(const char *call, void *ret, int err);

/* Waits until thread `tid` is blocked in system call `nr` (reads
 * /proc/self/task/TID/syscall).  Returns 0, or -1 after 10 s. */
int tr_wait_in_syscall(pid_t tid, long nr);

pid_t tr_gettid(void);

#endif
