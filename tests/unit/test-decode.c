/* Names for signals, flags, si_code, how, handlers and masks. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "decode.h"
#include "unit.h"

START_TEST(signal_names)
{
	char b[16];

	ASSERT_STR_EQ(audit_signame(SIGUSR1, b), "SIGUSR1");
	ASSERT_STR_EQ(audit_signame(SIGSYS, b), "SIGSYS");
	ASSERT_STR_EQ(audit_signame(32, b), "SIG32");
	ASSERT_STR_EQ(audit_signame(33, b), "SIG33");
	ASSERT_STR_EQ(audit_signame(SIGRTMIN, b), "SIGRTMIN");
	ASSERT_STR_EQ(audit_signame(SIGRTMIN + 3, b), "SIGRTMIN+3");
	ASSERT_STR_EQ(audit_signame(SIGRTMAX, b), "SIGRTMAX");
	ASSERT_STR_EQ(audit_signame(0, b), "?");
	ASSERT_STR_EQ(audit_signame(-1, b), "?");
	ASSERT_STR_EQ(audit_signame(65, b), "?");
}
END_TEST

START_TEST(si_codes)
{
	ASSERT_STR_EQ(audit_si_code_name(SIGUSR1, SI_USER), "SI_USER");
	ASSERT_STR_EQ(audit_si_code_name(SIGUSR1, SI_TKILL), "SI_TKILL");
	ASSERT_STR_EQ(audit_si_code_name(SIGRTMIN, SI_QUEUE), "SI_QUEUE");
	ASSERT_STR_EQ(audit_si_code_name(SIGSEGV, SEGV_MAPERR), "SEGV_MAPERR");
	ASSERT_STR_EQ(audit_si_code_name(SIGCHLD, CLD_EXITED), "CLD_EXITED");
	ASSERT_STR_EQ(audit_si_code_name(SIGFPE, FPE_INTDIV), "FPE_INTDIV");
	/* a general-protection fault: SIGSEGV with the kernel's own code */
	ASSERT_STR_EQ(audit_si_code_name(SIGSEGV, SI_KERNEL), "SI_KERNEL");
	ASSERT_STR_EQ(audit_si_code_name(SIGUSR1, SI_KERNEL), "SI_KERNEL");
	ASSERT_TRUE(audit_si_code_name(SIGUSR1, 1) == NULL);
	ASSERT_TRUE(audit_si_code_name(SIGUSR1, -77) == NULL);
}
END_TEST

/* Sender fields only where the kernel filled them in. */
START_TEST(si_fields)
{
	ASSERT_UINT_EQ(audit_si_fields(SIGUSR1, SI_USER), AUDIT_SI_SENDER);
	ASSERT_UINT_EQ(audit_si_fields(SIGUSR1, SI_TKILL), AUDIT_SI_SENDER);
	ASSERT_UINT_EQ(audit_si_fields(SIGRTMIN, SI_QUEUE), AUDIT_SI_SENDER | AUDIT_SI_VALUE);
	ASSERT_UINT_EQ(audit_si_fields(SIGALRM, SI_TIMER), AUDIT_SI_VALUE);
	ASSERT_UINT_EQ(audit_si_fields(SIGSEGV, SEGV_MAPERR), AUDIT_SI_ADDR);
	/* seccomp's SIGSYS is a fault too (one list with the trampoline's) */
	ASSERT_UINT_EQ(audit_si_fields(SIGSYS, 1 /* SYS_SECCOMP */), AUDIT_SI_ADDR);
	ck_assert(audit_sig_is_fault(SIGSYS) && !audit_sig_is_fault(SIGABRT));
	ASSERT_UINT_EQ(audit_si_fields(SIGSEGV, SI_USER), AUDIT_SI_SENDER);
	ASSERT_UINT_EQ(audit_si_fields(SIGCHLD, CLD_EXITED), AUDIT_SI_SENDER | AUDIT_SI_STATUS);
	ASSERT_UINT_EQ(audit_si_fields(SIGSEGV, SI_KERNEL), 0);
	ASSERT_UINT_EQ(audit_si_fields(SIGIO, POLL_IN), 0);
}
END_TEST

START_TEST(how_and_errno)
{
	ASSERT_STR_EQ(audit_how_name(SIG_BLOCK), "SIG_BLOCK");
	ASSERT_STR_EQ(audit_how_name(SIG_UNBLOCK), "SIG_UNBLOCK");
	ASSERT_STR_EQ(audit_how_name(SIG_SETMASK), "SIG_SETMASK");
	ASSERT_TRUE(audit_how_name(99) == NULL);
	ASSERT_TRUE(audit_how_name(-1) == NULL);
	ASSERT_STR_EQ(audit_errno_name(EINVAL), "EINVAL");
	ASSERT_STR_EQ(audit_errno_name(ESRCH), "ESRCH");
	ASSERT_STR_EQ(audit_errno_name(EPERM), "EPERM");
	ASSERT_TRUE(audit_errno_name(0) == NULL);
}
END_TEST

static json_t *encode(void (*fill)(struct jw *))
{
	static char buf[2048];
	struct jw w;
	size_t n;

	audit_jw_init(&w, buf, sizeof buf);
	fill(&w);
	n = audit_jw_finish(&w);
	return json_loadb(buf, n, 0, NULL);
}

static void fill_sigaction(struct jw *w)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_RESETHAND | 0x04000000 | 0x00100000;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGRTMAX);
	audit_jw_sigaction(w, "act", &sa);
	audit_jw_sigaction(w, "none", NULL);
	audit_jw_handler(w, "dfl", (uintptr_t)SIG_DFL);
	audit_jw_handler(w, "hold", (uintptr_t)SIG_HOLD);
	audit_jw_handler(w, "err", (uintptr_t)SIG_ERR);
	audit_jw_handler(w, "fn", 0x401000);
	audit_jw_signal(w, SIGTERM);
}

START_TEST(composites)
{
	json_t *j = encode(fill_sigaction), *act, *flags, *mask;

	ck_assert_ptr_nonnull(j);
	act = json_object_get(j, "act");
	ASSERT_STR_EQ(json_string_value(json_object_get(act, "handler")), "SIG_IGN");
	flags = json_object_get(act, "flags");
	ASSERT_INT_EQ(json_array_size(flags), 6);
	ASSERT_STR_EQ(json_string_value(json_array_get(flags, 0)), "SA_SIGINFO");
	ASSERT_STR_EQ(json_string_value(json_array_get(flags, 1)), "SA_RESTORER");
	ASSERT_STR_EQ(json_string_value(json_array_get(flags, 2)), "SA_RESTART");
	ASSERT_STR_EQ(json_string_value(json_array_get(flags, 3)), "SA_NODEFER");
	ASSERT_STR_EQ(json_string_value(json_array_get(flags, 4)), "SA_RESETHAND");
	/* A bit with no name is still shown, never dropped. */
	ASSERT_STR_EQ(json_string_value(json_array_get(flags, 5)), "0x100000");
	mask = json_object_get(act, "mask");
	ASSERT_INT_EQ(json_array_size(mask), 2);
	ASSERT_INT_EQ(json_integer_value(json_array_get(mask, 0)), SIGINT);
	ASSERT_INT_EQ(json_integer_value(json_array_get(mask, 1)), SIGRTMAX);
	ASSERT_TRUE(json_is_null(json_object_get(j, "none")));
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "dfl")), "SIG_DFL");
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "hold")), "SIG_HOLD");
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "err")), "SIG_ERR");
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "fn")), "0x401000");
	ASSERT_INT_EQ(json_integer_value(json_object_get(j, "signalnum")), SIGTERM);
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "signame")), "SIGTERM");
	json_decref(j);
}
END_TEST

static void fill_full_mask(struct jw *w)
{
	sigset_t s;

	sigfillset(&s);
	audit_jw_sigset(w, "all", &s);
	sigemptyset(&s);
	audit_jw_sigset(w, "none", &s);
	audit_jw_sigset(w, "null", NULL);
}

START_TEST(masks)
{
	json_t *j = encode(fill_full_mask), *all;

	ck_assert_ptr_nonnull(j);
	all = json_object_get(j, "all");
	/* sigfillset leaves out glibc's internal 32 and 33. */
	ASSERT_INT_EQ(json_array_size(all), 62);
	ASSERT_INT_EQ(json_integer_value(json_array_get(all, 0)), 1);
	ASSERT_INT_EQ(json_integer_value(json_array_get(all, 61)), 64);
	ASSERT_INT_EQ(json_array_size(json_object_get(j, "none")), 0);
	ASSERT_TRUE(json_is_null(json_object_get(j, "null")));
	json_decref(j);
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, signal_names);
	tcase_add_test(tc, si_codes);
	tcase_add_test(tc, si_fields);
	tcase_add_test(tc, how_and_errno);
	tcase_add_test(tc, composites);
	tcase_add_test(tc, masks);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(decode_suite)
