/* The unit tests' view of the test framework.  check stays behind these
 * macros (libinput's lesson) so the runner can be replaced; each prints
 * file, line, the expression and both values on failure. */
#ifndef SIGSHIM_UNIT_H
#define SIGSHIM_UNIT_H

#include <check.h>
#include <stdlib.h>

#define ASSERT_TRUE(x) ck_assert_msg((x), "expected true: %s", #x)
#define ASSERT_FALSE(x) ck_assert_msg(!(x), "expected false: %s", #x)
#define ASSERT_INT_EQ(a, b) ck_assert_int_eq((a), (b))
#define ASSERT_UINT_EQ(a, b) ck_assert_uint_eq((a), (b))
#define ASSERT_STR_EQ(a, b) ck_assert_str_eq((a), (b))
#define ASSERT_STR_CONTAINS(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, \
		      "%s = \"%s\" does not contain \"%s\"", #hay, (hay), (needle))

/* One suite per test program; fork mode stays on (the default) so a crash
 * fails one test, not the run. */
#define UNIT_MAIN(suite_fn) \
	int main(void) \
	{ \
		SRunner *sr = srunner_create(suite_fn()); \
		int failed; \
		srunner_set_fork_status(sr, CK_FORK); \
		srunner_run_all(sr, CK_NORMAL); \
		failed = srunner_ntests_failed(sr); \
		srunner_free(sr); \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS; \
	}

#endif
