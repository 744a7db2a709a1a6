/* SIGSHIM_OPTIONS parsing: every key, every bad value names the key and
 * what it accepts. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "options.h"
#include "unit.h"

static int parse(struct shim_options *o, const char *s, char *err)
{
	shim_options_default(o);
	err[0] = '\0';
	return shim_options_parse(o, s, err, 512);
}

START_TEST(defaults)
{
	struct shim_options o;

	shim_options_default(&o);
	ASSERT_INT_EQ(o.mode, SHIM_MODE_ENFORCE);
	ASSERT_STR_EQ(o.log_path, "");
	ASSERT_UINT_EQ(o.backtrace, 0);
	ASSERT_INT_EQ(o.rule_install_off_main, SHIM_POLICY_DENY);
	ASSERT_INT_EQ(o.exitcode, -1);
	ASSERT_FALSE(o.halt_on_violation);
	ASSERT_INT_EQ(o.report, SHIM_REPORT_STDERR);
}
END_TEST

START_TEST(all_keys)
{
	struct shim_options o;
	char err[512];

	ASSERT_INT_EQ(parse(&o, "mode=audit:log_path=/tmp/x.%p.jsonl:backtrace=16:"
			    "rule_install_off_main=report:exitcode=23:halt_on_violation=1:"
			    "report=off:help=0", err), 0);
	ASSERT_INT_EQ(o.mode, SHIM_MODE_AUDIT);
	ASSERT_STR_EQ(o.log_path, "/tmp/x.%p.jsonl");
	ASSERT_UINT_EQ(o.backtrace, 16);
	ASSERT_INT_EQ(o.rule_install_off_main, SHIM_POLICY_REPORT);
	ASSERT_INT_EQ(o.exitcode, 23);
	ASSERT_TRUE(o.halt_on_violation);
	ASSERT_INT_EQ(o.report, SHIM_REPORT_OFF);
	ASSERT_FALSE(o.help);
}
END_TEST

START_TEST(sink_option)
{
	struct shim_options o;
	char err[512];

	ASSERT_INT_EQ(parse(&o, "log_path=/tmp/x.jsonl", err), 0);
	ASSERT_INT_EQ(o.sink, SHIM_SINK_WRITE);   /* the default */
	ASSERT_INT_EQ(parse(&o, "log_path=/tmp/x.%p.jsonl:sink=mmap", err), 0);
	ASSERT_INT_EQ(o.sink, SHIM_SINK_MMAP);
	/* a mapping per process: one file cannot be shared by several */
	ASSERT_INT_EQ(parse(&o, "sink=mmap:log_path=/tmp/x.jsonl", err), -1);
	ASSERT_STR_CONTAINS(err, "sink=mmap needs a per-process log_path");
	/* "%%p" is a literal "%p", the same name for every process */
	ASSERT_INT_EQ(parse(&o, "sink=mmap:log_path=/tmp/x.%%p.jsonl", err), -1);
	ASSERT_STR_CONTAINS(err, "sink=mmap needs a per-process log_path");
	ASSERT_INT_EQ(parse(&o, "sink=mmap:log_path=/tmp/x.%%%p.jsonl", err), 0);
	ASSERT_INT_EQ(parse(&o, "sink=fast", err), -1);
	ASSERT_STR_CONTAINS(err, "write|mmap");
}
END_TEST

START_TEST(later_items_win_and_empty_items)
{
	struct shim_options o;
	char err[512];

	ASSERT_INT_EQ(parse(&o, "::mode=audit::mode=enforce:", err), 0);
	ASSERT_INT_EQ(o.mode, SHIM_MODE_ENFORCE);
	ASSERT_INT_EQ(parse(&o, "", err), 0);
}
END_TEST

START_TEST(quoted_values)
{
	struct shim_options o;
	char err[512];

	ASSERT_INT_EQ(parse(&o, "log_path='/tmp/a:b/c.jsonl':mode=audit", err), 0);
	ASSERT_STR_EQ(o.log_path, "/tmp/a:b/c.jsonl");
	ASSERT_INT_EQ(o.mode, SHIM_MODE_AUDIT);
	ASSERT_INT_EQ(parse(&o, "log_path=\"/x y\"", err), 0);
	ASSERT_STR_EQ(o.log_path, "/x y");
	ASSERT_INT_EQ(parse(&o, "log_path='/unterminated", err), -1);
	ASSERT_STR_CONTAINS(err, "unterminated");
	ASSERT_INT_EQ(parse(&o, "log_path='/a'junk", err), -1);
	ASSERT_STR_CONTAINS(err, "log_path");
}
END_TEST

START_TEST(unknown_key)
{
	struct shim_options o;
	char err[512];

	ASSERT_INT_EQ(parse(&o, "mode=audit:colour=blue", err), -1);
	ASSERT_STR_CONTAINS(err, "unknown option 'colour'");
	ASSERT_STR_CONTAINS(err, "mode, log_path");
	ASSERT_TRUE(strchr(err, '\n') == NULL);
}
END_TEST

START_TEST(bad_values)
{
	static const struct { const char *in, *key, *accepted; } cases[] = {
		{ "mode=strict", "'mode'", "audit|enforce" },
		{ "mode=", "'mode'", "audit|enforce" },
		{ "backtrace=65", "'backtrace'", "0 to 64" },
		{ "backtrace=-1", "'backtrace'", "0 to 64" },
		{ "backtrace=12abc", "'backtrace'", "0 to 64" },
		{ "backtrace=", "'backtrace'", "0 to 64" },
		{ "backtrace=99999999999999999999", "'backtrace'", "0 to 64" },
		{ "exitcode=256", "'exitcode'", "0 to 255" },
		{ "halt_on_violation=maybe", "'halt_on_violation'", "0|1" },
		{ "report=syslog", "'report'", "stderr|off" },
		{ "rule_install_off_main=warn", "'rule_install_off_main'", "deny|report|allow" },
		{ "log_path=", "'log_path'", "file path" },
		{ "help=2", "'help'", "0|1" },
	};
	struct shim_options o;
	char err[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(parse(&o, cases[i].in, err) == -1, "accepted: %s", cases[i].in);
		ASSERT_STR_CONTAINS(err, cases[i].key);
		ASSERT_STR_CONTAINS(err, cases[i].accepted);
		ASSERT_STR_CONTAINS(err, "sigshim: SIGSHIM_OPTIONS:");
	}
}
END_TEST

START_TEST(malformed_items)
{
	struct shim_options o;
	char err[512];

	ASSERT_INT_EQ(parse(&o, "mode", err), -1);
	ASSERT_STR_CONTAINS(err, "expected key=value");
	ASSERT_INT_EQ(parse(&o, "mode=audit:backtrace", err), -1);
	ASSERT_STR_CONTAINS(err, "'backtrace'");
	ASSERT_INT_EQ(parse(&o, "=audit", err), -1);
	ASSERT_INT_EQ(parse(&o, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", err), -1);
	ASSERT_STR_CONTAINS(err, "too long");
}
END_TEST

START_TEST(long_path)
{
	struct shim_options o;
	char err[512];
	static char in[SHIM_PATH_MAX + 64];

	strcpy(in, "log_path=/");
	memset(in + strlen(in), 'a', SHIM_PATH_MAX + 10);
	ASSERT_INT_EQ(parse(&o, in, err), -1);
	ASSERT_STR_CONTAINS(err, "log_path");
}
END_TEST

START_TEST(run_where_received_lists)
{
	struct shim_options o;
	char err[512];

	shim_options_default(&o);
	/* profilers, and Boehm GC's suspend/restart */
	ASSERT_TRUE(o.run_where_received == ((1ULL << (SIGPROF - 1)) | (1ULL << (SIGPWR - 1)) |
					     (1ULL << (SIGXCPU - 1))));
	ASSERT_INT_EQ(parse(&o, "run_where_received=SIGPWR,XCPU,27", err), 0);
	ASSERT_TRUE(o.run_where_received == ((1ULL << (SIGPWR - 1)) | (1ULL << (SIGXCPU - 1)) |
					     (1ULL << (27 - 1))));
	ASSERT_INT_EQ(parse(&o, "run_where_received=none", err), 0);
	ASSERT_TRUE(o.run_where_received == 0);
	ASSERT_INT_EQ(parse(&o, "run_where_received=SIGRTMIN+2", err), 0);
	ASSERT_TRUE(o.run_where_received == 1ULL << (36 - 1));
	/* unknown names, glibc's 32/33, the shim's doorbells, empty items */
	static const char *const bad[] = {
		"run_where_received=SIGNOPE", "run_where_received=32", "run_where_received=63",
		"run_where_received=64", "run_where_received=0", "run_where_received=SIGPROF,",
		"run_where_received=,SIGPROF", "run_where_received=",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(parse(&o, bad[i], err) == -1, "accepted: %s", bad[i]);
		ASSERT_STR_CONTAINS(err, "run_where_received");
	}
}
END_TEST

START_TEST(profiles_switch)
{
	struct shim_options o;
	char err[512];

	shim_options_default(&o);
	ASSERT_TRUE(o.profiles);
	ASSERT_INT_EQ(parse(&o, "profiles=off", err), 0);
	ASSERT_TRUE(!o.profiles);
	ASSERT_INT_EQ(parse(&o, "profiles=on", err), 0);
	ASSERT_TRUE(o.profiles);
	ASSERT_TRUE(!o.main_first_installer);
	ASSERT_INT_EQ(parse(&o, "main_thread=first-installer", err), 0);
	ASSERT_TRUE(o.main_first_installer);
	ASSERT_INT_EQ(parse(&o, "main_thread=primordial", err), 0);
	ASSERT_TRUE(!o.main_first_installer);
	ASSERT_INT_EQ(parse(&o, "main_thread=main", err), -1);
	ASSERT_STR_CONTAINS(err, "primordial|first-installer");
	ASSERT_INT_EQ(parse(&o, "profiles=maybe", err), -1);
	ASSERT_STR_CONTAINS(err, "profiles");
	ASSERT_STR_CONTAINS(err, "on|off");
}
END_TEST

START_TEST(help_text_lists_every_key)
{
	const char *h = shim_options_help();

	ASSERT_STR_CONTAINS(h, "mode=");
	ASSERT_STR_CONTAINS(h, "log_path=");
	ASSERT_STR_CONTAINS(h, "backtrace=");
	ASSERT_STR_CONTAINS(h, "rule_install_off_main=");
	ASSERT_STR_CONTAINS(h, "exitcode=");
	ASSERT_STR_CONTAINS(h, "halt_on_violation=");
	ASSERT_STR_CONTAINS(h, "report=");
	ASSERT_STR_CONTAINS(h, "sink=");
	ASSERT_STR_CONTAINS(h, "help=");
	ASSERT_STR_CONTAINS(h, "run_where_received=");
	ASSERT_STR_CONTAINS(h, "profiles=");
	ASSERT_STR_CONTAINS(h, "main_thread=");
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, all_keys);
	tcase_add_test(tc, later_items_win_and_empty_items);
	tcase_add_test(tc, sink_option);
	tcase_add_test(tc, quoted_values);
	tcase_add_test(tc, unknown_key);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, malformed_items);
	tcase_add_test(tc, long_path);
	tcase_add_test(tc, run_where_received_lists);
	tcase_add_test(tc, profiles_switch);
	tcase_add_test(tc, help_text_lists_every_key);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(options_suite)
