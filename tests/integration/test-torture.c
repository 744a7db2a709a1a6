/* The forwarding torture test: tests/helpers/fwd-torture.c runs a seeded,
 * randomized mix of sends, waits, masks, installs, forks and limits and
 * prints its handler runs per signal.  Natively the counts are
 * repeatable; mode=audit must print exactly the native output, and so
 * must mode=enforce (it changes where handlers run, never how often).
 *
 * Environment (for runs by hand, e.g. run the binary with the test's
 * environment, or `meson test --timeout-multiplier 0`):
 *   CK_RUN_CASE=native      only the native repeatability and audit checks
 *   SIGSHIM_TORTURE_ROUNDS  repeat the seed list (default 1)
 *   SIGSHIM_TORTURE_SEEDS   comma-separated seeds instead of the fixed list
 *   SIGSHIM_TORTURE_STEPS   steps per run (default 600)
 * On a mismatch the failure names the seed and the command that replays
 * it; the helper's '@lost'/'@extra' lines say which step expected what. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define DEFAULT_STEPS "600"
#define MAX_SEEDS 64

static const unsigned long long fixed_seeds[] = {
	1, 2, 3, 42, 0x5eed, 1000003, 77777, 0xdeadbeef,
};

enum variant { NATIVE, AUDIT, ENFORCE_LOG, ENFORCE_NOLOG, N_VARIANTS };

static const char *const variant_name[N_VARIANTS] = {
	"native", "audit", "enforce+log", "enforce",
};
static const char *const variant_opts[N_VARIANTS] = {
	NULL,
	"mode=audit:log_path={dir}/log.%p.jsonl:backtrace=0",
	"mode=enforce:log_path={dir}/log.%p.jsonl:backtrace=0",
	"mode=enforce",
};

/* --- configuration ---------------------------------------------------------- */

static unsigned long long seeds[MAX_SEEDS];
static int n_seeds;

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : dflt;
}

static const char *steps_arg(void)
{
	const char *v = getenv("SIGSHIM_TORTURE_STEPS");

	return v && *v ? v : DEFAULT_STEPS;
}

static void load_seeds(void)
{
	const char *v = getenv("SIGSHIM_TORTURE_SEEDS");

	n_seeds = 0;
	if (v && *v) {
		for (char *end; *v && n_seeds < MAX_SEEDS; v = *end ? end + 1 : end)
			seeds[n_seeds++] = strtoull(v, &end, 0);
		return;
	}
	for (size_t i = 0; i < sizeof fixed_seeds / sizeof fixed_seeds[0]; i++)
		seeds[n_seeds++] = fixed_seeds[i];
}

/* Loop index -> seed: the rounds repeat the same list, to catch what only
 * fails now and then. */
static unsigned long long seed_at(int i)
{
	return seeds[i % n_seeds];
}

/* --- running ------------------------------------------------------------------ */

struct trun {
	struct it_run r;
	char seed[32];
	enum variant v;
};

static void run_torture(struct trun *t, unsigned long long seed, enum variant v)
{
	memset(t, 0, sizeof *t);
	snprintf(t->seed, sizeof t->seed, "%llu", seed);
	t->v = v;
	t->r.helper = "fwd-torture";
	t->r.args[0] = t->seed;
	t->r.args[1] = steps_arg();
	t->r.shim = v != NATIVE;
	t->r.raw_options = variant_opts[v];
	it_run(&t->r);
}

/* The helper's '@lost', '@extra' and '@bad-siginfo' lines (at most `max`) to our stderr:
 * they name the step that expected a delivery, and can be long. */
static void show_losses(const struct trun *t, int max)
{
	const char *p = t->r.err;

	while (p && *p && max > 0) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (strncmp(p, "@lost", 5) == 0 || strncmp(p, "@extra", 6) == 0 ||
		    strncmp(p, "@bad-siginfo", 12) == 0 ||
		    strncmp(p, "@stopped", 8) == 0) {
			fprintf(stderr, "  %s: %.*s\n", variant_name[t->v], len, p);
			max--;
		}
		p += len + (nl != NULL);
	}
}

/* Exited 0 and printed the whole report. */
#define expect_complete(t) it_assert_msg(WIFEXITED((t)->r.status) && \
	WEXITSTATUS((t)->r.status) == 0 && strstr((t)->r.out, "\ndone\n"), \
	"seed %s %s: %s\nstdout:\n%s\nstderr:\n%.3000s", (t)->seed, \
	variant_name[(t)->v], it_status_str((t)->r.status), (t)->r.out, (t)->r.err)

/* `t` printed what native `n` printed, with the same status. */
static void expect_same(const struct trun *n, const struct trun *t)
{
	if (t->r.status == n->r.status && strcmp(t->r.out, n->r.out) == 0)
		return;
	show_losses(t, 12);
	if (t->v == NATIVE)
		fprintf(stderr, "  replay: fwd-torture %s %s trace\n", t->seed, steps_arg());
	else
		fprintf(stderr, "  replay: SIGSHIM_OPTIONS='%s' LD_PRELOAD=$SIGSHIM_LIB "
			"fwd-torture %s %s trace\n", variant_opts[t->v], t->seed, steps_arg());
	it_fail(__FILE__, __LINE__, "seed %s: %s differs from native\n"
		"native (%s):\n%s\n%s (%s):\n%s", t->seed, variant_name[t->v],
		it_status_str(n->r.status), n->r.out, variant_name[t->v],
		it_status_str(t->r.status), t->r.out);
}

/* The native run is the reference: complete, nothing lost or extra,
 * every send and query as the helper expects. */
static void expect_clean(const struct trun *n)
{
	static const char *const zero[] = {
		"lost-steps 0\n", "extra-steps 0\n", "send-errors 0\n",
		"bad-siginfo 0\n", "bad-queries 0\n",
	};

	expect_complete(n);
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
		if (strstr(n->r.out, zero[i]))
			continue;
		show_losses(n, 12);
		it_fail(__FILE__, __LINE__, "seed %s native lacks \"%.*s\":\n%s", n->seed,
			(int)strlen(zero[i]) - 1, zero[i], n->r.out);
	}
}

static void native_reference(struct trun *n, unsigned long long seed)
{
	run_torture(n, seed, NATIVE);
	expect_clean(n);
}

/* --- tests ---------------------------------------------------------------------- */

/* Native twice (the counts must not depend on timing), then audit. */
IT_TEST(native_repeatable_audit_identical)
{
	struct trun n, again, a;
	unsigned long long seed = seed_at(_i);

	native_reference(&n, seed);
	run_torture(&again, seed, NATIVE);
	expect_same(&n, &again);
	run_torture(&a, seed, AUDIT);
	expect_same(&n, &a);
	it_run_free(&a.r);
	it_run_free(&again.r);
	it_run_free(&n.r);
}
IT_END

static void enforce_as_native(enum variant v, int i)
{
	struct trun n, e;
	unsigned long long seed = seed_at(i);

	native_reference(&n, seed);
	run_torture(&e, seed, v);
	expect_complete(&e);
	expect_same(&n, &e);
	it_run_free(&e.r);
	it_run_free(&n.r);
}

IT_TEST(enforce_log_same_as_native)
{
	enforce_as_native(ENFORCE_LOG, _i);
}
IT_END

IT_TEST(enforce_nolog_same_as_native)
{
	enforce_as_native(ENFORCE_NOLOG, _i);
}
IT_END

/* Every signal.not_forwarded in `path` says why (its exception). */
static void not_forwarded_explained(const char *seed, const char *path)
{
	json_t *evs = it_load(path);

	for (size_t k = 0; k < json_array_size(evs); k++) {
		json_t *ev = it_ev(evs, k);
		const char *name = json_string_value(json_object_get(ev, "event"));

		it_assert_msg(!name || strcmp(name, "signal.not_forwarded") != 0 ||
			      json_object_get(ev, "exception"),
			      "seed %s: %s:%zu: signal.not_forwarded without an exception: %s",
			      seed, path, k + 1, it_dump(ev));
	}
	json_decref(evs);
}

/* The log of the process itself ends with sigshim.exit.  Loaded by name:
 * the run has a log per child (forks, vfork+exec, system), more than the
 * harness lists in r->logs. */
static void exit_is_last(const struct trun *t)
{
	char path[400];

	snprintf(path, sizeof path, "%s/log.%d.jsonl", t->r.dir, (int)t->r.pid);
	json_t *evs = it_load(path);
	long i = it_expect(evs, 0, "{s:s}", "event", "sigshim.exit");
	it_assert_msg(i == (long)json_array_size(evs) - 1,
		      "seed %s: sigshim.exit is event %ld of %zu; last: %s", t->seed, i + 1,
		      json_array_size(evs), it_dump(it_ev(evs, json_array_size(evs) - 1)));
	json_decref(evs);
}

IT_TEST(enforce_log_events)
{
	struct trun e;
	char pat[400];
	glob_t g;

	run_torture(&e, seed_at(_i), ENFORCE_LOG);
	expect_complete(&e);
	exit_is_last(&e);
	snprintf(pat, sizeof pat, "%s/log.*.jsonl", e.r.dir);
	it_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	for (size_t k = 0; k < g.gl_pathc; k++)
		not_forwarded_explained(e.seed, g.gl_pathv[k]);
	globfree(&g);
	it_run_free(&e.r);
}
IT_END

/* `test-torture native` or `test-torture enforce` runs that case alone
 * (meson registers them as two tests); no argument runs both. */
int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	Suite *s = suite_create("torture");
	/* two cases, so that CK_RUN_CASE=native checks the reference alone */
	TCase *native = tcase_create("native");
	TCase *enforce = tcase_create("enforce");
	int rounds = env_int("SIGSHIM_TORTURE_ROUNDS", 1);
	int loops;

	load_seeds();
	loops = n_seeds * (rounds > 0 ? rounds : 1);
	/* per seed and test: each loop iteration is a forked test of its own */
	tcase_set_timeout(native, 100);
	tcase_set_timeout(enforce, 100);
	tcase_add_loop_test(native, native_repeatable_audit_identical, 0, loops);
	tcase_add_loop_test(enforce, enforce_log_same_as_native, 0, loops);
	tcase_add_loop_test(enforce, enforce_nolog_same_as_native, 0, loops);
	tcase_add_loop_test(enforce, enforce_log_events, 0, loops);
	if (!only || strcmp(only, "native") == 0)
		suite_add_tcase(s, native);
	if (!only || strcmp(only, "enforce") == 0)
		suite_add_tcase(s, enforce);
	return it_main(s);
}
