/* sigaudit: review sigshim audit logs.  One file per command (cmd-*.c);
 * this file only dispatches. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"summary", tool_cmd_summary, "per process and thread: counts, handlers, sends, "
	 "deliveries, violations, lost events"},
	{"list", tool_cmd_list, "filtered events, one line each (or --json)"},
	{"check", tool_cmd_check, "sanitizer-style violation report; exit 1 if any "
	 "(text, SARIF, JUnit)"},
	{"timeline", tool_cmd_timeline, "SVG picture: a lane per thread, arrows from "
	 "send to delivery"},
};

static int usage(FILE *out, int rc)
{
	fprintf(out, "usage: sigaudit COMMAND [OPTIONS] LOG...\n\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nLOG is a file, a glob (quoted globs are expanded), or - for "
		"stdin.\n'sigaudit COMMAND --help' for the options of a command.\n"
		"Exit status: 0 ok, 1 violations (check), 2 usage or I/O error.\n");
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, TOOL_EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout, TOOL_EXIT_OK);
	if (!strcmp(argv[1], "--version")) {
		printf("sigaudit %s\n", SIGSHIM_VERSION);
		return TOOL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sigaudit: unknown command '%s'\n", argv[1]);
	return usage(stderr, TOOL_EXIT_USAGE);
}
