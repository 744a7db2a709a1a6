/* SIGSHIM_OPTIONS: the ASAN_OPTIONS style, "key=value" items joined by ':'.
 * A typo must stop the program (exit 2 before main), never pass silently in
 * a CI run, so every error names the key and what it accepts. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "options.h"

void shim_options_default(struct shim_options *o)
{
	memset(o, 0, sizeof *o);
	o->mode = SHIM_MODE_ENFORCE;
	o->rule_install_off_main = SHIM_POLICY_DENY;
	/* SIGPROF: sampling profilers (ITIMER_PROF samples the thread that
	 * burns CPU); SIGPWR/SIGXCPU: Boehm GC's suspend/restart signals on
	 * Linux, also Mono's (docs/semantics.md, "Runtimes"). */
	o->run_where_received = 1ULL << (SIGPROF - 1) | 1ULL << (SIGPWR - 1) | 1ULL << (SIGXCPU - 1);
	o->profiles = true;
	o->exitcode = -1;
	o->report = SHIM_REPORT_STDERR;
}

const char *shim_mode_name(enum shim_mode m)
{
	return m == SHIM_MODE_AUDIT ? "audit" : "enforce";
}

const char *shim_policy_name(enum shim_policy p)
{
	static const char *const names[] = { "deny", "report", "allow" };

	return names[p];
}

struct choice {
	const char *name;
	int value;
};

static const struct choice modes[] = {
	{ "audit", SHIM_MODE_AUDIT }, { "enforce", SHIM_MODE_ENFORCE }, { NULL, 0 },
};
static const struct choice policies[] = {
	{ "deny", SHIM_POLICY_DENY }, { "report", SHIM_POLICY_REPORT },
	{ "allow", SHIM_POLICY_ALLOW }, { NULL, 0 },
};
static const struct choice bools[] = {
	{ "0", 0 }, { "1", 1 }, { "false", 0 }, { "true", 1 }, { "no", 0 },
	{ "yes", 1 }, { NULL, 0 },
};
static const struct choice sinks[] = {
	{ "write", SHIM_SINK_WRITE }, { "mmap", SHIM_SINK_MMAP }, { NULL, 0 },
};
static const struct choice switches[] = {
	{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 }, { "true", 1 }, { "false", 0 },
	{ "yes", 1 }, { "no", 0 }, { NULL, 0 },
};
static const struct choice main_threads[] = {
	{ "primordial", 0 }, { "first-installer", 1 }, { NULL, 0 },
};
static const struct choice reports[] = {
	{ "stderr", SHIM_REPORT_STDERR }, { "off", SHIM_REPORT_OFF }, { NULL, 0 },
};

static int bad_value(char *err, size_t errlen, const char *key,
		     const char *val, const char *accepted)
{
	snprintf(err, errlen,
		 "sigshim: SIGSHIM_OPTIONS: invalid value '%s' for '%s' (accepted: %s)",
		 val, key, accepted);
	return -1;
}

static int parse_choice(const struct choice *c, const char *key, const char *val,
			int *out, char *err, size_t errlen)
{
	char accepted[128] = "";

	for (int i = 0; c[i].name; i++) {
		if (strcmp(c[i].name, val) == 0) {
			*out = c[i].value;
			return 0;
		}
		if (i)
			strncat(accepted, "|", sizeof accepted - strlen(accepted) - 1);
		strncat(accepted, c[i].name, sizeof accepted - strlen(accepted) - 1);
	}
	return bad_value(err, errlen, key, val, accepted);
}

/* Decimal only, no sign, no trailing junk, within [lo, hi]. */
static int parse_uint(const char *key, const char *val, long lo, long hi,
		      long *out, char *err, size_t errlen)
{
	char accepted[64], *end;
	long v;

	snprintf(accepted, sizeof accepted, "an integer from %ld to %ld", lo, hi);
	if (!*val || *val == '+' || *val == ' ')
		return bad_value(err, errlen, key, val, accepted);
	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return bad_value(err, errlen, key, val, accepted);
	*out = v;
	return 0;
}

/* One signal: "SIGPROF", "PROF" or a number 1..64; glibc's internal
 * 32 and 33 are refused, as are the shim's own doorbells (63, 64). */
static int parse_signal(const char *tok, size_t len)
{
	char name[16], buf[16];

	if (len == 0 || len >= sizeof name)
		return -1;
	memcpy(name, tok, len);
	name[len] = '\0';
	for (int sig = 1; sig <= AUDIT_SIGMAX - 2; sig++) {
		const char *n = audit_signame(sig, buf);
		char num[8];

		snprintf(num, sizeof num, "%d", sig);
		if (sig == 32 || sig == 33)
			continue;
		if (strcmp(name, n) == 0 || strcmp(name, n + 3) == 0 || strcmp(name, num) == 0)
			return sig;
	}
	return -1;
}

/* "SIGPROF,SIGPWR", "" (none) or "none". */
static int parse_signal_list(const char *key, const char *val, unsigned long long *out,
			     char *err, size_t errlen)
{
	unsigned long long set = 0;
	const char *p = val;

	if (strcmp(val, "none") == 0) {
		*out = 0;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		int sig = parse_signal(p, len);   /* an empty item is no signal */

		if (sig < 0)
			return bad_value(err, errlen, key, val,
					 "a comma-separated list of signals (SIGPROF, PROF or 27), or none");
		set |= 1ULL << (sig - 1);
		p += len;
		if (!*p)
			break;
		p++;
	}
	*out = set;
	return 0;
}

static int set_option(struct shim_options *o, const char *key, const char *val,
		      char *err, size_t errlen)
{
	int c;
	long n;

	if (strcmp(key, "mode") == 0) {
		if (parse_choice(modes, key, val, &c, err, errlen))
			return -1;
		o->mode = (enum shim_mode)c;
	} else if (strcmp(key, "log_path") == 0) {
		if (!*val || strlen(val) >= sizeof o->log_path)
			return bad_value(err, errlen, key, val,
					 "a file path (%p = pid) or 'stderr', under 4096 bytes");
		strcpy(o->log_path, val);
	} else if (strcmp(key, "backtrace") == 0) {
		if (parse_uint(key, val, 0, SHIM_BACKTRACE_MAX, &n, err, errlen))
			return -1;
		o->backtrace = (unsigned)n;
	} else if (strcmp(key, "help") == 0) {
		if (parse_choice(bools, key, val, &c, err, errlen))
			return -1;
		o->help = c;
	} else if (strcmp(key, "rule_install_off_main") == 0) {
		if (parse_choice(policies, key, val, &c, err, errlen))
			return -1;
		o->rule_install_off_main = (enum shim_policy)c;
	} else if (strcmp(key, "exitcode") == 0) {
		if (parse_uint(key, val, 0, 255, &n, err, errlen))
			return -1;
		o->exitcode = (int)n;
	} else if (strcmp(key, "halt_on_violation") == 0) {
		if (parse_choice(bools, key, val, &c, err, errlen))
			return -1;
		o->halt_on_violation = c;
	} else if (strcmp(key, "sink") == 0) {
		if (parse_choice(sinks, key, val, &c, err, errlen))
			return -1;
		o->sink = (enum shim_sink)c;
	} else if (strcmp(key, "run_where_received") == 0) {
		if (parse_signal_list(key, val, &o->run_where_received, err, errlen))
			return -1;
	} else if (strcmp(key, "main_thread") == 0) {
		if (parse_choice(main_threads, key, val, &c, err, errlen))
			return -1;
		o->main_first_installer = c;
	} else if (strcmp(key, "profiles") == 0) {
		if (parse_choice(switches, key, val, &c, err, errlen))
			return -1;
		o->profiles = c;
	} else if (strcmp(key, "report") == 0) {
		if (parse_choice(reports, key, val, &c, err, errlen))
			return -1;
		o->report = (enum shim_report)c;
	} else {
		snprintf(err, errlen,
			 "sigshim: SIGSHIM_OPTIONS: unknown option '%s' (known: mode, log_path, "
			 "backtrace, sink, rule_install_off_main, run_where_received, profiles, main_thread, "
			 "exitcode, "
			 "halt_on_violation, report, help)",
			 key);
		return -1;
	}
	return 0;
}

/* Copies the value starting at *p into val, honouring one level of ' or "
 * quoting; leaves *p on the separator or the end. */
static int scan_value(const char **p, char *val, size_t vlen, const char *key,
		      char *err, size_t errlen)
{
	const char *s = *p;
	size_t n = 0;
	char q = (*s == '\'' || *s == '"') ? *s++ : 0;

	while (*s && (q ? *s != q : *s != ':')) {
		if (n + 1 >= vlen)
			return bad_value(err, errlen, key, "(too long)", "a value under 4096 bytes");
		val[n++] = *s++;
	}
	if (q && *s != q) {
		snprintf(err, errlen, "sigshim: SIGSHIM_OPTIONS: unterminated %c quote in value of '%s'", q, key);
		return -1;
	}
	if (q)
		s++;
	if (*s && *s != ':') {
		snprintf(err, errlen, "sigshim: SIGSHIM_OPTIONS: junk after quoted value of '%s'", key);
		return -1;
	}
	val[n] = '\0';
	*p = s;
	return 0;
}

/* A mapping is per process: a file shared by several (no %p) is
 * appended to with write(2). */
/* Whether a path template holds a real %p ("%%p" is a literal "%p"). */
static bool has_pid(const char *t)
{
	for (; *t; t++)
		if (t[0] == '%') {
			if (t[1] == 'p')
				return true;
			if (t[1] == '%')
				t++;
		}
	return false;
}

static int check_consistency(const struct shim_options *o, char *err, size_t errlen)
{
	if (o->sink == SHIM_SINK_MMAP && !has_pid(o->log_path)) {
		snprintf(err, errlen, "sigshim: SIGSHIM_OPTIONS: sink=mmap needs a per-process "
			 "log_path (with %%p), got '%s'", o->log_path);
		return -1;
	}
	return 0;
}

int shim_options_parse(struct shim_options *o, const char *s, char *err, size_t errlen)
{
	static char val[SHIM_PATH_MAX + 1];
	char key[64];

	while (s && *s) {
		size_t k = 0;

		if (*s == ':') {
			s++;
			continue;
		}
		while (*s && *s != '=' && *s != ':' && k + 1 < sizeof key)
			key[k++] = *s++;
		key[k] = '\0';
		if (*s != '=') {
			snprintf(err, errlen, "sigshim: SIGSHIM_OPTIONS: expected key=value, got '%s'%s",
				 key, *s && *s != ':' ? " (key too long)" : "");
			return -1;
		}
		s++;
		if (scan_value(&s, val, sizeof val, key, err, errlen) ||
		    set_option(o, key, val, err, errlen))
			return -1;
	}
	return check_consistency(o, err, errlen);
}

const char *shim_options_help(void)
{
	return
	"sigshim options (SIGSHIM_OPTIONS=\"key=value:key=value\", values may be quoted with ' or \"):\n"
	"  mode=enforce|audit            enforce: Python's signal model (default); audit: record only, transparent\n"
	"  log_path=PATH|stderr          JSON-lines audit log; %p = pid, %% = %; no log when unset\n"
	"  backtrace=N                   call-site frames per call event, 0..64 (default 0 = off)\n"
	"  sink=write|mmap               write: one write(2) per line (default); mmap: lines copied into\n"
	"                                a shared mapping of the file, no descriptor kept (needs %p)\n"
	"  rule_install_off_main=deny|report|allow\n"
	"                                handler installed from a thread other than main (default deny; enforce only)\n"
	"  run_where_received=SIG,...    enforce: handlers of these signals run on the receiving thread\n"
	"                                (default SIGPROF,SIGPWR,SIGXCPU; none for the strict model)\n"
	"  profiles=on|off               enforce: handlers installed by known runtimes (HotSpot, Boehm GC,\n"
	"                                gccgo, Mono, .NET) run where received and may be installed from\n"
	"                                any thread (default on; off for the strict model)\n"
	"  main_thread=primordial|first-installer\n"
	"                                enforce: the main thread is the one whose tid is the pid (default),\n"
	"                                or the first thread that installs a function handler\n"
	"  exitcode=N                    exit status if any violation happened, 0..255 (default: off)\n"
	"  halt_on_violation=0|1         report and abort at the first violation (default 0)\n"
	"  report=stderr|off             one 'sigshim:' line on stderr per violation (default stderr)\n"
	"  help=0|1                      print this text on stderr at start-up\n";
}
