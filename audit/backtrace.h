/* NOT async-signal-safe: libunwind allocates and locks, dl_iterate_phdr
 * takes the loader lock.  Used only from interposed calls made outside any
 * signal handler; handlers record just the interrupted PC. */
#ifndef SIGSHIM_BACKTRACE_H
#define SIGSHIM_BACKTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_BT_MAX 64

struct audit_module {
	char path[4096];           /* cut (path_truncated) only past PATH_MAX */
	bool path_truncated;
	uintptr_t base;            /* load bias */
	uintptr_t start, end;      /* lowest and highest mapped address */
	char build_id[2 * 40 + 1]; /* hex, "" when the object has none */
};

/* An address inside libunwind's code (to tell its own calls apart). */
uintptr_t audit_backtrace_text(void);

/* Warms libunwind up (its first call is slow and allocates). */
void audit_backtrace_init(void);

/* Return addresses of the caller's stack, innermost first, leaving out
 * frames inside [skip_lo, skip_hi) (the shim itself). */
int audit_backtrace(uintptr_t *pcs, int max, uintptr_t skip_lo, uintptr_t skip_hi);

/* Calls `emit` once per module, ever, for each module containing one of
 * `pcs` that has not been emitted before (so a reader always meets a
 * module line before the first address that points into it). */
void audit_modules_note(const uintptr_t *pcs, int n,
			void (*emit)(const struct audit_module *m, void *ud), void *ud);

/* The module containing `addr`: fills *m and returns 0, or -ENOENT. */
int audit_module_find(uintptr_t addr, struct audit_module *m);

/* Forget what was emitted (a forked child writes its own log). */
void audit_modules_reset(void);

#endif
