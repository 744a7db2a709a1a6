/* sigaudit at the scale of CI runs (issue 10, item 10): memory a fraction
 * of the log, the parallel reader giving exactly what the sequential one
 * gives, and trees of 100k threads or processes.  Nothing here is timed
 * (bench/ measures speed); check's timeout only catches a reviewer that has
 * gone quadratic again (100k tids took minutes). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "sa-test.h"

#define SA SA_SIGAUDIT

struct gen {
	int procs, threads, events;     /* events per thread */
	int junk_every;                 /* a malformed line every N (0: none) */
	bool pad;                       /* sink=mmap NUL padding between processes */
};

/* A log as a real run writes it: each process a start line with its
 * options, modules, then masks, installs, queries, sends, receipts and
 * handling, interleaved across its threads, and an exit line. */
static long long gen_log(const char *path, const struct gen *g)
{
	FILE *f = fopen(path, "we");
	long long ts = 1796659607023473536LL;
	struct stat sb;

	ck_assert_ptr_nonnull(f);
	for (int p = 0; p < g->procs; p++) {
		int pid = 1000 + p * (g->threads + 1);
		long long seq = 1, line = 0;

		fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
			"\"event\":\"sigshim.start\",\"version\":\"0.1.0\",\"ppid\":%d,"
			"\"main_tid\":%d,\"main_thread_id\":1399459655%05d,\"options\":{\"mode\":"
			"\"enforce\",\"log_path\":\"/tmp/gen/soak.%%p.jsonl\",\"backtrace\":0,"
			"\"rule_install_off_main\":\"deny\",\"exitcode\":-1,\"sink\":\"write\"},"
			"\"exe\":\"/usr/bin/app\",\"argv0\":\"app\"}\n",
			seq++, ts++, pid, pid, p ? 1000 : 1, pid, p);
		for (int m = 0; m < 4; m++)
			fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
				"\"event\":\"sigshim.module\",\"path\":\"/usr/lib/x86_64-linux-gnu/"
				"lib%d.so.6\",\"base\":\"0x7f47b5%02d0000\",\"start\":\"0x7f47b5%02d0000\","
				"\"end\":\"0x7f47b5%02d8000\",\"build_id\":null}\n",
				seq++, ts++, pid, pid, m, m, m, m);
		for (int e = 0; e < g->events; e++)
			for (int t = 0; t <= g->threads; t++) {
				int tid = pid + t;
				long long id = 139945965568960LL + t * 8392704LL;
				const char *main = t ? "false" : "true";

				line++;
				if (g->junk_every && line % g->junk_every == 0) {
					static const char *const junk[] = {
						"{\"v\":1,\"seq\":", "not json at all",
						"{\"v\":1,\"seq\":1,\"seq\":2,\"ts\":1,\"pid\":1,\"tid\":1,\"event\":\"x\"}",
						"{\"v\":1,\"ts\":1,\"pid\":1,\"tid\":1,\"event\":\"x\"}",
						"[1,2,3]",
					};

					fprintf(f, "%s\n", junk[line / g->junk_every % 5]);
				}
				switch (e % 6) {
				case 0:
				case 3:
					fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
						"\"event\":\"signal.pthread_sigmask\",\"thread_id\":%lld,"
						"\"main\":%s,\"version\":\"GLIBC_2.32\",\"how\":\"SIG_BLOCK\","
						"\"set\":[14],\"ret\":0}\n", seq++, ts++, pid, tid, id, main);
					break;
				case 1:
					fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
						"\"event\":\"signal.sigaction\",\"thread_id\":%lld,\"signalnum\":12,"
						"\"signame\":\"SIGUSR2\",\"main\":%s,\"act\":null,\"oldact\":"
						"{\"handler\":\"SIG_DFL\",\"flags\":[],\"mask\":[]},\"act_ptr\":null,"
						"\"oldact_ptr\":\"0x7f47b50fc7f0\",\"ret\":0}\n",
						seq++, ts++, pid, tid, id, main);
					break;
				case 2:
					fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
						"\"event\":\"signal.kill\",\"thread_id\":%lld,\"signalnum\":14,"
						"\"signame\":\"SIGALRM\",\"main\":%s,\"target_pid\":%d,\"ret\":0}\n",
						seq++, ts++, pid, tid, id, main, pid);
					break;
				case 4:
					fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
						"\"event\":\"signal.received\",\"thread_id\":%lld,\"signalnum\":14,"
						"\"signame\":\"SIGALRM\",\"main\":%s,\"si_code\":\"SI_USER\","
						"\"si_code_num\":0,\"handler\":\"0x555fbfc76a40\"}\n",
						seq++, ts++, pid, tid, id, main);
					break;
				default:
					fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
						"\"event\":\"signal.handled\",\"thread_id\":%lld,\"signalnum\":14,"
						"\"signame\":\"SIGALRM\",\"main\":%s,\"handler\":\"0x555fbfc76a40\","
						"\"from_tid\":%d,\"from_thread_id\":%lld,\"latency_ns\":%d}\n",
						seq++, ts++, pid, tid, id, main, tid, id, e % 977);
					break;
				}
			}
		fprintf(f, "{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"pid\":%d,\"tid\":%d,"
			"\"event\":\"sigshim.exit\",\"events\":%lld,\"dropped\":0,\"dropped_bytes\":0,"
			"\"truncated\":0,\"violations\":0,\"how\":\"exit\",\"status\":0}\n",
			seq, ts++, pid, pid, seq);
		if (g->pad)
			fwrite("\0\0\0\0\0\0\0\0", 1, 8, f);
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

/* Peak resident set of `sigaudit CMD LOG` in KiB (output thrown away). */
static long peak_kib(const char *cmd, const char *log, const char *threads)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		if (threads)
			setenv("SIGAUDIT_THREADS", threads, 1);
		execl(SA, SA, cmd, log, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 3,
		      "sigaudit %s died (status 0x%x)", cmd, status);
	return ru.ru_maxrss;
}

START_TEST(memory_is_a_fraction_of_the_log)
{
	char *dir = sa_tmpdir(), big[512], small[512];
	struct gen g = {.procs = 40, .threads = 7, .events = 1100};
	/* the base: just over the size where the reader starts its threads, so
	 * that what is compared is what grows with the log */
	struct gen base_log = {.procs = 1, .threads = 7, .events = 2500};
	long long size;

	snprintf(big, sizeof big, "%s/big.jsonl", dir);
	snprintf(small, sizeof small, "%s/small.jsonl", dir);
	size = gen_log(big, &g);
	ck_assert_int_gt(gen_log(small, &base_log), 4LL << 20);
	ck_assert_int_gt(size, 60LL << 20);
	for (int c = 0; c < 2; c++) {
		const char *cmd = c ? "check" : "summary";

		for (int t = 0; t < 2; t++) {
			const char *threads = t ? "4" : "1";
			long base = peak_kib(cmd, small, threads);
			long peak = peak_kib(cmd, big, threads);

			/* the first version kept jansson objects: ten times the log;
			 * under ASan (shadow memory, quarantine) only the runs count */
			ck_assert_msg(SA_SANITIZED || (peak - base) * 1024LL * 4 <= size,
				      "%s (threads %s): %ld KiB over its %ld KiB base for a "
				      "%lld KiB log: more than a quarter", cmd, threads,
				      peak - base, base, size / 1024);
		}
	}
	sa_rmtree(dir);
	free(dir);
}
END_TEST

static void run_threads(struct sa_run *r, const char *threads, char *const argv[])
{
	setenv("SIGAUDIT_THREADS", threads, 1);
	sa_run(r, NULL, argv);
	unsetenv("SIGAUDIT_THREADS");
}

/* Whatever the threads do, callers see lines in file order: same output,
 * same messages (malformed lines among them), same status. */
START_TEST(parallel_reading_matches_sequential)
{
	char *dir = sa_tmpdir(), log[512];
	struct gen g = {.procs = 6, .threads = 3, .events = 2500, .junk_every = 997, .pad = true};
	static const char *const cmds[][3] = {
		{"summary", NULL}, {"check", NULL}, {"list", NULL}, {"list", "--json"},
	};

	snprintf(log, sizeof log, "%s/mixed.jsonl", dir);
	ck_assert_int_gt(gen_log(log, &g), 5LL << 20);   /* above the threading threshold */
	for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
		struct sa_run one, many;
		char *argv[5] = {SA, (char *)cmds[c][0]};
		int n = 2;

		if (cmds[c][1])
			argv[n++] = (char *)cmds[c][1];
		argv[n++] = log;
		argv[n] = NULL;
		run_threads(&one, "1", argv);
		run_threads(&many, "4", argv);
		ck_assert_int_eq(one.status, many.status);
		ck_assert_msg(strcmp(one.out, many.out) == 0, "%s: stdout differs", cmds[c][0]);
		ck_assert_msg(strcmp(one.err, many.err) == 0, "%s: stderr differs:\n%s\n---\n%s",
			      cmds[c][0], one.err, many.err);
		sa_assert_contains(one.err, "invalid JSON");
		sa_assert_contains(one.err, "duplicate");
		sa_run_free(&one);
		sa_run_free(&many);
	}
	sa_rmtree(dir);
	free(dir);
}
END_TEST

/* 100k threads in one process, 100k processes in one tree: linear work,
 * and the numbers add up. */
START_TEST(hundred_thousand_threads_and_processes)
{
	char *dir = sa_tmpdir(), tids[512], pids[512];
	struct gen many_tids = {.procs = 1, .threads = 99999, .events = 1};
	struct gen many_pids = {.procs = 100000, .threads = 0, .events = 1};
	struct sa_run r;

	snprintf(tids, sizeof tids, "%s/tids.jsonl", dir);
	snprintf(pids, sizeof pids, "%s/pids.jsonl", dir);
	gen_log(tids, &many_tids);
	gen_log(pids, &many_pids);
	sa_run(&r, NULL, (char *[]){SA, "summary", tids, NULL});
	sa_assert_status(&r, 0);
	sa_assert_contains(r.out, "total: 1 process, 100006 events in 1 file");
	/* 100k threads: the short form too, not 100k sections */
	sa_assert_contains(r.out, "1 process, 100000 threads (short form");
	ck_assert_int_lt(strlen(r.out), 4000);
	sa_run_free(&r);
	sa_run(&r, NULL, (char *[]){SA, "check", pids, NULL});
	sa_assert_status(&r, 0);
	sa_assert_contains(r.out, "no violations (700000 events, 100000 processes)");
	sa_run_free(&r);
	/* a tree of thousands: the short form, a bounded number of lines */
	sa_run(&r, NULL, (char *[]){SA, "summary", "--top", "3", pids, NULL});
	sa_assert_status(&r, 0);
	sa_assert_contains(r.out, "100000 processes, 100000 threads (short form");
	sa_assert_contains(r.out, "ends: 100000 with an exit record (0 by _exit/_Exit), 0 ENDED");
	sa_assert_contains(r.out, "top 3 processes by events:\n    pid 1000 ");
	sa_assert_contains(r.out, "by signal, all processes:");
	sa_assert_contains(r.out, "total: 100000 processes, 700000 events in 1 file");
	ck_assert_int_lt(strlen(r.out), 4000);
	sa_run_free(&r);
	sa_run(&r, NULL, (char *[]){SA, "summary", "--full", pids, NULL});
	sa_assert_status(&r, 0);
	sa_assert_contains(r.out, "process 100999 (app, /usr/bin/app) parent 1000\n");
	sa_run_free(&r);
	sa_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sigaudit-scale");
	TCase *tc = tcase_create("scale");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, memory_is_a_fraction_of_the_log);
	tcase_add_test(tc, parallel_reading_matches_sequential);
	tcase_add_test(tc, hundred_thousand_threads_and_processes);
	suite_add_tcase(s, tc);
	return sa_run_suite(s);
}
