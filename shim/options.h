/* SIGSHIM_OPTIONS parsing.  Functions of their arguments only (no shim
 * state), so they are unit-tested on their own. */
#ifndef SIGSHIM_OPTIONS_H
#define SIGSHIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "backtrace.h"

enum shim_mode { SHIM_MODE_AUDIT, SHIM_MODE_ENFORCE };
enum shim_policy { SHIM_POLICY_DENY, SHIM_POLICY_REPORT, SHIM_POLICY_ALLOW };
enum shim_report { SHIM_REPORT_STDERR, SHIM_REPORT_OFF };
enum shim_sink { SHIM_SINK_WRITE, SHIM_SINK_MMAP };

#define SHIM_PATH_MAX 4096

struct shim_options {
	enum shim_mode mode;
	char log_path[SHIM_PATH_MAX];  /* "" = no log */
	unsigned backtrace;            /* frames, 0 = off */
	bool help;
	enum shim_policy rule_install_off_main;
	int exitcode;                  /* -1 = off */
	bool halt_on_violation;
	enum shim_report report;
	enum shim_sink sink;
	unsigned long long run_where_received;   /* bit sig-1: never forwarded */
	bool profiles;                 /* runtime profiles (shim/runtimes.c) */
	bool main_first_installer;     /* main_thread=first-installer */
};

#define SHIM_BACKTRACE_MAX AUDIT_BT_MAX   /* backtrace=N's ceiling: what a line holds */

void shim_options_default(struct shim_options *o);

/* Parses "key=value:key=value" (values may be quoted with ' or " to hold a
 * ':').  On error returns -1 and writes one line (no newline) naming the key
 * and the accepted values into err. */
int shim_options_parse(struct shim_options *o, const char *s, char *err, size_t errlen);

/* The help text for help=1: every option, its values and default. */
const char *shim_options_help(void);

const char *shim_mode_name(enum shim_mode m);
const char *shim_policy_name(enum shim_policy p);

#endif
