/* Small entry points that keep the shim's doorbells out of the program's
 * sight (mode=enforce) and track what the trampoline must not do.
 *  - __libc_current_sigrtmax, behind the SIGRTMAX macro: two lower, the
 *    top two real-time signals being the shim's (as glibc hides its own
 *    32 and 33 behind SIGRTMIN).
 *  - sigpending: a doorbell on its way to the main thread is not the
 *    program's pending signal.
 *  - system: glibc blocks SIGCHLD (and ignores SIGINT/SIGQUIT) inside,
 *    with its internal sigprocmask; a doorbell that arrived meanwhile
 *    found SIGCHLD blocked and left it queued, so main reads its mask
 *    again afterwards and rings for what it unblocked.
 *  - prctl: PR_SET_TSC with PR_TSC_SIGSEGV makes rdtsc trap, so the shim
 *    stops reading the clock through the vDSO (event.c). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

int __libc_current_sigrtmax(void);

EXPORT int __libc_current_sigrtmax(void)
{
	int max = REAL(__libc_current_sigrtmax)();

	return shim_doorbell_bits ? max - 2 : max;
}

EXPORT int sigpending(sigset_t *set)
{
	int r = REAL(sigpending)(set);

	if (r == 0 && shim_doorbell_bits)
		shim_hide_doorbells(set);
	return r;
}

EXPORT int system(const char *command)
{
	int r = REAL(system)(command);

	if (shim_ready() && shim_doorbell_bits)
		shim_mask_refresh();
	return r;
}

atomic_int shim_tsc_trapped;

/* glibc's prctl is variadic and passes four more words to the kernel
 * whatever the option; so does this. */
EXPORT int prctl(int option, ...)
{
	unsigned long a2, a3, a4, a5;
	va_list ap;
	int r;

	va_start(ap, option);
	a2 = va_arg(ap, unsigned long);
	a3 = va_arg(ap, unsigned long);
	a4 = va_arg(ap, unsigned long);
	a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (option == PR_SET_TSC && a2 == PR_TSC_SIGSEGV)
		atomic_store(&shim_tsc_trapped, 1);   /* before: the next read may trap */
	r = REAL(prctl)(option, a2, a3, a4, a5);
	return r;
}
