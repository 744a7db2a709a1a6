/* Reading the fields of one event (docs/events.md, schema v1). */
#include "config.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigaudit.h"

static const char *const install_fns[] = {
	"sigaction", "signal", "bsd_signal", "ssignal", "sysv_signal",
	"__sysv_signal", "sigset",
};
static const char *const mask_fns[] = {
	"sigprocmask", "pthread_sigmask", "sighold", "sigrelse", "sigignore",
	"sigpause", "__sigpause", "__xpg_sigpause", "siginterrupt",
};
static const char *const send_fns[] = {
	"pthread_kill", "raise", "gsignal", "kill", "tgkill", "sigqueue",
	"pthread_sigqueue",
};

static bool in_list(const char *fn, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fn, list[i]) == 0)
			return true;
	return false;
}

#define IN(fn, list) in_list(fn, list, sizeof list / sizeof list[0])

enum tool_kind tool_event_kind(const char *name)
{
	const char *fn;

	if (!name)
		return TOOL_K_OTHER;
	if (strncmp(name, "sigshim.", 8) == 0)
		return TOOL_K_LIFECYCLE;
	if (strncmp(name, "signal.", 7) != 0)
		return TOOL_K_OTHER;
	fn = name + 7;
	if (strcmp(fn, "received") == 0)
		return TOOL_K_RECEIVE;
	if (strcmp(fn, "forwarded") == 0)
		return TOOL_K_FORWARD;
	if (strcmp(fn, "handled") == 0)
		return TOOL_K_HANDLE;
	if (IN(fn, install_fns))
		return TOOL_K_INSTALL;
	if (IN(fn, send_fns))
		return TOOL_K_SEND;
	return IN(fn, mask_fns) ? TOOL_K_MASK : TOOL_K_OTHER;
}

bool tool_json_int(json_t *ev, const char *key, long long *out)
{
	json_t *v = json_object_get(ev, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

const char *tool_json_str(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(ev, key));
}

bool tool_parse_addr(const char *s, uint64_t *out)
{
	char *end;

	if (!s || strncasecmp(s, "0x", 2) != 0 || !isxdigit((unsigned char)s[2]))
		return false;
	*out = strtoull(s + 2, &end, 16);
	return *end == '\0';
}

/* sigaction carries the handler inside `act` (null for a query); the
 * signal family carries it directly. */
const char *tool_event_handler(json_t *ev)
{
	const char *name = tool_json_str(ev, "event");

	if (tool_event_kind(name) != TOOL_K_INSTALL)
		return NULL;
	if (strcmp(name, "signal.sigaction") == 0)
		return tool_json_str(json_object_get(ev, "act"), "handler");
	return tool_json_str(ev, "handler");
}

const char *tool_event_signame(json_t *ev, char *buf, size_t len)
{
	const char *s = tool_json_str(ev, "signame");
	long long n;

	if (s)
		return s;
	if (!tool_json_int(ev, "signalnum", &n))
		return NULL;
	return tool_signal_name((int)n, buf, len);
}

/* A rule the event breaks: a policy violation, or a finding of the shim's
 * (sigshim.warning: "forwarded-handler-waits"), which gates CI the same
 * way because it names a deadlock. */
const char *tool_event_violation(json_t *ev)
{
	const char *v = tool_json_str(ev, "violation"), *name;

	if (v)
		return v;
	name = tool_json_str(ev, "event");
	return name && strcmp(name, "sigshim.warning") == 0 ? tool_json_str(ev, "finding") : NULL;
}

const char *tool_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+%d",
			 sig - SIGRTMIN);
	else
		snprintf(buf, len, "%d", sig);
	return buf;
}

/* "RTMIN+3" / "RTMAX-2" / "RTMIN" */
static int parse_rt(const char *s)
{
	int base = strncasecmp(s, "RTMIN", 5) == 0 ? SIGRTMIN :
		   strncasecmp(s, "RTMAX", 5) == 0 ? SIGRTMAX : -1;
	char *end;
	long off = 0;

	if (base < 0)
		return -1;
	if (s[5] == '+' || s[5] == '-') {
		off = strtol(s + 5, &end, 10);
		if (*end)
			return -1;
	} else if (s[5]) {
		return -1;
	}
	return base + (int)off >= SIGRTMIN && base + (int)off <= SIGRTMAX ?
	       base + (int)off : -1;
}

int tool_signal_parse(const char *s)
{
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	if (*end == '\0')
		return n >= 0 && n < 1024 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *a = sigabbrev_np(sig);

		if (a && strcasecmp(a, s) == 0)
			return sig;
	}
	return parse_rt(s);
}
