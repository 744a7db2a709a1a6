/* async-signal-safe
 *
 * Turning the numbers of the signal API into the names the log shows:
 * signals, sa_flags, si_code, `how`, handlers, masks, errno. */
#ifndef SIGSHIM_DECODE_H
#define SIGSHIM_DECODE_H

#include <signal.h>
#include <stdint.h>

#include "jsonw.h"

/* Highest signal number the kernel knows on this ABI (64 on x86_64): the
 * one source of the number; shim.h's SHIM_NSIG (array size) derives from it. */
#define AUDIT_SIGMAX (_NSIG - 1)

/* The signals a faulting instruction raises (SIGSYS: seccomp's, at the
 * system call): with a kernel si_code they are synchronous, run where
 * received, and carry a fault address.  The one list. */
static inline bool audit_sig_is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGTRAP || sig == SIGSYS;
}

/* "SIGUSR1", "SIGRTMIN+3", "SIG32"; "?" for a number that names no signal.
 * `buf` needs 16 bytes; the result may point into it. */
const char *audit_signame(int sig, char *buf);

/* "SI_USER", "SEGV_MAPERR", …; NULL when the code has no name for `sig`. */
const char *audit_si_code_name(int sig, int code);

/* Which siginfo fields mean something for this (sig, code). */
enum {
	AUDIT_SI_SENDER = 1,   /* si_pid, si_uid */
	AUDIT_SI_VALUE = 2,    /* si_value */
	AUDIT_SI_ADDR = 4,     /* si_addr */
	AUDIT_SI_STATUS = 8,   /* si_status (SIGCHLD) */
};
unsigned audit_si_fields(int sig, int code);

/* "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK", or NULL for any other value. */
const char *audit_how_name(int how);

/* "EINVAL" for 22; NULL when unknown. */
const char *audit_errno_name(int err);

/* Writers of composite values into an event. */
void audit_jw_handler(struct jw *w, const char *key, uintptr_t handler);
void audit_jw_flags(struct jw *w, const char *key, unsigned long flags);
void audit_jw_sigset(struct jw *w, const char *key, const sigset_t *set);
/* One `struct sigaction` as {"handler","flags","mask"}; NULL -> null. */
void audit_jw_sigaction(struct jw *w, const char *key, const struct sigaction *sa);
/* `signalnum` and `signame` for one signal. */
void audit_jw_signal(struct jw *w, int sig);

#endif
