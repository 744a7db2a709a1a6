/* Deterministic transcripts for the helper programs (see transcript.h).
 * tr_record*() run in signal handlers: async-signal-safe, no locks. */
#include "transcript.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_FNS 32
#define MAX_THREADS 16
#define MAX_RECS 64

struct named_fn {
	const char *name;
	void *fn;
};

struct named_thread {
	char name[TR_MAX_NAME];
	pthread_t t;
};

struct rec {
	const char *handler;
	int sig;
	int has_info;
	int code;
	int from_self;
	uintptr_t value;
	const char *thread;
	int on_main;
	int has_mask;
	uint64_t mask;
	int status;
	uintptr_t addr;
	_Atomic int done;
};

static struct named_fn fns[MAX_FNS];
static int nfns;
static struct named_thread threads[MAX_THREADS];
static _Atomic int nthreads;
static struct rec recs[MAX_RECS];
static _Atomic int nrecs;      /* slots claimed */
static _Atomic int ndone;      /* slots complete */
static int nprinted;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

pid_t tr_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void tr_printf(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	pthread_mutex_lock(&out_lock);
	write_all(1, buf, (size_t)n);
	pthread_mutex_unlock(&out_lock);
	errno = saved;
}

void tr_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(1, buf, (size_t)n) < 0)
		_exit(99);
}

static void err_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	write_all(2, buf, (size_t)n);
	errno = saved;
}

void tr_init(void)
{
	err_printf("@pid %d\n", (int)getpid());
	tr_name_thread("main", pthread_self());
}

void tr_name_fn(const char *name, void *fn)
{
	if (nfns < MAX_FNS)
		fns[nfns++] = (struct named_fn){ name, fn };
	err_printf("@fn %s %#lx\n", name, (unsigned long)(uintptr_t)fn);
}

void tr_name_thread(const char *name, pthread_t t)
{
	int i = atomic_load(&nthreads);

	if (i < MAX_THREADS) {
		snprintf(threads[i].name, sizeof threads[i].name, "%s", name);
		threads[i].t = t;
		atomic_store(&nthreads, i + 1);
	}
	err_printf("@thread %s %lu\n", name, (unsigned long)t);
}

const char *tr_thread_name(pthread_t t)
{
	int n = atomic_load(&nthreads);

	for (int i = n - 1; i >= 0; i--)
		if (pthread_equal(threads[i].t, t))
			return threads[i].name;
	return "?thread";
}

const char *tr_handler(void *h)
{
	if (h == (void *)SIG_DFL)
		return "SIG_DFL";
	if (h == (void *)SIG_IGN)
		return "SIG_IGN";
	if (h == (void *)SIG_HOLD)
		return "SIG_HOLD";
	if (h == (void *)SIG_ERR)
		return "SIG_ERR";
	for (int i = 0; i < nfns; i++)
		if (fns[i].fn == h)
			return fns[i].name;
	return "?unknown-handler";
}

const char *tr_errname(int e)
{
	const char *s;

	if (e == 0)
		return "0";
	s = strerrorname_np(e);
	return s ? s : "E?";
}

const char *tr_signame(int sig)
{
	static const char *const names[] = {
		"0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
		"SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
		"SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
		"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
		"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
		"SIGSYS",
	};
	static const char *const rt[] = {
		"SIG32", "SIG33", "SIG34", "SIG35", "SIG36", "SIG37", "SIG38",
		"SIG39", "SIG40", "SIG41", "SIG42", "SIG43", "SIG44", "SIG45",
		"SIG46", "SIG47", "SIG48", "SIG49", "SIG50", "SIG51", "SIG52",
		"SIG53", "SIG54", "SIG55", "SIG56", "SIG57", "SIG58", "SIG59",
		"SIG60", "SIG61", "SIG62", "SIG63", "SIG64",
	};

	if (sig >= 0 && sig < 32)
		return names[sig];
	if (sig >= 32 && sig <= 64)
		return rt[sig - 32];
	return "SIG?";
}

const char *tr_sicode(int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TIMER: return "SI_TIMER";
	case SI_MESGQ: return "SI_MESGQ";
	case SI_ASYNCIO: return "SI_ASYNCIO";
	case SI_SIGIO: return "SI_SIGIO";
	case SI_TKILL: return "SI_TKILL";
	case SI_KERNEL: return "SI_KERNEL";
	default: return "SI_other";
	}
}

static uint64_t raw_bits(const sigset_t *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof v);
	return v;
}

void tr_set_raw(sigset_t *s, int sig)
{
	uint64_t v = raw_bits(s) | (1ULL << (sig - 1));

	memcpy(s, &v, sizeof v);
}

static char *mask_bits(uint64_t v, char *buf, size_t n)
{
	size_t off = 0;

	off += (size_t)snprintf(buf + off, n - off, "[");
	for (int sig = 1; sig <= 64 && off < n; sig++)
		if (v & (1ULL << (sig - 1)))
			off += (size_t)snprintf(buf + off, n - off, "%s%d",
						buf[off - 1] == '[' ? "" : " ", sig);
	if (off < n)
		snprintf(buf + off, n - off, "]");
	return buf;
}

char *tr_mask(const sigset_t *s, char *buf, size_t n)
{
	return mask_bits(raw_bits(s), buf, n);
}

char *tr_act(const struct sigaction *a, char *buf, size_t n)
{
	char m[256];

	snprintf(buf, n, "{%s flags=%#x mask=%s}",
		 tr_handler((void *)a->sa_handler), (unsigned)a->sa_flags,
		 tr_mask(&a->sa_mask, m, sizeof m));
	return buf;
}

void tr_show_mask(const char *label)
{
	sigset_t cur;
	char m[256];

	sigemptyset(&cur);
	int rc = pthread_sigmask(SIG_BLOCK, NULL, &cur);
	tr_printf("  mask %s %s%s\n", label, tr_mask(&cur, m, sizeof m),
		  rc ? " (query failed)" : "");
}

static void record(const char *handler, int sig, const siginfo_t *si, int with_mask)
{
	int saved = errno;
	int i = atomic_fetch_add(&nrecs, 1);

	if (i < MAX_RECS) {
		struct rec *r = &recs[i];
		r->handler = handler;
		r->sig = sig;
		r->has_info = si != NULL;
		if (si) {
			r->code = si->si_code;
			r->from_self = si->si_pid == getpid();
			r->value = (uintptr_t)si->si_value.sival_ptr;
			r->status = sig == SIGCHLD ? si->si_status : 0;
			r->addr = sig == SIGSEGV || sig == SIGBUS ? (uintptr_t)si->si_addr : 0;
		}
		r->thread = tr_thread_name(pthread_self());
		r->on_main = tr_gettid() == getpid();
		r->has_mask = with_mask;
		if (with_mask) {
			sigset_t cur;
			sigemptyset(&cur);
			syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
			r->mask = raw_bits(&cur);
		}
	}
	/* Never wait here: a nested handler would deadlock.  The printer only
	 * reads slots whose done flag is set. */
	if (i < MAX_RECS)
		atomic_store(&recs[i].done, 1);
	atomic_fetch_add(&ndone, 1);
	errno = saved;
}

void tr_record(const char *handler, int sig, const siginfo_t *si)
{
	record(handler, sig, si, 0);
}

void tr_record_mask(const char *handler, int sig, const siginfo_t *si)
{
	record(handler, sig, si, 1);
}

int tr_count(void)
{
	return atomic_load(&ndone);
}

static void print_rec(const struct rec *r)
{
	char info[128] = "";
	char mask[300] = "";

	if (r->has_info && r->code > 0 && r->sig == SIGCHLD) {
		snprintf(info, sizeof info, " code=%s status=%d",
			 r->code == CLD_EXITED ? "CLD_EXITED" : "CLD_other", r->status);
	} else if (r->has_info && r->code > 0 && r->sig == SIGSEGV) {
		snprintf(info, sizeof info, " code=%s addr=%#lx",
			 r->code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_other",
			 (unsigned long)r->addr);
	} else if (r->has_info) {
		int off = snprintf(info, sizeof info, " code=%s", tr_sicode(r->code));
		if (r->code == SI_QUEUE || r->code == SI_TIMER)
			off += snprintf(info + off, sizeof info - (size_t)off,
					" value=%#lx", (unsigned long)r->value);
		if (r->code == SI_USER || r->code == SI_TKILL || r->code == SI_QUEUE)
			snprintf(info + off, sizeof info - (size_t)off, " from=%s",
				 r->from_self ? "self" : "other");
	}
	if (r->has_mask) {
		char m[256];
		snprintf(mask, sizeof mask, " blocked=%s", mask_bits(r->mask, m, sizeof m));
	}
	tr_printf("  handled %s %s%s thread=%s main=%d%s\n", r->handler,
		  tr_signame(r->sig), info, r->thread, r->on_main, mask);
}

void tr_flush(void)
{
	for (; nprinted < MAX_RECS && atomic_load(&recs[nprinted].done); nprinted++)
		print_rec(&recs[nprinted]);
	if (nprinted == MAX_RECS && atomic_load(&ndone) > MAX_RECS) {
		tr_printf("  (observations overflowed)\n");
		nprinted++;
	}
}

int tr_wait_count(int n)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < 10000; i++) {
		if (tr_count() >= n)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

void tr_ret(const char *call, long ret, int err)
{
	tr_printf("%s -> %ld errno=%s\n", call, ret, tr_errname(err));
	tr_flush();
}

void tr_ret_pt(const char *call, int ret, int err)
{
	tr_printf("%s -> %s errno=%s\n", call, ret == 0 ? "0" : tr_errname(ret),
		  tr_errname(err));
	tr_flush();
}

void tr_ret_h(const char *call, void *ret, int err)
{
	tr_printf("%s -> %s errno=%s\n", call, tr_handler(ret), tr_errname(err));
	tr_flush();
}

int tr_wait_in_syscall(pid_t tid, long nr)
{
	char path[64];
	struct timespec ts = { 0, 1000000 };

	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	for (int i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "re");
		long cur = -2;
		if (f) {
			if (fscanf(f, "%ld", &cur) != 1)
				cur = -2;
			fclose(f);
		}
		if (cur == nr)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}
