/* Symbolization end to end: sa-symtarget writes a log whose backtrace
 * points into itself; sigaudit must name its functions and source lines,
 * also after the binary moved (found by build-id in --debug-dir), and must
 * refuse a file whose build-id does not match the log's. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sa-test.h"

struct target {
	int line, caller_line;
	char build_id[128];
	char log[4096];
};

/* Run the target program at `exe`, writing its log in `dir`. */
static void run_target(const char *exe, const char *dir, struct target *t)
{
	struct sa_run r;

	snprintf(t->log, sizeof t->log, "%s/sym.jsonl", dir);
	sa_run(&r, NULL, (char *[]){(char *)exe, t->log, NULL});
	sa_assert_status(&r, 0);
	ck_assert_msg(sscanf(strstr(r.out, "line="), "line=%d", &t->line) == 1, "%s", r.out);
	ck_assert(sscanf(strstr(r.out, "caller_line="), "caller_line=%d", &t->caller_line) == 1);
	ck_assert(sscanf(strstr(r.out, "build_id="), "build_id=%127s", t->build_id) == 1);
	ck_assert_msg(strlen(t->build_id) >= 16, "target has no build-id: %s", r.out);
	sa_run_free(&r);
}

static void check_log(struct sa_run *r, const char *log, const char *debug_dir)
{
	char *argv[] = {SA_SIGAUDIT, "check", (char *)log, NULL, NULL, NULL};

	if (debug_dir) {
		argv[3] = "--debug-dir";
		argv[4] = (char *)debug_dir;
	}
	sa_run(r, NULL, argv);
	sa_assert_status(r, 1);
}

static void assert_symbolized(const struct sa_run *r, const struct target *t)
{
	char want[256];

	sa_assert_contains(r->out, "WARNING: sigshim: install-off-main (pid=31337");
	sa_assert_contains(r->out, "#0 0x");
	sa_assert_contains(r->out, " in sa_known_function ");
	snprintf(want, sizeof want, "sa-symtarget.c:%d\n", t->line);
	sa_assert_contains(r->out, want);
	snprintf(want, sizeof want, "sa-symtarget.c:%d\n", t->caller_line);
	sa_assert_contains(r->out, want);
	sa_assert_contains(r->out, " in main ");
	snprintf(want, sizeof want, "sa-symtarget.c:%d in sa_known_function\n", t->line);
	sa_assert_contains(r->out, "SUMMARY: sigshim: install-off-main ");
	sa_assert_contains(r->out, want);
	/* the signal PC is exact: frame #0 of the received event is the handler */
	sa_assert_contains(r->out, "#0 0x");
	sa_assert_contains(r->out, " in sa_known_handler ");
}

START_TEST(symbolizes_in_place)
{
	char *dir = sa_tmpdir();
	struct target t;
	struct sa_run r;

	run_target(SA_SYMTARGET, dir, &t);
	check_log(&r, t.log, NULL);
	assert_symbolized(&r, &t);
	sa_run_free(&r);
	sa_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(summary_names_the_handler)
{
	char *dir = sa_tmpdir();
	struct target t;
	struct sa_run r;

	run_target(SA_SYMTARGET, dir, &t);
	sa_run(&r, NULL, (char *[]){SA_SIGAUDIT, "summary", t.log, NULL});
	sa_assert_status(&r, 0);
	sa_assert_contains(&r.out[0], "SIGUSR1 -> 0x");
	sa_assert_contains(r.out, " sa_known_handler ");
	sa_assert_contains(r.out, "sa-symtarget.c:");
	sa_run_free(&r);
	sa_rmtree(dir);
	free(dir);
}
END_TEST

static void copy(const char *from, const char *to)
{
	struct sa_run r;

	sa_run(&r, NULL, (char *[]){"cp", (char *)from, (char *)to, NULL});
	sa_assert_status(&r, 0);
	sa_run_free(&r);
}

/* Run a copy in dir/a, then move it to dir/b under another name: the
 * logged path is gone, the build-id finds it in --debug-dir. */
START_TEST(moved_binary_found_by_build_id)
{
	char *dir = sa_tmpdir(), a[4200], b[4200], exe[4300], moved[4300], want[4700];
	struct target t;
	struct sa_run r;

	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	ck_assert(mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0);
	snprintf(exe, sizeof exe, "%s/sa-symtarget", a);
	snprintf(moved, sizeof moved, "%s/renamed-app", b);
	copy(SA_SYMTARGET, exe);
	run_target(exe, dir, &t);
	ck_assert_int_eq(rename(exe, moved), 0);

	check_log(&r, t.log, NULL);
	snprintf(want, sizeof want, "(no symbols: module %s build-id %s not found)", exe,
		 t.build_id);
	sa_assert_contains(r.out, want);
	sa_assert_lacks(r.out, "sa_known_function");
	sa_run_free(&r);

	check_log(&r, t.log, b);
	assert_symbolized(&r, &t);
	sa_run_free(&r);
	sa_rmtree(dir);
	free(dir);
}
END_TEST

/* The distro layout: DIR/.build-id/xx/rest.debug holding only debug info. */
START_TEST(debug_file_in_build_id_tree)
{
	char *dir = sa_tmpdir(), exe[4300], sub[4300], dbg[8800];
	struct target t;
	struct sa_run r;

	if (!sa_have("objcopy")) {
		fprintf(stderr, "objcopy not found: build-id tree test not run\n");
		sa_rmtree(dir);
		free(dir);
		return;
	}
	snprintf(exe, sizeof exe, "%s/sa-symtarget", dir);
	copy(SA_SYMTARGET, exe);
	run_target(exe, dir, &t);
	snprintf(sub, sizeof sub, "%s/dbg/.build-id/%.2s", dir, t.build_id);
	sa_run(&r, NULL, (char *[]){"mkdir", "-p", sub, NULL});
	sa_run_free(&r);
	snprintf(dbg, sizeof dbg, "%s/%s.debug", sub, t.build_id + 2);
	sa_run(&r, NULL, (char *[]){"objcopy", "--only-keep-debug", exe, dbg, NULL});
	sa_assert_status(&r, 0);
	sa_run_free(&r);
	unlink(exe);

	snprintf(sub, sizeof sub, "%s/dbg", dir);
	check_log(&r, t.log, sub);
	assert_symbolized(&r, &t);
	sa_run_free(&r);
	sa_rmtree(dir);
	free(dir);
}
END_TEST

/* Same path, other build: the file there must not be trusted. */
START_TEST(mismatched_build_id_is_refused)
{
	char *dir = sa_tmpdir(), *text, *at, fake[128];
	struct target t;
	struct sa_run r;

	run_target(SA_SYMTARGET, dir, &t);
	text = sa_read_file(t.log, NULL);
	memset(fake, 'f', strlen(t.build_id));
	fake[strlen(t.build_id)] = '\0';
	while ((at = strstr(text, t.build_id)))
		memcpy(at, fake, strlen(fake));
	sa_write_file(t.log, text);
	free(text);

	check_log(&r, t.log, NULL);
	sa_assert_contains(r.out, "(no symbols: module ");
	sa_assert_contains(r.out, fake);
	sa_assert_lacks(r.out, "sa_known_function");
	sa_run_free(&r);
	sa_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("symbolize");
	TCase *tc = tcase_create("symbolize");

	tcase_add_test(tc, symbolizes_in_place);
	tcase_add_test(tc, summary_names_the_handler);
	tcase_add_test(tc, moved_binary_found_by_build_id);
	tcase_add_test(tc, debug_file_in_build_id_tree);
	tcase_add_test(tc, mismatched_build_id_is_refused);
	suite_add_tcase(s, tc);
	return sa_run_suite(s);
}
