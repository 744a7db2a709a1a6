/* sigaudit list: the events that match the filters, one readable line each
 * (or the JSON objects themselves with --json, for jq and friends). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"

static const struct option list_opts[] = {
	{"event", required_argument, NULL, 'e'},
	{"signal", required_argument, NULL, 's'},
	{"thread", required_argument, NULL, 't'},
	{"pid", required_argument, NULL, 'p'},
	{"violations", no_argument, NULL, 'V'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: sigaudit list [--event E] [--signal S] [--thread T] [--pid P]\n"
		"                     [--violations] [--json] LOG...\n"
		"  --event E     event name or glob (sigaction = signal.sigaction)\n"
		"  --signal S    number or name (10, SIGUSR1, USR1, RTMIN+2)\n"
		"  --thread T    kernel tid or pthread_t (thread_id)\n"
		"  --pid P       process id\n"
		"  --violations  only events that carry a violation\n"
		"  --json        print the matching JSON lines instead\n"
		"A repeated option matches any of its values.\n");
	return rc;
}

static void print_line(const struct tool_logset *ls, const struct tool_event *e, json_t *ev)
{
	char brief[2048];
	const char *v = tool_event_violation(ev);

	tool_event_brief(ev, brief, sizeof brief);
	printf("%12.6f %7d/%-7d %5lld  %-22s %s", tool_ns_diff_s(e->ts, ls->t0),
	       e->pid, e->tid, e->seq, tool_ename(e), brief);
	if (v)
		printf("  !! VIOLATION %s (%s)", v, tool_json_str(ev, "policy") ?: "?");
	printf("\n");
}

static void print_json(json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT);

	if (s)
		puts(s);
	free(s);
}

static int parse_args(int argc, char **argv, struct tool_filter *f, bool *json)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "e:s:t:p:Vjh", list_opts, NULL)) != -1) {
		if (opt == 'V')
			f->violations = true;
		else if (opt == 'j')
			*json = true;
		else if (opt == 'h')
			return usage(TOOL_EXIT_OK) - 1;
		else if (opt == '?' || tool_filter_add(f, (char)opt, optarg) < 0) {
			if (opt != '?')
				fprintf(stderr, "sigaudit: bad value for -%c: %s\n", opt, optarg);
			return usage(TOOL_EXIT_USAGE);
		}
	}
	return 0;
}

int tool_cmd_list(int argc, char **argv)
{
	struct tool_filter f = {0};
	struct tool_logset ls;
	bool json = false;
	int rc = parse_args(argc, argv, &f, &json);

	if (rc)
		return rc < 0 ? TOOL_EXIT_OK : rc;
	if (optind >= argc)
		return tool_no_logs();
	tool_logset_init(&ls);
	rc = tool_load_logs(&ls, argc, argv, optind);
	if (!json)
		printf("%12s %15s %5s  %-22s %s\n", "time(s)", "pid/tid", "seq",
		       "event", "details");
	for (size_t p = 0; p < ls.nprocs; p++)
		for (size_t i = 0; i < ls.procs[p]->n; i++) {
			const struct tool_event *e = tool_pev(ls.procs[p], i);
			/* the whole line, read back: list shows every field */
			json_t *ev = tool_event_load(e);

			if (ev && tool_filter_match(&f, ev)) {
				if (json)
					print_json(ev);
				else
					print_line(&ls, e, ev);
			}
			json_decref(ev);
		}
	tool_logset_free(&ls);
	return rc < 0 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
}
