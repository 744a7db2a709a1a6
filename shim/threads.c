/* async-signal-safe
 *
 * Per-thread facts: kernel tid (cached), main-thread test, and handler
 * nesting.  Python's rule, "main thread", is the thread whose tid equals
 * the pid: that also makes the forking thread the main thread of a child,
 * as in CPython. */
#include "config.h"

#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

SHIM_TLS int shim_busy;
static SHIM_TLS pid_t cached_tid;
static SHIM_TLS pid_t cached_tid_pid;

#define MAX_NEST 16
static SHIM_TLS uintptr_t handler_sp[MAX_NEST];
static SHIM_TLS int handler_depth;

pid_t shim_gettid(void)
{
	/* The pid check makes the cache right in a forked child, where the
	 * forking thread keeps its TLS but has a new tid. */
	if (cached_tid == 0 || cached_tid_pid != shim.pid) {
		cached_tid = (pid_t)syscall(SYS_gettid);
		cached_tid_pid = shim.pid;
	}
	return cached_tid;
}

/* The main thread's tid when it is not the primordial thread
 * (main_thread=first-installer chose another); 0: the pid. */
static atomic_int chosen_tid;
static atomic_int chosen;

pid_t shim_main_tid(void)
{
	pid_t t = atomic_load_explicit(&chosen_tid, memory_order_acquire);

	return t ? t : shim.pid;
}

bool shim_is_main_thread(void)
{
	return shim_gettid() == shim_main_tid();
}

/* main_thread=first-installer: the first thread to install a function
 * handler (not a runtime's) becomes the main thread.  True when this call
 * made the choice and it is not the primordial thread.  Ordinary context. */
bool shim_main_choose(void)
{
	int zero = 0;

	if (!shim.opt.main_first_installer || shim.opt.mode != SHIM_MODE_ENFORCE ||
	    atomic_load(&chosen) ||
	    !atomic_compare_exchange_strong(&chosen, &zero, 1))
		return false;
	if (shim_gettid() == shim.pid)
		return false;
	shim.main_thread = pthread_self();
	shim.main_thread_known = true;
	atomic_store_explicit(&chosen_tid, shim_gettid(), memory_order_release);
	return true;
}

/* A child's main thread is the forking thread (tid == pid), and the
 * choice was made in the parent. */
void shim_main_after_fork(void)
{
	atomic_store(&chosen_tid, 0);
}

static uintptr_t current_sp(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}

void shim_handler_enter(void)
{
	if (handler_depth < MAX_NEST)
		handler_sp[handler_depth] = current_sp();
	handler_depth++;
}

void shim_handler_leave(void)
{
	if (handler_depth > 0)
		handler_depth--;
}

/* Nesting is exact for handlers that return, and for those that leave by
 * longjmp/siglongjmp (interpose-jump.c pops them).  As a last guard, an
 * entry is stale once the stack pointer is above (older than) the
 * handler's frame: code running inside a handler is always below it, on
 * whatever stack the handler runs. */
bool shim_in_handler(void)
{
	uintptr_t sp = current_sp();

	while (handler_depth > 0) {
		int top = handler_depth <= MAX_NEST ? handler_depth - 1 : MAX_NEST - 1;

		if (sp <= handler_sp[top])
			return true;
		handler_depth--;
	}
	return false;
}

void shim_handler_unwind_to(uintptr_t target_sp)
{
	while (handler_depth > 0) {
		int top = handler_depth <= MAX_NEST ? handler_depth - 1 : MAX_NEST - 1;

		if (handler_sp[top] >= target_sp)
			return;
		handler_depth--;
	}
}
