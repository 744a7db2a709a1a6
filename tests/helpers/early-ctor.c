/* libearly.so: its constructor calls sigaction, signal and sigprocmask.
 * Loaded as LD_PRELOAD="libsigshim.so libearly.so" or as a DT_NEEDED of the
 * program, it runs before sigshim's constructor; as "libearly.so
 * libsigshim.so" it runs after (verified with LD_DEBUG=libs in the tests). */
#define _GNU_SOURCE
#include "early-ctor.h"

#include <errno.h>
#include <string.h>

struct early_result early_result;
volatile sig_atomic_t early_hits_usr1, early_hits_usr2;

void early_h_usr1(int sig)
{
	early_hits_usr1++;
}

void early_h_usr2(int sig)
{
	early_hits_usr2++;
}

__attribute__((constructor)) static void early_ctor(void)
{
	struct early_result *r = &early_result;
	sigset_t pipe_set;

	memset(&r->act, 0, sizeof r->act);
	r->act.sa_handler = early_h_usr1;
	r->act.sa_flags = SA_RESTART;
	sigemptyset(&r->act.sa_mask);
	sigaddset(&r->act.sa_mask, SIGTERM);
	errno = 0;
	r->sigaction_ret = sigaction(SIGUSR1, &r->act, &r->oldact);
	r->sigaction_errno = errno;
	errno = 0;
	r->signal_ret = (void *)signal(SIGUSR2, early_h_usr2);
	r->signal_errno = errno;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	r->mask_ret = sigprocmask(SIG_BLOCK, &pipe_set, NULL);
	r->ran = 1;
}
