/* sigaudit timeline: an SVG picture of who did what to which signal when.
 * One lane per thread, grouped by process; a mark per signal event with the
 * event as its tooltip; arrows from each send to the delivery it caused.
 * Beyond --max-events marks the picture would be a smear, so events are
 * counted in time buckets per lane instead. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sigaudit.h"
#include "timeline.h"

static const struct option tl_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"max-events", required_argument, NULL, 'm'},
	{"width", required_argument, NULL, 'w'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: sigaudit timeline [--max-events N] [--width PX] -o FILE.svg LOG...\n"
		"  more than N (default 500) signal events are drawn as bucket counts\n");
	return rc;
}

/* A whole decimal number in [lo, hi], or false ("abc" is not 0). */
static bool number(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s && !*end && !errno && *out >= lo && *out <= hi;
}

static int parse_opts(int argc, char **argv, struct tool_tl *tl, const char **out)
{
	long n;
	int opt;

	while ((opt = getopt_long(argc, argv, "o:m:w:h", tl_opts, NULL)) != -1) {
		if (opt == 'o')
			*out = optarg;
		else if (opt == 'm' && number(optarg, 0, 10000000, &n))
			tl->max_marks = (size_t)n;
		else if (opt == 'w' && number(optarg, 200, 100000, &n))
			tl->plot_w = (int)n;
		else if (opt == 'h')
			return usage(TOOL_EXIT_OK) + 1;
		else if (opt == 'm' || opt == 'w') {
			fprintf(stderr, "sigaudit: timeline: bad value for --%s: %s\n",
				opt == 'm' ? "max-events" : "width", optarg);
			return usage(TOOL_EXIT_USAGE) + 1;
		} else
			return usage(opt == 'h' ? TOOL_EXIT_OK : TOOL_EXIT_USAGE) + 1;
	}
	if (!*out) {
		fprintf(stderr, "sigaudit: timeline needs -o FILE.svg\n");
		return usage(TOOL_EXIT_USAGE) + 1;
	}
	return 0;
}

static int write_svg(struct tool_tl *tl, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "we");

	if (!f) {
		perror(path);
		return -1;
	}
	tool_tl_render(tl, f);
	if (f != stdout && fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int tool_cmd_timeline(int argc, char **argv)
{
	struct tool_tl tl = {.max_marks = 500, .plot_w = 1000};
	const char *out = NULL;
	struct tool_logset ls;
	int rc = parse_opts(argc, argv, &tl, &out);

	if (rc)
		return rc - 1;
	if (optind >= argc)
		return tool_no_logs();
	tool_logset_init(&ls);
	rc = tool_load_logs(&ls, argc, argv, optind);
	tool_tl_layout(&tl, &ls);
	if (write_svg(&tl, out) < 0)
		rc = -1;
	tool_tl_free(&tl);
	tool_logset_free(&ls);
	return rc < 0 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
}
