/* libsigshim.so must export the interposed libc names, at libc's symbol
 * versions, and nothing else: any other exported name could interpose on
 * (and break) the program it is preloaded into. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const char *const expected[] = {
	"__sigpause@@GLIBC_2.2.5", "__sysv_signal@@GLIBC_2.2.5",
	"__xpg_sigpause@@GLIBC_2.2.5", "bsd_signal@@GLIBC_2.2.5",
	"close@@GLIBC_2.2.5", "close_range@@GLIBC_2.34", "closefrom@@GLIBC_2.34",
	"dup2@@GLIBC_2.2.5", "dup3@@GLIBC_2.9", "gsignal@@GLIBC_2.2.5",
	"kill@@GLIBC_2.2.5", "pthread_kill@GLIBC_2.2.5", "pthread_kill@@GLIBC_2.34",
	"pthread_sigmask@GLIBC_2.2.5", "pthread_sigmask@@GLIBC_2.32",
	"pthread_sigqueue@GLIBC_2.11", "pthread_sigqueue@@GLIBC_2.34",
	"raise@@GLIBC_2.2.5", "sigaction@@GLIBC_2.2.5", "sighold@@GLIBC_2.2.5",
	"sigignore@@GLIBC_2.2.5", "siginterrupt@@GLIBC_2.2.5", "signal@@GLIBC_2.2.5",
	"sigpause@@GLIBC_2.2.5", "sigprocmask@@GLIBC_2.2.5", "sigqueue@@GLIBC_2.2.5",
	"sigrelse@@GLIBC_2.2.5", "sigset@@GLIBC_2.2.5", "ssignal@@GLIBC_2.2.5",
	"sysv_signal@@GLIBC_2.2.5", "tgkill@@GLIBC_2.30",
	"longjmp@@GLIBC_2.2.5", "_longjmp@@GLIBC_2.2.5", "siglongjmp@@GLIBC_2.2.5",
	"__longjmp_chk@@GLIBC_2.11",
	"sigwait@@GLIBC_2.2.5", "sigwaitinfo@@GLIBC_2.2.5", "sigtimedwait@@GLIBC_2.2.5",
	"sigsuspend@@GLIBC_2.2.5", "sigpending@@GLIBC_2.2.5",
	"__libc_current_sigrtmax@@GLIBC_2.2.5", "prctl@@GLIBC_2.2.5", "system@@GLIBC_2.2.5", "pselect@@GLIBC_2.2.5", "ppoll@@GLIBC_2.4",
	"epoll_pwait@@GLIBC_2.6", "epoll_pwait2@@GLIBC_2.35",
	"execve@@GLIBC_2.2.5", "execv@@GLIBC_2.2.5", "execvp@@GLIBC_2.2.5",
	"execl@@GLIBC_2.2.5", "execlp@@GLIBC_2.2.5", "execle@@GLIBC_2.2.5",
	"fexecve@@GLIBC_2.2.5", "execvpe@@GLIBC_2.11",
	"_exit@@GLIBC_2.2.5", "_Exit@@GLIBC_2.2.5", "syscall@@GLIBC_2.2.5",
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

START_TEST(only_interposed_names)
{
	const char *lib = getenv("SIGSHIM_LIB");
	char cmd[4096], line[512];
	int seen[N_EXPECTED] = {0};
	FILE *p;

	ck_assert_ptr_nonnull(lib);
	snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", lib);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof line, p)) {
		char addr[64], type[8], name[400];
		size_t i;

		if (sscanf(line, "%63s %7s %399s", addr, type, name) != 3)
			continue;
		if (strcmp(type, "A") == 0)   /* version definitions */
			continue;
		for (i = 0; i < N_EXPECTED && strcmp(expected[i], name); i++)
			;
		ck_assert_msg(i < N_EXPECTED, "unexpected exported symbol: %s", name);
		seen[i]++;
	}
	ASSERT_INT_EQ(pclose(p), 0);
	for (size_t i = 0; i < N_EXPECTED; i++)
		ck_assert_msg(seen[i] == 1, "%s exported %d times", expected[i], seen[i]);
}
END_TEST

static Suite *exports_suite(void)
{
	Suite *s = suite_create("exports");
	TCase *tc = tcase_create("exports");

	tcase_add_test(tc, only_interposed_names);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(exports_suite)
