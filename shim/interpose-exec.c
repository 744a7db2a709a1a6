/* The exec family (mode=enforce): nothing of the shim's forwarding state
 * may reach the next image, and nothing queued may vanish unrecorded.  The
 * doorbells are never pending across an exec (they are never left
 * blocked), so what remains is the instances still queued for a main
 * thread that blocked their signal until now: each is logged as
 * signal.not_forwarded with "exception":"exec" and counted.
 *
 * glibc's execl/execv/execvp/... call its internal __execve, never the
 * PLT, so each entry point is wrapped; the variadic ones collect their
 * arguments on the stack as glibc does (no malloc: a vfork child may be
 * the caller).  A vfork child shares the parent's queues and must not
 * touch them. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

static void before_exec(void)
{
	int err = errno;

	if (shim_ready() && shim_doorbell_bits && !shim_busy && syscall(SYS_getpid) == shim.pid)
		shim_forward_drop_all("exec");
	errno = err;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	before_exec();
	return REAL(execve)(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	before_exec();
	return REAL(execve)(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	before_exec();
	return REAL(execvp)(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	before_exec();
	return REAL(execvpe)(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	before_exec();
	return REAL(fexecve)(fd, argv, envp);
}

/* The arguments after `arg0` up to the NULL, counted (glibc: E2BIG past
 * INT_MAX). */
static long count_args(va_list ap)
{
	long n = 1;

	while (va_arg(ap, char *) != NULL) {
		if (++n == 0x7fffffff) {
			errno = E2BIG;
			return -1;
		}
	}
	return n;
}

static void fill_args(char **argv, long n, const char *arg0, va_list ap)
{
	argv[0] = (char *)arg0;
	for (long i = 1; i <= n; i++)
		argv[i] = va_arg(ap, char *);   /* the last one read is the NULL */
}

#define COLLECT_ARGS(argv, arg0, last_named) \
	va_list ap, ap2; \
	long n; \
	va_start(ap, last_named); \
	va_copy(ap2, ap); \
	n = count_args(ap2); \
	va_end(ap2); \
	if (n < 0) { \
		va_end(ap); \
		return -1; \
	} \
	char **argv = __builtin_alloca((size_t)(n + 1) * sizeof *argv); \
	fill_args(argv, n, arg0, ap)

EXPORT int execl(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	va_end(ap);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	va_end(ap);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char **envp;

	COLLECT_ARGS(argv, arg, arg);
	envp = va_arg(ap, char **);
	va_end(ap);
	return execve(path, argv, envp);
}
