/* libearly: a library whose constructor installs signal handlers, like
 * ASan or libjsig do, possibly before sigshim's own constructor has run. */
#ifndef SIGSHIM_EARLY_CTOR_H
#define SIGSHIM_EARLY_CTOR_H

#include <signal.h>

struct early_result {
	int ran;                        /* the constructor ran */
	int sigaction_ret, sigaction_errno;
	struct sigaction act, oldact;   /* what it passed and read back */
	void *signal_ret;               /* signal(SIGUSR2, ...) */
	int signal_errno;
	int mask_ret;                   /* sigprocmask(SIG_BLOCK, SIGPIPE) */
};

extern struct early_result early_result;
extern volatile sig_atomic_t early_hits_usr1, early_hits_usr2;
void early_h_usr1(int sig);
void early_h_usr2(int sig);

#endif
