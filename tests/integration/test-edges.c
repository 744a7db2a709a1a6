/* The shim in a hostile host (issue 10): each case of
 * tests/helpers/edge-cases.c runs natively and under the shim (both modes,
 * with a log: the log's writer is what these cases attack), and what the
 * program observed must be the same. */
#include "config.h"       /* _GNU_SOURCE */
#include "harness.h"

static const char *const variants[] = {
	"mode=audit:log_path={dir}/log.%p.jsonl",
	"mode=enforce:log_path={dir}/log.%p.jsonl",
	NULL,
};

#define SAME_AS_NATIVE(test, name) \
	IT_TEST(test) { it_same_as_native("edge-cases", name, variants, NULL, -1, NULL); } IT_END

/* 1. the log write is not a cancellation point */
SAME_AS_NATIVE(logging_adds_no_cancellation_point, "cancel-pending-mask")
/* 1. a handler that jumps out of a logged call leaves no writer counted */
SAME_AS_NATIVE(jump_out_of_logged_call_then_dup2, "jump-out-of-logged-call")

int main(void)
{
	Suite *s = suite_create("edges");
	TCase *tc = tcase_create("edges");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, logging_adds_no_cancellation_point);
	tcase_add_test(tc, jump_out_of_logged_call_then_dup2);
	suite_add_tcase(s, tc);
	return it_main(s);
}
