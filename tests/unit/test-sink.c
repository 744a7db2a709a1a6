/* The log sink: path expansion, opening rules, relocation, counting of
 * lost lines. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink.h"
#include "unit.h"

START_TEST(expand)
{
	char out[64];

	ASSERT_INT_EQ(audit_sink_expand("/tmp/log.%p.jsonl", 4242, out, sizeof out), 0);
	ASSERT_STR_EQ(out, "/tmp/log.4242.jsonl");
	ASSERT_INT_EQ(audit_sink_expand("a%%p-%p%", 7, out, sizeof out), 0);
	ASSERT_STR_EQ(out, "a%p-7%");
	ASSERT_INT_EQ(audit_sink_expand("0123456789%p", 123456, out, 12), -ENAMETOOLONG);
}
END_TEST

static char *tmpdir(void)
{
	static char dir[] = "/tmp/sigshim-sink-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

START_TEST(open_and_write)
{
	char path[256], got[256], buf[64];
	struct audit_sink_stats st;
	struct stat sb;
	int fd, flags;

	snprintf(path, sizeof path, "%s/l.%%p.jsonl", tmpdir());
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), 0);
	fd = audit_sink_fd();
	ASSERT_TRUE(fd >= AUDIT_SINK_FD_BASE);
	flags = fcntl(fd, F_GETFD);
	ASSERT_TRUE(flags & FD_CLOEXEC);
	ASSERT_TRUE((fcntl(fd, F_GETFL) & O_APPEND) != 0);
	ASSERT_INT_EQ(stat(got, &sb), 0);
	ASSERT_UINT_EQ(sb.st_mode & 0777, 0600);
	ASSERT_TRUE(audit_sink_claims(fd));
	ASSERT_FALSE(audit_sink_claims(fd - 1));
	ASSERT_TRUE(audit_sink_write("{\"a\":1}\n", 8));
	audit_sink_stats(&st);
	ASSERT_UINT_EQ(st.events, 1);
	fd = open(got, O_RDONLY);
	ASSERT_INT_EQ(read(fd, buf, sizeof buf), 8);
	close(fd);
}
END_TEST

START_TEST(refuses_symlink)
{
	char path[256], got[256];
	const char *d = tmpdir();

	snprintf(path, sizeof path, "%s/link", d);
	ASSERT_INT_EQ(symlink("/tmp/elsewhere-sigshim", path), 0);
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), -ELOOP);
	ASSERT_FALSE(audit_sink_active());
}
END_TEST

START_TEST(unwritable)
{
	char got[256];

	ASSERT_INT_EQ(audit_sink_open("/nonexistent-dir/x.jsonl", got, sizeof got), -ENOENT);
	ASSERT_FALSE(audit_sink_active());
	ASSERT_FALSE(audit_sink_write("x\n", 2));
}
END_TEST

/* Disk full is simulated with /dev/full put under the log's descriptor
 * (the sink itself refuses to open a device): every write fails with
 * ENOSPC and must be counted, never crash, never block. */
START_TEST(full_disk_counted)
{
	char path[256], got[256];
	struct audit_sink_stats st;
	int full;

	snprintf(path, sizeof path, "%s/full.jsonl", tmpdir());
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), 0);
	full = open("/dev/full", O_WRONLY);
	ASSERT_TRUE(full >= 0);
	int fd = audit_sink_fd();

	ASSERT_TRUE(dup2(full, fd) == fd);
	close(full);
	/* /dev/full is now the log as far as the identity check goes (it
	 * would otherwise, rightly, take it for a stranger's descriptor) */
	audit_sink_note_kind(fd);
	for (int i = 0; i < 5; i++)
		ASSERT_FALSE(audit_sink_write("{\"x\":1}\n", 8));
	audit_sink_stats(&st);
	ASSERT_UINT_EQ(st.events, 0);
	ASSERT_UINT_EQ(st.dropped, 5);
	ASSERT_UINT_EQ(st.dropped_bytes, 40);
	ASSERT_INT_EQ(st.last_errno, ENOSPC);
}
END_TEST

/* A short write (the disk filled mid-line; here RLIMIT_FSIZE) leaves a
 * cut line: it is counted, and the next line starts on a line of its own
 * instead of being glued to the fragment (issue 10, item 5). */
START_TEST(short_write_does_not_glue_next_line)
{
	char path[256], got[256], buf[256];
	struct rlimit old, lim;
	struct audit_sink_stats st;
	ssize_t n;
	int fd;

	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof path, "%s/short.jsonl", tmpdir());
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), 0);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 12;
	ASSERT_INT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ASSERT_TRUE(audit_sink_write("{\"a\":1}\n", 8));
	ASSERT_FALSE(audit_sink_write("{\"b\":2}\n", 8));   /* 4 of 8 bytes */
	ASSERT_INT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	ASSERT_TRUE(audit_sink_write("{\"c\":3}\n", 8));
	audit_sink_stats(&st);
	ASSERT_UINT_EQ(st.dropped, 1);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	ASSERT_STR_EQ(buf, "{\"a\":1}\n{\"b\"\n{\"c\":3}\n");
	audit_sink_detach(close);
}
END_TEST

/* A FIFO is not a log file, and opening it never blocks (issue 10,
 * item 7); a character device such as /dev/null is the user's choice. */
START_TEST(fifo_refused_device_taken)
{
	char path[256], got[256];

	snprintf(path, sizeof path, "%s/fifo.jsonl", tmpdir());
	ASSERT_INT_EQ(mkfifo(path, 0600), 0);
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), -ENXIO);
	ASSERT_STR_CONTAINS(audit_sink_refusal(), "regular file");
	ASSERT_INT_EQ(audit_sink_open("/dev/null", got, sizeof got), 0);
}
END_TEST

START_TEST(relocate_keeps_file)
{
	char path[256], got[256], buf[64];
	int old, fd;

	snprintf(path, sizeof path, "%s/r.jsonl", tmpdir());
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), 0);
	old = audit_sink_fd();
	ASSERT_INT_EQ(audit_sink_relocate(), 0);
	ASSERT_TRUE(audit_sink_fd() != old);
	ASSERT_FALSE(audit_sink_claims(old));
	/* The old number is left for the program's dup2() to replace (closing
	 * it ourselves could race with another thread's dup2 onto it). */
	ASSERT_INT_EQ(dup2(2, old), old);
	ASSERT_TRUE(audit_sink_write("{\"b\":2}\n", 8));
	fd = open(got, O_RDONLY);
	ASSERT_INT_EQ(read(fd, buf, sizeof buf), 8);
	close(fd);
}
END_TEST

START_TEST(low_fd_limit)
{
	char path[256], got[256];
	struct rlimit rl = { 64, 64 };

	/* valgrind keeps descriptors for itself at the top of the table and
	 * refuses RLIMIT_NOFILE changes: this case runs in the other setups. */
	if (getenv("SIGSHIM_UNDER_VALGRIND"))
		return;
	snprintf(path, sizeof path, "%s/low.jsonl", tmpdir());
	/* With a soft limit of 64 the log must still open, under it. */
	ASSERT_INT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ASSERT_INT_EQ(audit_sink_open(path, got, sizeof got), 0);
	ASSERT_TRUE(audit_sink_fd() < 64);
	ASSERT_TRUE(audit_sink_fd() >= 3);
}
END_TEST

static size_t file_size(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return (size_t)sb.st_size;
}

/* sink=mmap: lines land in the file without a descriptor kept; the file is
 * cut back to its content at the end; a later open of the same file (an
 * exec'd image, same pid) appends after the content, past any padding. */
START_TEST(mapped_sink_round_trip)
{
	char tmpl[256], got[256], buf[256];
	const char a[] = "{\"a\":1}\n", b[] = "{\"b\":2}\n";
	int fd;

	snprintf(tmpl, sizeof tmpl, "%s/m.%%p.jsonl", tmpdir());
	ASSERT_INT_EQ(audit_sink_open_mapped(tmpl, got, sizeof got), 0);
	ASSERT_TRUE(audit_sink_active());
	ASSERT_INT_EQ(audit_sink_fd(), -1);          /* no descriptor */
	ASSERT_TRUE(audit_sink_write(a, sizeof a - 1));
	/* grown ahead of the writer, in 1 MiB steps, NUL-filled */
	ASSERT_UINT_EQ(file_size(got), 1u << 20);
	ASSERT_FALSE(audit_sink_vanished());
	audit_sink_finish();
	ASSERT_FALSE(audit_sink_active());
	ASSERT_UINT_EQ(file_size(got), sizeof a - 1);
	/* a crashed image: padding after the content */
	fd = open(got, O_WRONLY);
	ASSERT_INT_EQ(ftruncate(fd, 5000), 0);
	close(fd);
	ASSERT_INT_EQ(audit_sink_open_mapped(tmpl, got, sizeof got), 0);
	ASSERT_TRUE(audit_sink_write(b, sizeof b - 1));
	audit_sink_finish();
	fd = open(got, O_RDONLY);
	ASSERT_INT_EQ(read(fd, buf, sizeof buf), (int)(sizeof a + sizeof b - 2));
	close(fd);
	ASSERT_TRUE(memcmp(buf, "{\"a\":1}\n{\"b\":2}\n", sizeof a + sizeof b - 2) == 0);
}
END_TEST

START_TEST(mapped_sink_notices_deletion)
{
	char tmpl[256], got[256];

	snprintf(tmpl, sizeof tmpl, "%s/d.%%p.jsonl", tmpdir());
	ASSERT_INT_EQ(audit_sink_open_mapped(tmpl, got, sizeof got), 0);
	ASSERT_INT_EQ(unlink(got), 0);
	ASSERT_TRUE(audit_sink_vanished());
	/* growing reopens by name: the file is gone, so the line is counted
	 * as lost, never written elsewhere */
	char big[4096];
	memset(big, 'x', sizeof big);
	for (int i = 0; i < 300; i++)
		audit_sink_write(big, sizeof big);
	struct audit_sink_stats st;
	audit_sink_stats(&st);
	ASSERT_TRUE(st.dropped > 0);
	ASSERT_TRUE(access(got, F_OK) != 0);
}
END_TEST

static Suite *sink_suite(void)
{
	Suite *s = suite_create("sink");
	TCase *tc = tcase_create("sink");

	tcase_add_test(tc, expand);
	tcase_add_test(tc, open_and_write);
	tcase_add_test(tc, refuses_symlink);
	tcase_add_test(tc, unwritable);
	tcase_add_test(tc, full_disk_counted);
	tcase_add_test(tc, fifo_refused_device_taken);
	tcase_add_test(tc, short_write_does_not_glue_next_line);
	tcase_add_test(tc, relocate_keeps_file);
	tcase_add_test(tc, low_fd_limit);
	tcase_add_test(tc, mapped_sink_round_trip);
	tcase_add_test(tc, mapped_sink_notices_deletion);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sink_suite)
