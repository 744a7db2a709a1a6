/* The command-line tools end to end: `sigshim run` (status, environment,
 * warnings, --check as a CI gate) and the shim's sanitizer-style options
 * (exitcode, halt_on_violation, report). */
#include "config.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/unit.h"

struct out {
	char text[65536];
	int status;
};

static const char *asan_prefix(void);

/* Runs argv with extra environment entries; stdout+stderr captured. */
static void run(struct out *o, const char *const *env, const char *const *argv)
{
	int p[2];
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		if (*asan_prefix() && strstr(argv[0], "/sigshim"))
			setenv("LD_PRELOAD", asan_prefix(), 1);
		for (int i = 0; env && env[i]; i += 2)
			setenv(env[i], env[i + 1], 1);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], o->text + n, sizeof o->text - 1 - n)) > 0)
		n += (size_t)r;
	o->text[n] = '\0';
	close(p[0]);
	waitpid(pid, &o->status, 0);
}

/* In a sanitizer build the runtime must stay first in LD_PRELOAD: give
 * `sigshim run` an LD_PRELOAD holding it, which the runner appends to. */
static const char *asan_prefix(void)
{
	static char prefix[1024];
	const char *full = getenv("SIGSHIM_PRELOAD"), *shim = getenv("SIGSHIM_LIB");
	size_t n = full ? strlen(full) : 0, ns = shim ? strlen(shim) : 0;

	prefix[0] = '\0';
	if (shim && n > ns + 1 && strcmp(full + n - ns, shim) == 0 && n - ns < sizeof prefix) {
		memcpy(prefix, full, n - ns - 1);
		prefix[n - ns - 1] = '\0';
	}
	return prefix;
}

static char *path(const char *dirvar, const char *name)
{
	static char buf[8][4096];
	static int k;
	const char *d = getenv(dirvar);

	ck_assert_msg(d != NULL, "%s not set (run through meson test)", dirvar);
	snprintf(buf[k % 8], sizeof buf[0], "%s/%s", d, name);
	return buf[k++ % 8];
}

#define SIGSHIM path("SIGSHIM_TOOLS", "sigshim")
#define TOOLTEST(name) path("SIGSHIM_TOOLTESTS", name)

static int exit_code(const struct out *o)
{
	ck_assert_msg(WIFEXITED(o->status), "did not exit normally: %s", o->text);
	return WEXITSTATUS(o->status);
}

/* The line of the offending call, read from the helper's own source. */
static int violation_line(void)
{
	char src[4096], line[512];
	FILE *f;
	int n = 0;

	snprintf(src, sizeof src, "%s/worker-install.c", getenv("SIGSHIM_TOOLTESTS_SRC"));
	f = fopen(src, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f)) {
		n++;
		if (strstr(line, "LINE_OF_VIOLATION")) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	ck_abort_msg("marker not found");
	return 0;
}

START_TEST(check_reports_violation_with_source_line)
{
	struct out o;
	char want[128];
	const char *argv[] = { SIGSHIM, "run", "--check", "--", TOOLTEST("worker-install"), NULL };

	run(&o, NULL, argv);
	ASSERT_INT_EQ(exit_code(&o), 1);
	ASSERT_STR_CONTAINS(o.text, "WARNING: sigshim: install-off-main (pid=");
	snprintf(want, sizeof want, "worker-install.c:%d", violation_line());
	ASSERT_STR_CONTAINS(o.text, want);
	snprintf(want, sizeof want, "SUMMARY: sigshim: install-off-main ");
	ASSERT_STR_CONTAINS(o.text, want);
	snprintf(want, sizeof want, "worker-install.c:%d in worker", violation_line());
	ASSERT_STR_CONTAINS(o.text, want);
}
END_TEST

START_TEST(check_with_suppression_passes)
{
	struct out o;
	char supp[] = "/tmp/sigshim-supp-XXXXXX";
	int fd = mkstemp(supp);
	const char *argv[] = { SIGSHIM, "run", "--check", "--suppressions", supp, "--",
			       TOOLTEST("worker-install"), NULL };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, "# known\nfunction:worker\n", 24), 0);
	close(fd);
	run(&o, NULL, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "1 suppressed");
	unlink(supp);
}
END_TEST

START_TEST(check_clean_program_passes)
{
	struct out o;
	const char *argv[] = { SIGSHIM, "run", "--check", "--", TOOLTEST("worker-install"), "clean", NULL };

	run(&o, NULL, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "no violations");
}
END_TEST

START_TEST(run_passes_exit_status)
{
	struct out o;
	const char *argv[] = { SIGSHIM, "run", "--", TOOLTEST("exit-with"), "7", NULL };
	const char *killed[] = { SIGSHIM, "run", "--", TOOLTEST("exit-with"), "0", "15", NULL };
	const char *missing[] = { SIGSHIM, "run", "--", "/nonexistent/prog", NULL };
	const char *nocmd[] = { SIGSHIM, "run", NULL };

	run(&o, NULL, argv);
	ASSERT_INT_EQ(exit_code(&o), 7);
	run(&o, NULL, killed);
	ASSERT_INT_EQ(exit_code(&o), 128 + 15);
	run(&o, NULL, missing);
	ASSERT_INT_EQ(exit_code(&o), 127);
	run(&o, NULL, nocmd);
	ASSERT_INT_EQ(exit_code(&o), 2);
}
END_TEST

/* An existing LD_PRELOAD (a sanitizer runtime) stays first. */
START_TEST(run_appends_to_ld_preload)
{
	struct out o;
	char first[1100];
	const char *env[] = { "LD_PRELOAD", first, NULL };
	const char *argv[] = { SIGSHIM, "run", "--log", "/dev/null", "--", "/usr/bin/env", NULL };

	/* Any first entry will do; in a sanitizer build it must be libasan. */
	snprintf(first, sizeof first, "%s", *asan_prefix() ? asan_prefix() : "libfirst-missing.so");
	run(&o, env, argv);
	const char *line = strstr(o.text, "\nLD_PRELOAD=");
	ck_assert_msg(line != NULL, "no LD_PRELOAD in: %s", o.text);
	ASSERT_TRUE(strncmp(line + 12, first, strlen(first)) == 0);
	ASSERT_TRUE(strstr(line, "libsigshim.so") != NULL);
	ASSERT_STR_CONTAINS(o.text, "libsigshim.so");
	ASSERT_STR_CONTAINS(o.text, "SIGSHIM_OPTIONS=log_path='/dev/null'");
}
END_TEST

START_TEST(run_warns_on_static_binary)
{
	struct out o;
	const char *argv[] = { SIGSHIM, "run", "--log", "/dev/null", "--", TOOLTEST("exit-with-static"), "3", NULL };

	run(&o, NULL, argv);
	ASSERT_INT_EQ(exit_code(&o), 3);
	ASSERT_STR_CONTAINS(o.text, "is statically linked");
}
END_TEST

START_TEST(exitcode_option)
{
	struct out o;
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"),
			      "SIGSHIM_OPTIONS", "exitcode=42:report=off", NULL };
	const char *argv[] = { TOOLTEST("worker-install"), NULL };
	const char *clean[] = { TOOLTEST("worker-install"), "clean", NULL };

	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 42);
	ASSERT_TRUE(strstr(o.text, "sigshim: violation") == NULL);   /* report=off */
	run(&o, env, clean);
	ASSERT_INT_EQ(exit_code(&o), 0);
}
END_TEST

START_TEST(report_and_halt_options)
{
	struct out o;
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"), "SIGSHIM_OPTIONS", "", NULL };
	const char *halt[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"),
			       "SIGSHIM_OPTIONS", "halt_on_violation=1", NULL };
	const char *argv[] = { TOOLTEST("worker-install"), NULL };

	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "sigshim: violation: install-off-main: signal(SIGUSR1)");
	ASSERT_STR_CONTAINS(o.text, "worker done");
	run(&o, halt, argv);
	ck_assert_msg(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGABRT,
		      "halt_on_violation must abort: status %#x, output %s", o.status, o.text);
	ASSERT_TRUE(strstr(o.text, "worker done") == NULL);
}
END_TEST

START_TEST(bad_options_stop_before_main)
{
	struct out o;
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"),
			      "SIGSHIM_OPTIONS", "mode=strict", NULL };
	const char *argv[] = { TOOLTEST("worker-install"), "clean", NULL };

	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 2);
	ASSERT_STR_CONTAINS(o.text, "invalid value 'strict' for 'mode' (accepted: audit|enforce)");
}
END_TEST

START_TEST(help_options_lists_every_option)
{
	struct out o;
	const char *argv[] = { SIGSHIM, "help-options", NULL };

	run(&o, NULL, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "halt_on_violation=");
	ASSERT_STR_CONTAINS(o.text, "rule_install_off_main=");
}
END_TEST

/* A full disk: the program runs exactly as without the shim; the loss is
 * said on stderr at once and counted at exit. */
START_TEST(full_disk_is_reported_not_fatal)
{
	struct out o;
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"),
			      "SIGSHIM_OPTIONS", "mode=audit:log_path=/dev/full", NULL };
	const char *prog[] = { TOOLTEST("worker-install"), "clean", NULL };

	run(&o, env, prog);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "sigshim: cannot write the audit log (ENOSPC)");
	ASSERT_STR_CONTAINS(o.text, "audit event(s) (");
	ASSERT_STR_CONTAINS(o.text, "could not be written to '/dev/full': No space left on device");
}
END_TEST

/* A permission problem (a descendant that dropped privileges, here /sys,
 * where even root may not create files) must not stop the program: it runs
 * on and says so; a path mistake stops it before main (status 2). */
START_TEST(unwritable_log_runs_on_but_bad_path_stops)
{
	struct out o;
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"),
			      "SIGSHIM_OPTIONS", "mode=audit:log_path=/sys/sigshim.%p.jsonl", NULL };
	const char *bad[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"),
			      "SIGSHIM_OPTIONS", "mode=audit:log_path=/nonexistent/dir/x.jsonl", NULL };
	const char *argv[] = { TOOLTEST("worker-install"), "clean", NULL };

	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "sigshim: cannot open log_path '/sys/sigshim.%p.jsonl': Permission denied (pid not logged; the program runs on)");
	run(&o, bad, argv);
	ASSERT_INT_EQ(exit_code(&o), 2);
	ASSERT_STR_CONTAINS(o.text, "sigshim: cannot open log_path '/nonexistent/dir/x.jsonl': No such file or directory");
}
END_TEST

/* sink=mmap keeps no descriptor: a program listing its own sees none of
 * ours (sink=write, the default, keeps one at 1000 or above). */
static int high_fds(const char *listing)
{
	int n = 0;

	for (const char *p = listing; (p = strchr(p, '\n')); p++) {
		int fd;

		if (sscanf(p + 1, "%d", &fd) == 1 && fd >= 1000)
			n++;
	}
	return n;
}

START_TEST(mapped_sink_keeps_no_descriptor)
{
	struct out o;
	char dir[] = "/tmp/sigshim-map-XXXXXX", opts[256];
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"), "SIGSHIM_OPTIONS", opts, NULL };
	const char *argv[] = { "/bin/ls", "-1", "/proc/self/fd", NULL };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(opts, sizeof opts, "mode=audit:sink=mmap:log_path=%s/l.%%p.jsonl", dir);
	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_INT_EQ(high_fds(o.text), 0);
	snprintf(opts, sizeof opts, "mode=audit:log_path=%s/w.%%p.jsonl", dir);
	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_INT_EQ(high_fds(o.text), 1);
	snprintf(opts, sizeof opts, "rm -rf '%s'", dir);
	ASSERT_INT_EQ(system(opts), 0);
}
END_TEST

START_TEST(deleted_log_is_reported)
{
	struct out o;
	char dir[] = "/tmp/sigshim-vanish-XXXXXX", log[128], opts[256];
	const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"), "SIGSHIM_OPTIONS", opts, NULL };
	const char *argv[] = { TOOLTEST("unlink-then-signal"), log, NULL };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log, sizeof log, "%s/x.jsonl", dir);
	snprintf(opts, sizeof opts, "mode=audit:log_path=%s", log);
	run(&o, env, argv);
	ASSERT_INT_EQ(exit_code(&o), 0);
	ASSERT_STR_CONTAINS(o.text, "still running");
	ASSERT_STR_CONTAINS(o.text, "was deleted while the program ran");
	rmdir(dir);
}
END_TEST

/* Bugs found in review: the shim's output must equal the native one, in
 * both modes, except where enforce deliberately differs (the count line of
 * lost-*, where a handler waits for main instead of running at once, is
 * still equal at the end). */
static const char *const review_cases[] = { "lost-ign", "lost-dfl", "nodefer", "ufork", "reset" };

START_TEST(review_regressions_match_native)
{
	const char *scenario = review_cases[_i];
	static const char *const modes[] = { "mode=enforce", "mode=audit" };
	struct out native, shim;
	const char *argv[] = { TOOLTEST("regress-review"), scenario, NULL };

	run(&native, NULL, argv);
	ASSERT_INT_EQ(exit_code(&native), 0);
	for (int m = 0; m < 2; m++) {
		const char *env[] = { "LD_PRELOAD", getenv("SIGSHIM_PRELOAD"), "SIGSHIM_OPTIONS", modes[m], NULL };

		run(&shim, env, argv);
		ck_assert_msg(WIFEXITED(shim.status) && WEXITSTATUS(shim.status) == 0,
			      "%s %s: status %#x, output: %s", scenario, modes[m], shim.status, shim.text);
		ck_assert_msg(strcmp(native.text, shim.text) == 0, "%s %s:\nnative: %s\nshim:   %s",
			      scenario, modes[m], native.text, shim.text);
	}
}
END_TEST

/* Issue 10, item 12: the runner itself. */

/* Ctrl-C on a terminal: the kernel sends SIGINT to the whole foreground
 * group, the child included; the runner must not send it a second one. */
START_TEST(run_ctrl_c_reaches_child_once)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	char out[4096] = "", pidfile[256];
	size_t n = 0;
	pid_t pid;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	snprintf(pidfile, sizeof pidfile, "/tmp/sigshim-ctrlc.%d", (int)getpid());
	unlink(pidfile);
	pid = fork();
	if (pid == 0) {
		int slave;

		setsid();
		slave = open(ptsname(master), O_RDWR);   /* the controlling tty */
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (*asan_prefix())
			setenv("LD_PRELOAD", asan_prefix(), 1);
		execl(SIGSHIM, "sigshim", "run", "--log", "/dev/null", "--", TOOLTEST("count-sigint"),
		      "1500", pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && access(pidfile, F_OK) != 0; i++)
		usleep(10000);
	usleep(100000);
	ck_assert_int_eq(write(master, "\003", 1), 1);
	for (;;) {
		ssize_t r = read(master, out + n, sizeof out - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = '\0';
		if (strstr(out, "sigint "))
			break;
	}
	waitpid(pid, NULL, 0);
	close(master);
	unlink(pidfile);
	ck_assert_msg(strstr(out, "sigint 1") != NULL, "child saw: %s", out);
}
END_TEST

static int alive(pid_t pid)
{
	char p[64], st[512];
	FILE *f;
	int zombie = 0;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fgets(st, sizeof st, f)) {
		char *c = strrchr(st, ')');

		zombie = c && c[1] == ' ' && (c[2] == 'Z' || c[2] == 'X');
	}
	fclose(f);
	return !zombie;
}

/* A runner killed with SIGKILL must not leave its child running. */
START_TEST(run_killed_runner_takes_child)
{
	char pidfile[256];
	pid_t runner, child = 0;
	int survived;
	FILE *f;

	snprintf(pidfile, sizeof pidfile, "/tmp/sigshim-orphan.%d", (int)getpid());
	unlink(pidfile);
	runner = fork();
	if (runner == 0) {
		if (*asan_prefix())
			setenv("LD_PRELOAD", asan_prefix(), 1);
		execl(SIGSHIM, "sigshim", "run", "--log", "/dev/null", "--", TOOLTEST("count-sigint"),
		      "20000", pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && access(pidfile, F_OK) != 0; i++)
		usleep(10000);
	f = fopen(pidfile, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &child), 1);
	fclose(f);
	unlink(pidfile);
	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	for (int i = 0; i < 300 && alive(child); i++)
		usleep(10000);
	survived = alive(child);
	if (survived)
		kill(child, SIGKILL);
	ck_assert_msg(!survived, "the child outlived its killed runner");
}
END_TEST

/* A --log path with a quote, and one too long for the options. */
START_TEST(run_log_path_quoted_and_bounded)
{
	char dir[] = "/tmp/sigshim-q.XXXXXX", log[512], pat[600], huge[9000];
	struct out o;
	const char *argv[] = { SIGSHIM, "run", "--log", log, "--", TOOLTEST("exit-with"), "0", NULL };
	const char *argv2[] = { SIGSHIM, "run", "--log", huge, "--", TOOLTEST("exit-with"), "0", NULL };
	glob_t g;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log, sizeof log, "%s/it's.%%p.jsonl", dir);
	run(&o, NULL, argv);
	ck_assert_msg(exit_code(&o) == 0, "status %d: %s", exit_code(&o), o.text);
	snprintf(pat, sizeof pat, "%s/it's.*.jsonl", dir);
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	globfree(&g);
	memset(huge, 'a', sizeof huge - 1);
	huge[0] = '/';
	huge[sizeof huge - 1] = '\0';
	run(&o, NULL, argv2);
	ck_assert_msg(exit_code(&o) == 2, "status %d: %s", exit_code(&o), o.text);
	ASSERT_STR_CONTAINS(o.text, "too long");
	snprintf(pat, sizeof pat, "rm -rf %s", dir);
	(void)!system(pat);
}
END_TEST

/* An executable FIFO as the command: an error, never a hang. */
START_TEST(run_fifo_command_does_not_hang)
{
	char dir[] = "/tmp/sigshim-f.XXXXXX", fifo[256];
	struct out o;
	const char *argv[] = { SIGSHIM, "run", "--log", "/dev/null", "--", fifo, NULL };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof fifo, "%s/prog", dir);
	ck_assert_int_eq(mkfifo(fifo, 0755), 0);
	run(&o, NULL, argv);
	ck_assert_msg(exit_code(&o) == 126, "status %d: %s", exit_code(&o), o.text);
	unlink(fifo);
	rmdir(dir);
}
END_TEST

static Suite *tools_suite(void)
{
	Suite *s = suite_create("tools");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, check_reports_violation_with_source_line);
	tcase_add_test(tc, check_with_suppression_passes);
	tcase_add_test(tc, check_clean_program_passes);
	tcase_add_test(tc, run_passes_exit_status);
	tcase_add_test(tc, run_appends_to_ld_preload);
	tcase_add_test(tc, run_warns_on_static_binary);
	tcase_add_test(tc, exitcode_option);
	tcase_add_test(tc, report_and_halt_options);
	tcase_add_test(tc, bad_options_stop_before_main);
	tcase_add_test(tc, help_options_lists_every_option);
	tcase_add_test(tc, full_disk_is_reported_not_fatal);
	tcase_add_test(tc, deleted_log_is_reported);
	tcase_add_test(tc, mapped_sink_keeps_no_descriptor);
	tcase_add_test(tc, unwritable_log_runs_on_but_bad_path_stops);
	tcase_add_test(tc, run_ctrl_c_reaches_child_once);
	tcase_add_test(tc, run_killed_runner_takes_child);
	tcase_add_test(tc, run_log_path_quoted_and_bounded);
	tcase_add_test(tc, run_fifo_command_does_not_hang);
	tcase_add_loop_test(tc, review_regressions_match_native, 0,
			    (int)(sizeof review_cases / sizeof review_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tools_suite)
