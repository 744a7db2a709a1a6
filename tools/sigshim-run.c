/* sigshim run [--mode M] [--log PATH] [--backtrace N] [--option K=V]... -- CMD ARGS...
 *
 * Runs CMD with libsigshim.so preloaded: appends the shim to any existing
 * LD_PRELOAD (a sanitizer runtime must stay first), merges our options into
 * SIGSHIM_OPTIONS, and exits with CMD's status (128+N when a signal N
 * killed it), like a shell does. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"

#define EXIT_USAGE 2
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

static void usage(FILE *f)
{
	fputs("usage: sigshim run [--mode enforce|audit] [--log PATH] [--backtrace N]\n"
	      "                   [--option KEY=VALUE]... [--shim PATH]\n"
	      "                   [--check [--suppressions FILE] [--format text|sarif|junit]\n"
	      "                            [--report FILE]] -- CMD [ARGS...]\n"
	      "       sigshim help-options\n"
	      "       sigshim --version\n"
	      "\n"
	      "Runs CMD with libsigshim.so preloaded.  --log defaults to ./sigshim.%p.jsonl\n"
	      "(%p = pid of each process).  Exit status: CMD's own, 128+N if signal N\n"
	      "killed it, 126/127 if it could not be run, 2 for a usage error.\n"
	      "\n"
	      "--check: after CMD ends, run 'sigaudit check' over the logs of every process\n"
	      "it started (backtraces default to 16 frames, logs to a new directory under\n"
	      "$TMPDIR); exit 1 if violations remain, else CMD's status.\n", f);
}

/* The build tree's shim when run from the build tree, else the installed one. */
static const char *find_shim(const char *argv0)
{
	static char buf[PATH_MAX + 32];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *env = getenv("SIGSHIM_LIB");

	(void)argv0;
	if (env && *env)
		return env;
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, sizeof buf, "%s/../shim/libsigshim.so", self);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	if (access(SIGSHIM_BUILD_SHIM, R_OK) == 0)
		return SIGSHIM_BUILD_SHIM;
	return SIGSHIM_LIBDIR "/libsigshim.so";
}

/* CMD as execvp would find it, for the static/setuid checks. */
static bool resolve(const char *cmd, char *out, size_t outlen)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(out, outlen, "%s", cmd);
		return access(out, X_OK) == 0;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(out, outlen, "%.*s/%s", (int)len, len ? p : ".", cmd);
		if (access(out, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

/* A program without PT_INTERP is statically linked: the dynamic loader
 * never runs, so LD_PRELOAD does nothing. */
static int is_static_elf(const char *file)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	FILE *f = fopen(file, "rb");
	int found = 0, elf = 0;

	if (!f)
		return 0;
	if (fread(&eh, sizeof eh, 1, f) == 1 && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64) {
		elf = 1;
		for (int i = 0; i < eh.e_phnum; i++) {
			if (fseek(f, (long)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize), SEEK_SET) ||
			    fread(&ph, sizeof ph, 1, f) != 1)
				break;
			if (ph.p_type == PT_INTERP)
				found = 1;
		}
	}
	fclose(f);
	return elf && !found;
}

static void warn_unpreloadable(const char *cmd)
{
	char file[PATH_MAX];
	struct stat sb;

	/* only a regular file is read: opening a FIFO would block */
	if (!resolve(cmd, file, sizeof file) || stat(file, &sb) != 0 || !S_ISREG(sb.st_mode))
		return;
	if (is_static_elf(file))
		fprintf(stderr, "sigshim: warning: %s is statically linked: LD_PRELOAD cannot "
			"interpose it, nothing will be audited\n", file);
	if (stat(file, &sb) == 0 && (sb.st_mode & (S_ISUID | S_ISGID)) && geteuid() != 0)
		fprintf(stderr, "sigshim: warning: %s is setuid/setgid: the loader ignores "
			"LD_PRELOAD paths for it (and the shim would not open a log there)\n", file);
}

static int set_env_append(const char *name, const char *value, char sep)
{
	const char *old = getenv(name);
	char *buf;
	int r;

	if (!old || !*old)
		return setenv(name, value, 1);
	if (asprintf(&buf, "%s%c%s", old, sep, value) < 0)
		return -1;
	r = setenv(name, buf, 1);
	free(buf);
	return r;
}

struct run_opts {
	const char *mode, *log, *backtrace, *shim;
	const char *suppressions, *format, *report_out;
	bool check;
	char extra[4096];
	char logbuf[PATH_MAX + 32];
	char *orig_preload, *orig_options;   /* to give sigaudit a clean env */
};

static int add_option(char *dst, size_t cap, const char *kv)
{
	size_t len = strlen(dst);

	if (!strchr(kv, '=')) {
		fprintf(stderr, "sigshim: --option needs KEY=VALUE, got '%s'\n", kv);
		return -1;
	}
	if (len + 1 + strlen(kv) >= cap) {
		fprintf(stderr, "sigshim: --option values too long (over %zu bytes in all)\n", cap - 1);
		return -1;
	}
	snprintf(dst + len, cap - len, "%s%s", len ? ":" : "", kv);
	return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },
		{ "backtrace", required_argument, NULL, 'b' },
		{ "option", required_argument, NULL, 'o' },
		{ "shim", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'c' },
		{ "suppressions", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' },
		{ "report", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+m:l:b:o:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->mode = optarg; break;
		case 'l': o->log = optarg; break;
		case 'b': o->backtrace = optarg; break;
		case 's': o->shim = optarg; break;
		case 'c': o->check = true; break;
		case 'S': o->suppressions = optarg; break;
		case 'f': o->format = optarg; break;
		case 'r': o->report_out = optarg; break;
		case 'o':
			if (add_option(o->extra, sizeof o->extra, optarg) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "sigshim: run: no command given\n");
		return -1;
	}
	return optind;
}

/* Options given on our command line go after the inherited ones, so they
 * win (the shim applies items left to right). */
static int build_options(const struct run_opts *o)
{
	char opts[8192] = "";
	const char *log = o->log ? o->log : "sigshim.%p.jsonl";
	/* the shim takes a value quoted with ' or ": the one the path lacks */
	char q = !strchr(log, '\'') ? '\'' : !strchr(log, '"') ? '"' : 0;
	int n;

	if (!q) {
		fprintf(stderr, "sigshim: run: --log '%s' holds both quote characters: "
			"it cannot be passed to the shim\n", log);
		return -1;
	}
	if (strlen(log) >= 4096) {
		fprintf(stderr, "sigshim: run: --log path too long (%zu bytes, at most 4095)\n",
			strlen(log));
		return -1;
	}
	n = snprintf(opts, sizeof opts, "%s%s%slog_path=%c%s%c%s%s%s%s", o->mode ? "mode=" : "",
		     o->mode ? o->mode : "", o->mode ? ":" : "", q, log, q,
		     o->backtrace ? ":backtrace=" : "", o->backtrace ? o->backtrace : "",
		     o->extra[0] ? ":" : "", o->extra);
	if (n < 0 || (size_t)n >= sizeof opts) {
		fprintf(stderr, "sigshim: run: options too long for SIGSHIM_OPTIONS\n");
		return -1;
	}
	return set_env_append("SIGSHIM_OPTIONS", opts, ':') < 0 ? -1 : 0;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static pid_t child;

/* Signals for the runner go on to the child, except those the kernel sent
 * the whole foreground group (Ctrl-C, Ctrl-\\, a terminal hangup:
 * SI_KERNEL), which the child, in the same group, already has. */
static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (child > 0 && si->si_code != SI_KERNEL)
		kill(child, sig);
}

static int run_child(char **cmd)
{
	int status;

	pid_t runner = getpid();
	struct sigaction sa;

	child = fork();
	if (child < 0) {
		perror("sigshim: fork");
		return 1;
	}
	if (child == 0) {
		/* the run ends with the runner: a killed runner takes its
		 * child along instead of leaving it orphaned */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != runner)
			_exit(EXIT_NOEXEC);
		execvp(cmd[0], cmd);
		fprintf(stderr, "sigshim: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR) {
			perror("sigshim: waitpid");
			return 1;
		}
	return exit_status(status);
}

/* sigaudit lives next to us (build tree and install alike). */
static void sibling(const char *name, char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	self[n > 0 ? n : 0] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, outlen, "%s/%s", n > 0 ? self : ".", name);
}

/* The log template with %p turned into a glob matching every process. */
static void log_glob(const char *tmpl, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = tmpl; *p && o + 2 < outlen; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			out[o++] = '*';
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			out[o++] = '%';
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void restore_env(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static char *dup_env(const char *name)
{
	const char *v = getenv(name);

	return v ? strdup(v) : NULL;
}

static int run_check(const struct run_opts *o, int status)
{
	char tool[PATH_MAX + 16], pattern[PATH_MAX];
	const char *args[16];
	int n = 0, st;
	pid_t pid;

	sibling("sigaudit", tool, sizeof tool);
	log_glob(o->log, pattern, sizeof pattern);
	args[n++] = tool;
	args[n++] = "check";
	if (o->suppressions) {
		args[n++] = "--suppressions";
		args[n++] = o->suppressions;
	}
	if (o->format) {
		args[n++] = "--format";
		args[n++] = o->format;
	}
	if (o->report_out) {
		args[n++] = "-o";
		args[n++] = o->report_out;
	}
	args[n++] = pattern;
	args[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* sigaudit itself must not run under the shim (it would log
		 * into the directory being checked). */
		restore_env("LD_PRELOAD", o->orig_preload);
		restore_env("SIGSHIM_OPTIONS", o->orig_options);
		execv(tool, (char **)args);
		fprintf(stderr, "sigshim: cannot run %s: %s\n", tool, strerror(errno));
		_exit(2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		perror("sigshim: sigaudit check");
		return 2;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 2)
		return 2;
	/* 1 violations, 3 the logs prove events missing: either fails the run */
	if (WEXITSTATUS(st) == 1 || WEXITSTATUS(st) == 3)
		return WEXITSTATUS(st);
	return status;
}

/* --check without --log: a fresh directory, so that only this run's logs
 * are checked. */
static int default_check_log(struct run_opts *o)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];

	snprintf(dir, sizeof dir, "%s/sigshim-check.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("sigshim: mkdtemp");
		return -1;
	}
	snprintf(o->logbuf, sizeof o->logbuf, "%s/sigshim.%%p.jsonl", dir);
	o->log = o->logbuf;
	fprintf(stderr, "sigshim: logs in %s\n", dir);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	int first = parse_args(argc, argv, &o), status;
	const char *shim;

	if (first < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	shim = o.shim ? o.shim : find_shim(argv[0]);
	if (access(shim, R_OK) != 0) {
		fprintf(stderr, "sigshim: cannot find the shim at %s: %s\n", shim, strerror(errno));
		return EXIT_USAGE;
	}
	o.orig_preload = dup_env("LD_PRELOAD");
	o.orig_options = dup_env("SIGSHIM_OPTIONS");
	if (o.check && !o.log && default_check_log(&o) < 0)
		return EXIT_USAGE;
	if (o.check && !o.backtrace)
		o.backtrace = "16";
	warn_unpreloadable(argv[first]);
	if (set_env_append("LD_PRELOAD", shim, ' ') < 0) {
		perror("sigshim: setenv");
		return 1;
	}
	if (build_options(&o) < 0)
		return EXIT_USAGE;
	status = run_child(argv + first);
	return o.check ? run_check(&o, status) : status;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("sigshim %s\n", SIGSHIM_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "help-options") == 0) {
		fputs(shim_options_help(), stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
