/* async-signal-safe: tables and fixed buffers only. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "decode.h"

static const char *const std_names[32] = {
	NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
	"SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
	"SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
	"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
	"SIGSYS",
};

const char *audit_signame(int sig, char *buf)
{
	/* SIGRTMIN is read from libc at run time (34 with glibc, whose
	 * threading library keeps 32 and 33 for itself). */
	int rtmin = SIGRTMIN, rtmax = SIGRTMAX;
	size_t n;

	if (sig >= 1 && sig < 32)
		return std_names[sig];
	if (sig < 1 || sig > AUDIT_SIGMAX)
		return "?";
	if (sig < rtmin) {
		memcpy(buf, "SIG", 3);
		n = 3 + audit_fmt_u64(buf + 3, (unsigned)sig);
	} else if (sig == rtmax) {
		return "SIGRTMAX";
	} else {
		memcpy(buf, "SIGRTMIN", 8);
		n = 8;
		if (sig > rtmin) {
			buf[n++] = '+';
			n += audit_fmt_u64(buf + n, (unsigned)(sig - rtmin));
		}
	}
	buf[n] = '\0';
	return buf;
}

struct code_name {
	int code;
	const char *name;
};

#define CN(x) { x, #x }
static const struct code_name generic_codes[] = {
	CN(SI_USER), CN(SI_KERNEL), CN(SI_QUEUE), CN(SI_TIMER), CN(SI_MESGQ),
	CN(SI_ASYNCIO), CN(SI_SIGIO), CN(SI_TKILL), CN(SI_ASYNCNL),
};
static const struct code_name segv_codes[] = {
	CN(SEGV_MAPERR), CN(SEGV_ACCERR), CN(SEGV_BNDERR), CN(SEGV_PKUERR),
	CN(SEGV_ACCADI), CN(SEGV_ADIDERR), CN(SEGV_ADIPERR), CN(SEGV_MTEAERR),
	CN(SEGV_MTESERR),
};
static const struct code_name bus_codes[] = {
	CN(BUS_ADRALN), CN(BUS_ADRERR), CN(BUS_OBJERR), CN(BUS_MCEERR_AR),
	CN(BUS_MCEERR_AO),
};
static const struct code_name ill_codes[] = {
	CN(ILL_ILLOPC), CN(ILL_ILLOPN), CN(ILL_ILLADR), CN(ILL_ILLTRP),
	CN(ILL_PRVOPC), CN(ILL_PRVREG), CN(ILL_COPROC), CN(ILL_BADSTK),
	CN(ILL_BADIADDR),
};
static const struct code_name fpe_codes[] = {
	CN(FPE_INTDIV), CN(FPE_INTOVF), CN(FPE_FLTDIV), CN(FPE_FLTOVF),
	CN(FPE_FLTUND), CN(FPE_FLTRES), CN(FPE_FLTINV), CN(FPE_FLTSUB),
	CN(FPE_FLTUNK), CN(FPE_CONDTRAP),
};
static const struct code_name trap_codes[] = {
	CN(TRAP_BRKPT), CN(TRAP_TRACE), CN(TRAP_BRANCH), CN(TRAP_HWBKPT),
	CN(TRAP_UNK),
};
static const struct code_name chld_codes[] = {
	CN(CLD_EXITED), CN(CLD_KILLED), CN(CLD_DUMPED), CN(CLD_TRAPPED),
	CN(CLD_STOPPED), CN(CLD_CONTINUED),
};
static const struct code_name poll_codes[] = {
	CN(POLL_IN), CN(POLL_OUT), CN(POLL_MSG), CN(POLL_ERR), CN(POLL_PRI),
	CN(POLL_HUP),
};
static const struct code_name sys_codes[] = { { 1, "SYS_SECCOMP" } };
#undef CN

#define TABLE(t) t, sizeof t / sizeof t[0]

static const char *lookup(const struct code_name *t, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

/* Kernel-generated codes (> 0) are per signal; the others are shared. */
const char *audit_si_code_name(int sig, int code)
{
	if (code <= 0 || code == SI_KERNEL)
		return lookup(TABLE(generic_codes), code);
	switch (sig) {
	case SIGSEGV: return lookup(TABLE(segv_codes), code);
	case SIGBUS: return lookup(TABLE(bus_codes), code);
	case SIGILL: return lookup(TABLE(ill_codes), code);
	case SIGFPE: return lookup(TABLE(fpe_codes), code);
	case SIGTRAP: return lookup(TABLE(trap_codes), code);
	case SIGCHLD: return lookup(TABLE(chld_codes), code);
	case SIGPOLL: return lookup(TABLE(poll_codes), code);
	case SIGSYS: return lookup(TABLE(sys_codes), code);
	default: return NULL;
	}
}

unsigned audit_si_fields(int sig, int code)
{
	switch (code) {
	case SI_USER:
	case SI_TKILL:
		return AUDIT_SI_SENDER;
	case SI_QUEUE:
	case SI_MESGQ:
		return AUDIT_SI_SENDER | AUDIT_SI_VALUE;
	case SI_TIMER:
		return AUDIT_SI_VALUE;
	default:
		break;
	}
	if (code > 0 && code != SI_KERNEL && sig == SIGCHLD)
		return AUDIT_SI_SENDER | AUDIT_SI_STATUS;
	if (code > 0 && code != SI_KERNEL && audit_sig_is_fault(sig))
		return AUDIT_SI_ADDR;
	return 0;
}

const char *audit_how_name(int how)
{
	switch (how) {
	case SIG_BLOCK: return "SIG_BLOCK";
	case SIG_UNBLOCK: return "SIG_UNBLOCK";
	case SIG_SETMASK: return "SIG_SETMASK";
	default: return NULL;
	}
}

const char *audit_errno_name(int err)
{
	/* glibc's own table: a lookup, no locale, no allocation. */
	return err > 0 ? strerrorname_np(err) : NULL;
}

void audit_jw_handler(struct jw *w, const char *key, uintptr_t h)
{
	if (h == (uintptr_t)SIG_DFL)
		audit_jw_str(w, key, "SIG_DFL");
	else if (h == (uintptr_t)SIG_IGN)
		audit_jw_str(w, key, "SIG_IGN");
	else if (h == (uintptr_t)SIG_HOLD)
		audit_jw_str(w, key, "SIG_HOLD");
	else if (h == (uintptr_t)SIG_ERR)
		audit_jw_str(w, key, "SIG_ERR");
	else
		audit_jw_hex(w, key, h);
}

static const struct { unsigned long bit; const char *name; } flag_names[] = {
	{ SA_NOCLDSTOP, "SA_NOCLDSTOP" },
	{ SA_NOCLDWAIT, "SA_NOCLDWAIT" },
	{ SA_SIGINFO, "SA_SIGINFO" },
	{ 0x00000400, "SA_UNSUPPORTED" },
	{ 0x00000800, "SA_EXPOSE_TAGBITS" },
	{ 0x04000000, "SA_RESTORER" },
	{ SA_ONSTACK, "SA_ONSTACK" },
	{ SA_RESTART, "SA_RESTART" },
	{ 0x20000000, "SA_INTERRUPT" },
	{ SA_NODEFER, "SA_NODEFER" },
	{ SA_RESETHAND, "SA_RESETHAND" },
};

void audit_jw_flags(struct jw *w, const char *key, unsigned long flags)
{
	audit_jw_arr_begin(w, key);
	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
		if (flags & flag_names[i].bit) {
			audit_jw_el_str(w, flag_names[i].name);
			flags &= ~flag_names[i].bit;
		}
	}
	for (unsigned b = 0; flags && b < 8 * sizeof flags; b++)
		if (flags & (1UL << b)) {
			audit_jw_el_hex(w, 1UL << b);
			flags &= ~(1UL << b);
		}
	audit_jw_end(w);
}

/* Reads the bits directly: sigismember() rejects nothing we need, but this
 * keeps to what the kernel ABI defines (the first 64 bits). */
void audit_jw_sigset(struct jw *w, const char *key, const sigset_t *set)
{
	const unsigned long *bits = (const unsigned long *)set;

	if (!set) {
		audit_jw_null(w, key);
		return;
	}
	audit_jw_arr_begin(w, key);
	for (int sig = 1; sig <= AUDIT_SIGMAX; sig++) {
		unsigned idx = (unsigned)(sig - 1);

		if (bits[idx / (8 * sizeof(long))] & (1UL << (idx % (8 * sizeof(long)))))
			audit_jw_el_int(w, sig);
	}
	audit_jw_end(w);
}

void audit_jw_sigaction(struct jw *w, const char *key, const struct sigaction *sa)
{
	if (!sa) {
		audit_jw_null(w, key);
		return;
	}
	audit_jw_obj_begin(w, key);
	audit_jw_handler(w, "handler", (uintptr_t)sa->sa_handler);
	audit_jw_flags(w, "flags", (unsigned long)(unsigned)sa->sa_flags);
	audit_jw_sigset(w, "mask", &sa->sa_mask);
	audit_jw_end(w);
}

void audit_jw_signal(struct jw *w, int sig)
{
	char buf[16];

	audit_jw_int(w, "signalnum", sig);
	audit_jw_str(w, "signame", audit_signame(sig, buf));
}
