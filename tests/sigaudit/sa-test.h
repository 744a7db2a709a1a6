/* Shared helpers of the sigaudit tests: run a program and capture its
 * output, read files, and assertions that show what was looked for and in
 * what (check's own macros print only the expression). */
#ifndef SA_TEST_H
#define SA_TEST_H

#include <check.h>
#include <stdbool.h>
#include <string.h>

struct sa_run {
	int status;     /* exit code, or 128+signal */
	char *out;
	char *err;
};

/* argv[0] is looked up in PATH when it has no slash.  stdin_path may be
 * NULL (then /dev/null). */
void sa_run(struct sa_run *r, const char *stdin_path, char *const argv[]);
void sa_run_free(struct sa_run *r);
char *sa_read_file(const char *path, size_t *len);
void sa_write_file(const char *path, const char *text);
/* A fresh directory under $TMPDIR, removed by sa_rmtree. */
char *sa_tmpdir(void);
void sa_rmtree(const char *dir);
const char *sa_data(const char *name);  /* $SIGSHIM_TESTDATA/name (static buffer) */
bool sa_have(const char *prog);          /* found in PATH */
int sa_run_suite(Suite *s);

#define sa_assert_contains(hay, needle) \
	ck_assert_msg((hay) && strstr((hay), (needle)), \
		      "expected \"%s\" in:\n---\n%s\n---", (needle), (hay) ? (hay) : "(null)")
#define sa_assert_lacks(hay, needle) \
	ck_assert_msg(!(hay) || !strstr((hay), (needle)), \
		      "did not expect \"%s\" in:\n---\n%s\n---", (needle), (hay))
#define sa_assert_status(r, want) \
	ck_assert_msg((r)->status == (want), "exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", \
		      (r)->status, (want), (r)->out, (r)->err)

#endif
