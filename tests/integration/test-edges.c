/* The shim in a hostile host (issue 10): each case of
 * tests/helpers/edge-cases.c runs natively and under the shim (both modes,
 * with a log: the log's writer is what these cases attack), and what the
 * program observed must be the same. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const variants[] = {
	"mode=audit:log_path={dir}/log.%p.jsonl",
	"mode=enforce:log_path={dir}/log.%p.jsonl",
	NULL,
};

/* One edge case under the shim with these options (raw: {dir} expanded). */
static void run_case(struct it_run *r, const char *name, const char *opts)
{
	memset(r, 0, sizeof *r);
	r->helper = "edge-cases";
	r->args[0] = name;
	r->shim = 1;
	r->raw_options = opts;
	it_run(r);
}

#define SAME_AS_NATIVE(test, name) \
	IT_TEST(test) { it_same_as_native("edge-cases", name, variants, NULL, -1, NULL); } IT_END

/* 1. the log write is not a cancellation point */
SAME_AS_NATIVE(logging_adds_no_cancellation_point, "cancel-pending-mask")
/* 1. nor is sink=mmap's growing of its file (open, fallocate: the soak's
 * cancelled threads left a seq gap at every MiB) */
static const char *const mmap_variants[] = {
	"mode=audit:sink=mmap:log_path={dir}/log.%p.jsonl",
	"mode=enforce:sink=mmap:log_path={dir}/log.%p.jsonl",
	NULL,
};

IT_TEST(mmap_growth_adds_no_cancellation_point)
{
	it_same_as_native("edge-cases", "cancel-pending-many-masks", mmap_variants, NULL, -1, NULL);
}
IT_END

/* 1. nor is the wait of a relocation (dup2 onto the log's number while
 * another thread relocates or writes): it slept in nanosleep() */
SAME_AS_NATIVE(relocation_wait_adds_no_cancellation_point, "cancel-pending-dup2-storm")

/* 5. several threads dup2() onto and close the numbers the log moves
 * between: the log must never be one of the numbers a dup2 replaces (a
 * relocation that picked the number another thread was about to dup2 onto
 * lost the log), and its check must pass */
IT_TEST(dup2_storm_keeps_the_log)
{
	for (int v = 0; variants[v]; v++) {
		struct it_run r;
		char *out;
		int st;

		run_case(&r, "cancel-pending-dup2-storm", variants[v]);
		it_assert_msg(strstr(r.err, "sigshim:") == NULL, "%s: %s", variants[v], r.err);
		st = it_sigaudit_check(r.dir, &out);
		it_assert_msg(st == 0, "%s: sigaudit check exited %d:\n%.1500s", variants[v], st, out);
		free(out);
		it_run_free(&r);
	}
}
IT_END

/* 1. a handler that jumps out of a logged call leaves no writer counted */
SAME_AS_NATIVE(jump_out_of_logged_call_then_dup2, "jump-out-of-logged-call")

/* 2. signals that reach a child inside fork() are the child's */
IT_TEST(fork_window_deliveries_are_the_childs)
{
	struct it_run r;

	it_same_as_native("edge-cases", "fork-then-signal", variants, NULL, 1, &r);
	json_t *evs = it_load_main(&r);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.received"), 0);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* Runs `name` under `opts` and demands exactly `out` on stdout and exit
 * status 3 (exitcode=3 after a violation). */
static void exits_3_with(const char *name, const char *opts, const char *out)
{
	struct it_run r;

	run_case(&r, name, opts);
	it_assert_str_eq(r.out, out);
	it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3, "%s: %s", name,
		      it_status_str(r.status));
	it_run_free(&r);
}

/* 2. the parent's violation count is not the child's */
IT_TEST(fork_child_has_no_violations)
{
	exits_3_with("fork-after-violation",
		     "mode=enforce:log_path={dir}/log.%p.jsonl:exitcode=3:report=off",
		     "child status 0\n");
}
IT_END

/* 8. sigaction(sig, &sa, &sa) logs the new action as act, the old as oldact */
IT_TEST(sigaction_aliased_logs_both_actions)
{
	struct it_run r;
	char h[32];

	it_same_as_native("edge-cases", "sigaction-aliased", variants, NULL, 0, &r);
	snprintf(h, sizeof h, "%#llx", it_id(&r, "fn", "h_aliased"));
	json_t *evs = it_load_main(&r);
	long i = it_expect(evs, 0, "{s:s,s:i}", "event", "signal.sigaction", "signalnum", SIGUSR1);
	it_assert_field(json_object_get(it_ev(evs, i), "act"), "handler", "s", h);
	it_assert_field(json_object_get(it_ev(evs, i), "oldact"), "handler", "s", "SIG_DFL");
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 8. a line cut at its limit keeps the start event's identity fields */
IT_TEST(long_argv0_keeps_identity_fields)
{
	struct it_run r;

	it_same_as_native("edge-cases", "long-argv0", variants, NULL, 0, &r);
	json_t *evs = it_load_main(&r);
	long i = it_expect(evs, 1, "{s:s}", "event", "sigshim.start");   /* the exec'd image */
	json_t *ev = it_ev(evs, i);
	it_assert_field(ev, "truncated", "b", 1);
	it_assert_field(ev, "main_tid", "I", (json_int_t)r.pid);
	it_int(ev, "ppid");
	it_field(ev, "main_thread_id");
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 3. exitcode=N sets the status without throwing away buffered output */
IT_TEST(exitcode_keeps_stdio_output)
{
	exits_3_with("output-then-violation", "mode=enforce:exitcode=3:report=off",
		     "buffered output, flushed by exit\n");
}
IT_END

/* 8. a module path past the old 511-byte cut is logged whole; past what a
 * line holds, it is cut and says so */
static char *copy_helper_to_depth(char *dir, size_t dirlen, int levels)
{
	static char path[8192];
	char cmd[9000];

	snprintf(dir, dirlen, "/tmp/sigshim-longpath-XXXXXX");
	it_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s", dir);
	for (int i = 0; i < levels; i++) {
		size_t n = strlen(path);

		snprintf(path + n, sizeof path - n, "/%0200d", i);
		it_assert_msg(mkdir(path, 0700) == 0, "mkdir %s", path);
	}
	strcat(path, "/edge-cases");
	snprintf(cmd, sizeof cmd, "cp '%s/edge-cases' '%s'", getenv("SIGSHIM_HELPERS"), path);
	it_assert_int_eq(system(cmd), 0);
	return path;
}

static void long_path_case(int levels, int expect_cut)
{
	struct it_run r;
	char dir[64], cmd[128];
	const char *path = copy_helper_to_depth(dir, sizeof dir, levels);

	memset(&r, 0, sizeof r);
	r.helper = path;
	r.args[0] = "install-handler";
	r.shim = 1;
	r.raw_options = "mode=audit:log_path={dir}/log.%p.jsonl";
	it_run(&r);
	it_assert_str_eq(r.out, "installed\n");
	json_t *evs = it_load_main(&r);
	long i = it_expect(evs, 0, "{s:s}", "event", "sigshim.module");
	for (; i >= 0; i = it_find(evs, i + 1, "{s:s}", "event", "sigshim.module"))
		if (strstr(json_string_value(json_object_get(it_ev(evs, i), "path")), "sigshim-longpath"))
			break;
	it_assert_msg(i >= 0, "no module line for %s", path);
	const char *logged = json_string_value(json_object_get(it_ev(evs, i), "path"));
	if (expect_cut) {
		it_assert_field(it_ev(evs, i), "path_truncated", "b", 1);
		it_assert(strncmp(path, logged, strlen(logged)) == 0);
	} else {
		it_assert_str_eq(logged, path);
		it_assert_no_field(it_ev(evs, i), "path_truncated");
	}
	json_decref(evs);
	it_run_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	it_assert_int_eq(system(cmd), 0);
}

IT_TEST(module_path_whole_past_511_bytes) { long_path_case(4, 0); } IT_END
IT_TEST(module_path_cut_says_so) { long_path_case(19, 1); } IT_END

/* 6. a relative log_path is made absolute at the first start: after a
 * chdir the exec'd image still starts and logs beside the first */
IT_TEST(relative_log_path_survives_chdir)
{
	static const char *const rel[] = { "mode=audit:log_path=log.%p.jsonl", NULL };
	struct it_run r;

	it_same_as_native("edge-cases", "chdir-then-exec", rel, NULL, 0, &r);
	json_t *evs = it_load_main(&r);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.start"), 2);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 7. log file safety: the shim refuses a log file it should not write
 * (stop before main, status 2, one clear line) and leaves it untouched;
 * a trusted path still works. */
static char hostile[64];

static const char *hostile_dir(void)
{
	snprintf(hostile, sizeof hostile, "/tmp/sigshim-hostile.XXXXXX");
	it_assert(mkdtemp(hostile) != NULL);
	chmod(hostile, 0755);
	return hostile;
}

static void hostile_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", hostile);
	(void)!system(cmd);
}

/* Runs child-ran with log_path=path; expect_ok: it runs and logs, else it
 * must stop with status 2 and say `why`. */
static void log_at(const char *path, int expect_ok, const char *why)
{
	char opts[512];
	struct it_run r;

	snprintf(opts, sizeof opts, "mode=audit:log_path=%s", path);
	run_case(&r, "child-ran", opts);
	if (expect_ok) {
		it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: %s\n%s", path,
			      it_status_str(r.status), r.err);
		it_assert_str_eq(r.out, "child ran\n");
	} else {
		it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2,
			      "%s: expected a refusal (status 2), got %s\n%s", path,
			      it_status_str(r.status), r.err);
		it_assert_str_eq(r.out, "");
		it_assert_str_contains(r.err, "sigshim: cannot open log_path");
		it_assert_str_contains(r.err, why);
	}
	it_run_free(&r);
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

IT_TEST(log_file_of_another_user_refused)
{
	char f[128];
	int fd;

	if (geteuid() != 0) {
		printf("log_file_of_another_user_refused: skipped: needs root to chown\n");
		return;
	}
	hostile_dir();
	snprintf(f, sizeof f, "%s/log.jsonl", hostile);
	fd = open(f, O_CREAT | O_WRONLY, 0600);
	it_assert(fd >= 0);
	close(fd);
	it_assert(chown(f, 65534, 65534) == 0);
	log_at(f, 0, "owned by another user");
	it_assert_int_eq(file_size(f), 0);
	hostile_cleanup();
}
IT_END

IT_TEST(log_file_writable_by_others_refused)
{
	char f[128];
	struct stat sb;
	int fd;

	hostile_dir();
	snprintf(f, sizeof f, "%s/log.jsonl", hostile);
	fd = open(f, O_CREAT | O_WRONLY, 0600);
	it_assert(fd >= 0);
	close(fd);
	it_assert(chmod(f, 0666) == 0);
	log_at(f, 0, "writable by group or others");
	it_assert_int_eq(file_size(f), 0);
	it_assert(stat(f, &sb) == 0 && (sb.st_mode & 0777) == 0666);
	hostile_cleanup();
}
IT_END

IT_TEST(log_dir_symlink_of_another_user_refused)
{
	char real[128], link[128], f[160];

	hostile_dir();
	snprintf(real, sizeof real, "%s/real", hostile);
	snprintf(link, sizeof link, "%s/dirlink", hostile);
	it_assert(mkdir(real, 0755) == 0);
	it_assert(symlink(real, link) == 0);
	snprintf(f, sizeof f, "%s/log.jsonl", link);
	/* ours: followed (a /var/run -> /run link must keep working) */
	log_at(f, 1, NULL);
	if (geteuid() == 0) {
		snprintf(f, sizeof f, "%s/log.jsonl", real);
		unlink(f);
		it_assert(lchown(link, 65534, 65534) == 0);
		snprintf(f, sizeof f, "%s/log2.jsonl", link);
		log_at(f, 0, "symbolic link");
		snprintf(f, sizeof f, "%s/log2.jsonl", real);
		it_assert_int_eq(file_size(f), -1);
	} else {
		printf("log_dir_symlink_of_another_user_refused: untrusted part skipped: needs root\n");
	}
	hostile_cleanup();
}
IT_END

IT_TEST(log_fifo_refused_without_blocking)
{
	char f[128];

	hostile_dir();
	snprintf(f, sizeof f, "%s/log.jsonl", hostile);
	it_assert(mkfifo(f, 0600) == 0);
	log_at(f, 0, "not a regular file");
	hostile_cleanup();
}
IT_END

/* 8. log_path=stderr whose reader went away: the program, which never
 * writes to stderr itself, must not die of SIGPIPE (both modes). */
static void stderr_reader_gone(const char *opts)
{
	int err_pipe[2], out_pipe[2], st;
	char helper[512], buf[256];
	ssize_t n;
	pid_t pid;

	snprintf(helper, sizeof helper, "%s/edge-cases", getenv("SIGSHIM_HELPERS"));
	it_assert(pipe(err_pipe) == 0 && pipe(out_pipe) == 0);
	close(err_pipe[0]);   /* nobody will read the log */
	pid = fork();
	if (pid == 0) {
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		close(out_pipe[0]);
		setenv("LD_PRELOAD", getenv("SIGSHIM_PRELOAD"), 1);
		setenv("SIGSHIM_OPTIONS", opts, 1);
		signal(SIGPIPE, SIG_DFL);
		execl(helper, "edge-cases", "child-ran", (char *)NULL);
		_exit(127);
	}
	close(err_pipe[1]);
	close(out_pipe[1]);
	n = read(out_pipe[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(out_pipe[0]);
	waitpid(pid, &st, 0);
	it_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", opts, it_status_str(st));
	it_assert_str_eq(buf, "child ran\n");
}

/* 5. dup2 onto the log's number with the table full: the program gets its
 * descriptor, and the loss is said on stderr with a count at exit. */
/* Runs edge-cases `name` under prlimit --nofile=N:N natively (n) and
 * under the shim (s); the same stdout and status. */
static void with_nofile(const char *limit, const char *name, struct it_run *n, struct it_run *s)
{
	static char helper[512];

	snprintf(helper, sizeof helper, "%s/edge-cases", getenv("SIGSHIM_HELPERS"));
	memset(n, 0, sizeof *n);
	n->helper = "/usr/bin/prlimit";
	n->args[0] = limit;
	n->args[1] = helper;
	n->args[2] = name;
	*s = *n;
	it_run(n);
	s->shim = 1;
	s->raw_options = "mode=audit:log_path={dir}/log.%p.jsonl";
	it_run(s);
	it_assert_msg(s->status == n->status && strcmp(s->out, n->out) == 0,
		      "%s: native (%s) %s, shim (%s) %s\n%s", name, it_status_str(n->status), n->out,
		      it_status_str(s->status), s->out, s->err);
}

IT_TEST(dup2_onto_log_with_table_full_says_so)
{
	struct it_run n, s;

	with_nofile("--nofile=64:64", "dup2-table-full", &n, &s);
	it_assert_str_eq(n.out, "dup2 failures 0, table was full: yes\n");
	it_assert_str_contains(s.err, "sigshim: the audit log is lost");
	it_assert_str_contains(s.err, "could not be written");
	it_run_free(&n);
	it_run_free(&s);
}
IT_END

/* 5. with RLIMIT_NOFILE 8 the log takes the highest free number, not the
 * one the program's next open() gets. */
IT_TEST(low_nofile_leaves_program_numbers)
{
	struct it_run n, s;

	with_nofile("--nofile=8:8", "low-nofile", &n, &s);
	it_assert_str_eq(n.out, "fds 3 4 5\n");
	it_run_free(&n);
	it_run_free(&s);
}
IT_END

/* 5. syscall(SYS_close_range, 3, ~0U, 0) goes through glibc's syscall():
 * the log survives it as it survives close_range(), and nothing of it
 * lands in the program's file. */
IT_TEST(raw_close_range_keeps_log_and_program_file)
{
	struct it_run r;

	it_same_as_native("edge-cases", "raw-close-range-reuse", variants, NULL, 0, &r);
	it_assert_str_eq(r.out, "high fds 32, file holds 13 bytes: program line\n");
	json_t *evs = it_load_main(&r);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "signal.pthread_sigmask"), 6);
	it_assert_int_eq(it_count(evs, "{s:s}", "event", "sigshim.exit"), 1);
	json_decref(evs);
	it_run_free(&r);
}
IT_END

/* 5. the close_range instruction itself closes the log unseen, and the
 * program takes its number: the sink's identity check (device and inode)
 * finds a stranger there, writes nothing into it, says so on stderr and
 * counts what it could not write; the program's close of that number
 * works as natively. */
IT_TEST(insn_close_range_then_reuse_keeps_program_file)
{
	struct it_run r;

	it_same_as_native("edge-cases", "asm-close-range-reuse", variants, NULL, 0, &r);
	it_assert_str_eq(r.out, "high fds 32, file holds 13 bytes: program line\nclose of 1000: 0\n");
	it_assert_str_contains(r.err, "sigshim: the audit log's descriptor was closed");
	it_assert_str_contains(r.err, "could not be written");
	it_run_free(&r);
}
IT_END

/* 10. a process that ends with _exit (a forked child's usual end) gets
 * its sigshim.exit, with how and status; a vfork child's _exit writes
 * nothing into the parent's log. */
IT_TEST(exit_by__exit_is_recorded)
{
	static const char *const v[] = { "mode=audit:log_path={dir}/log.%p.jsonl", NULL };
	struct it_run r;
	int exits = 0, underscore = 0;

	it_same_as_native("edge-cases", "fork-then-_exit", v, NULL, 0, &r);
	it_assert_int_eq(r.nlogs, 2);
	for (int i = 0; i < r.nlogs; i++) {
		json_t *evs = it_load(r.logs[i]);

		exits += (int)it_count(evs, "{s:s}", "event", "sigshim.exit");
		underscore += (int)it_count(evs, "{s:s,s:s,s:i}", "event", "sigshim.exit", "how", "_exit",
					    "status", 3);
		json_decref(evs);
	}
	it_assert_int_eq(exits, 2);
	it_assert_int_eq(underscore, 1);
	it_run_free(&r);
}
IT_END

/* 4. sink=mmap: exit while four threads log, many times: never a crash,
 * and every log parses. */
IT_TEST(mmap_exit_racing_loggers)
{
	for (int i = 0; i < 60; i++) {
		struct it_run r;

		run_case(&r, "exit-racing-loggers", "mode=audit:sink=mmap:log_path={dir}/log.%p.jsonl");
		it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "run %d: %s\n%s", i,
			      it_status_str(r.status), r.err);
		json_decref(it_load_main(&r));
		it_run_free(&r);
	}
}
IT_END

/* 4. sink=mmap: the log truncated under the program (logrotate
 * copytruncate): no SIGBUS, and the loss is said. */
IT_TEST(mmap_log_truncated_no_sigbus)
{
	static const char *const opts[] = {
		"mode=audit:sink=mmap:log_path={dir}/log.%p.jsonl",
		"mode=enforce:sink=mmap:log_path={dir}/log.%p.jsonl",
	};

	for (int v = 0; v < 2; v++) {
		struct it_run r;

		run_case(&r, "log-truncated", opts[v]);
		it_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s: %s\n%s", opts[v],
			      it_status_str(r.status), r.err);
		it_assert_str_eq(r.out, "survived\n");
		it_assert_str_contains(r.err, "sigshim:");
		it_run_free(&r);
	}
}
IT_END

IT_TEST(stderr_log_without_reader_no_sigpipe)
{
	stderr_reader_gone("mode=audit:log_path=stderr");
	stderr_reader_gone("mode=enforce:log_path=stderr");
}
IT_END

int main(void)
{
	Suite *s = suite_create("edges");
	TCase *tc = tcase_create("edges");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, logging_adds_no_cancellation_point);
	tcase_add_test(tc, mmap_growth_adds_no_cancellation_point);
	tcase_add_test(tc, relocation_wait_adds_no_cancellation_point);
	tcase_add_test(tc, dup2_storm_keeps_the_log);
	tcase_add_test(tc, jump_out_of_logged_call_then_dup2);
	tcase_add_test(tc, fork_window_deliveries_are_the_childs);
	tcase_add_test(tc, fork_child_has_no_violations);
	tcase_add_test(tc, sigaction_aliased_logs_both_actions);
	tcase_add_test(tc, long_argv0_keeps_identity_fields);
	tcase_add_test(tc, exitcode_keeps_stdio_output);
	tcase_add_test(tc, module_path_whole_past_511_bytes);
	tcase_add_test(tc, module_path_cut_says_so);
	tcase_add_test(tc, relative_log_path_survives_chdir);
	tcase_add_test(tc, log_file_of_another_user_refused);
	tcase_add_test(tc, log_file_writable_by_others_refused);
	tcase_add_test(tc, log_dir_symlink_of_another_user_refused);
	tcase_add_test(tc, log_fifo_refused_without_blocking);
	tcase_add_test(tc, stderr_log_without_reader_no_sigpipe);
	tcase_add_test(tc, exit_by__exit_is_recorded);
	tcase_add_test(tc, mmap_exit_racing_loggers);
	tcase_add_test(tc, mmap_log_truncated_no_sigbus);
	tcase_add_test(tc, dup2_onto_log_with_table_full_says_so);
	tcase_add_test(tc, low_nofile_leaves_program_numbers);
	tcase_add_test(tc, raw_close_range_keeps_log_and_program_file);
	tcase_add_test(tc, insn_close_range_then_reuse_keeps_program_file);
	suite_add_tcase(s, tc);
	return it_main(s);
}
