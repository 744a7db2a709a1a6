/* Helpers shared by the sigaudit tests (see sa-test.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sa-test.h"

extern char **environ;

static int capture_fd(char *tmpl)
{
	int fd = mkstemp(tmpl);

	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	unlink(tmpl);
	return fd;
}

static char *slurp_fd(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf = malloc((size_t)len + 1);

	ck_assert(buf != NULL);
	ck_assert_int_eq(pread(fd, buf, (size_t)len, 0), len);
	buf[len] = '\0';
	close(fd);
	return buf;
}

void sa_run(struct sa_run *r, const char *stdin_path, char *const argv[])
{
	char out_t[] = "/tmp/sa-out-XXXXXX", err_t[] = "/tmp/sa-err-XXXXXX";
	int out = capture_fd(out_t), err = capture_fd(err_t), st;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	ck_assert_msg(errno == 0, "spawn %s: %s", argv[0], strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = slurp_fd(out);
	r->err = slurp_fd(err);
}

void sa_run_free(struct sa_run *r)
{
	free(r->out);
	free(r->err);
}

char *sa_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	char *s = slurp_fd(fd);
	if (len)
		*len = strlen(s);
	return s;
}

void sa_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "create %s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

char *sa_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *d;

	ck_assert(asprintf(&d, "%s/sigaudit-test-XXXXXX", base) > 0);
	ck_assert_msg(mkdtemp(d) != NULL, "mkdtemp: %s", strerror(errno));
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void sa_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *sa_data(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("SIGSHIM_TESTDATA");

	ck_assert_msg(dir != NULL, "SIGSHIM_TESTDATA is not set (run through meson test)");
	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

bool sa_have(const char *prog)
{
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : strdup("/usr/bin:/bin");
	char *save = NULL, full[4096];
	bool found = false;

	for (char *d = strtok_r(path, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof full, "%s/%s", d, prog);
		found = access(full, X_OK) == 0;
	}
	free(path);
	return found;
}

int sa_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
