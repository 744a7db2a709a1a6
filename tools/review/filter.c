/* Filters of `sigaudit list`.  Values of one option are alternatives
 * (--signal USR1 --signal USR2: either); different options must all match. */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"

#define FILTER_MAX 16

static int parse_ll(const char *s, long long *out)
{
	char *end;

	if (!*s)
		return -1;
	*out = strtoll(s, &end, 0);
	return *end ? -1 : 0;
}

int tool_filter_add(struct tool_filter *f, char opt, const char *value)
{
	switch (opt) {
	case 'e':
		if (f->nevents >= FILTER_MAX)
			return -1;
		f->events[f->nevents++] = value;
		return 0;
	case 's':
		if (f->nsignals >= FILTER_MAX || tool_signal_parse(value) < 0)
			return -1;
		f->signals[f->nsignals++] = tool_signal_parse(value);
		return 0;
	case 't':
		if (f->nthreads >= FILTER_MAX)
			return -1;
		return parse_ll(value, &f->threads[f->nthreads++]);
	case 'p':
		if (f->npids >= FILTER_MAX)
			return -1;
		return parse_ll(value, &f->pids[f->npids++]);
	}
	return -1;
}

/* "sigaction" is short for "signal.sigaction"; globs work on either. */
static bool event_match(const struct tool_filter *f, const char *name)
{
	char full[128];

	if (!f->nevents)
		return true;
	for (size_t i = 0; i < f->nevents; i++) {
		snprintf(full, sizeof full, "signal.%s", f->events[i]);
		if (fnmatch(f->events[i], name, 0) == 0 ||
		    (!strchr(f->events[i], '.') && fnmatch(full, name, 0) == 0))
			return true;
	}
	return false;
}

static bool ll_in(const long long *arr, size_t n, long long v)
{
	for (size_t i = 0; i < n; i++)
		if (arr[i] == v)
			return true;
	return false;
}

static bool signal_match(const struct tool_filter *f, json_t *ev)
{
	long long num;

	if (!f->nsignals)
		return true;
	if (!tool_json_int(ev, "signalnum", &num))
		return false;
	for (size_t i = 0; i < f->nsignals; i++)
		if (f->signals[i] == num)
			return true;
	return false;
}

/* A thread is named by its kernel tid or its pthread_t: both appear in logs
 * (tid on every line, thread_id where one thread is concerned). */
static bool thread_match(const struct tool_filter *f, json_t *ev)
{
	long long id;

	if (!f->nthreads || (tool_json_int(ev, "tid", &id) && ll_in(f->threads, f->nthreads, id)))
		return true;
	if (tool_json_int(ev, "thread_id", &id) && ll_in(f->threads, f->nthreads, id))
		return true;
	return tool_json_int(ev, "caller_thread_id", &id) &&
	       ll_in(f->threads, f->nthreads, id);
}

bool tool_filter_match(const struct tool_filter *f, json_t *ev)
{
	const char *name = tool_json_str(ev, "event");
	long long pid;

	if (f->npids && !(tool_json_int(ev, "pid", &pid) && ll_in(f->pids, f->npids, pid)))
		return false;
	if (f->violations && !tool_event_violation(ev))
		return false;
	return name && event_match(f, name) && signal_match(f, ev) && thread_match(f, ev);
}
