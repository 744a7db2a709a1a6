/* async-signal-safe
 *
 * longjmp and friends, so that a signal handler left by a jump (the usual
 * way out of a SIGSEGV handler) is known to be left: events after it must
 * not say "in_handler", and backtraces become safe again.  Nothing is
 * logged; the real function does the jump. */
#include "config.h"

#include <setjmp.h>

#include "shim.h"
#include "sink.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc x86_64 keeps the saved stack pointer in __jmpbuf[6] (JB_RSP),
 * mangled with the thread's pointer guard (%fs:0x30):
 * stored = rol(sp ^ guard, 0x11). */
static uintptr_t target_sp(const void *env)
{
	const unsigned long *jb = env;
	unsigned long v = jb[6], guard;

	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	v = (v >> 0x11) | (v << (64 - 0x11));
	return (uintptr_t)(v ^ guard);
}

void shim_longjmp(void *env, int val) __asm__("longjmp");
void shim__longjmp(void *env, int val) __asm__("_longjmp");
void shim_siglongjmp(void *env, int val) __asm__("siglongjmp");
void shim___longjmp_chk(void *env, int val) __asm__("__longjmp_chk");

/* The mask the jump restores, saved by sigsetjmp(env, 1) (glibc's
 * struct __jmp_buf_tag { __jmpbuf; int __mask_was_saved; __saved_mask }),
 * or NULL when it restores none.  longjmp and siglongjmp are the same function in glibc; _longjmp never
 * restores. */
static const sigset_t *restored_mask(const void *env)
{
	const struct __jmp_buf_tag *b = env;

	return b->__mask_was_saved ? &b->__saved_mask : NULL;
}

#define JUMP(cname, real, may_restore) \
	EXPORT __attribute__((noreturn)) void cname(void *env, int val) \
	{ \
		shim_handler_unwind_to(target_sp(env)); \
		audit_sink_unwind_to(target_sp(env)); \
		shim_ev_unwind_to(target_sp(env)); \
		shim_drain_abandoned(may_restore ? restored_mask(env) : NULL); \
		REAL(real)(env, val); \
		__builtin_unreachable(); \
	}

JUMP(shim_longjmp, longjmp, true)
JUMP(shim__longjmp, _longjmp, false)
JUMP(shim_siglongjmp, siglongjmp, true)
JUMP(shim___longjmp_chk, __longjmp_chk, true)
