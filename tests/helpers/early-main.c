/* Prints what libearly's constructor did and checks its handlers work.
 * Prints a deterministic transcript (transcript.h). */
#include "transcript.h"
#include "early-ctor.h"

#include <errno.h>

int main(void)
{
	const struct early_result *r = &early_result;
	struct sigaction q;
	char a[300], o[300];

	tr_init();
	TR_FN(early_h_usr1);
	TR_FN(early_h_usr2);
	tr_printf("ctor ran: %d\n", r->ran);
	tr_printf("ctor: sigaction(SIGUSR1, %s, &old) -> %d errno=%s old=%s\n",
		  tr_act(&r->act, a, sizeof a), r->sigaction_ret,
		  tr_errname(r->sigaction_errno), tr_act(&r->oldact, o, sizeof o));
	tr_printf("ctor: signal(SIGUSR2, early_h_usr2) -> %s errno=%s\n",
		  tr_handler(r->signal_ret), tr_errname(r->signal_errno));
	tr_printf("ctor: sigprocmask(SIG_BLOCK, [13]) -> %d\n", r->mask_ret);
	tr_show_mask("main");
	errno = 0;
	int rc = sigaction(SIGUSR1, NULL, &q);
	tr_printf("sigaction(SIGUSR1, NULL, &old) -> %d errno=%s old=%s\n", rc,
		  tr_errname(errno), tr_act(&q, a, sizeof a));
	errno = 0;
	rc = sigaction(SIGUSR2, NULL, &q);
	tr_printf("sigaction(SIGUSR2, NULL, &old) -> %d errno=%s old=%s\n", rc,
		  tr_errname(errno), tr_act(&q, a, sizeof a));
	errno = 0;
	tr_ret("raise(SIGUSR1)", raise(SIGUSR1), errno);
	errno = 0;
	tr_ret("raise(SIGUSR2)", raise(SIGUSR2), errno);
	tr_printf("hits usr1=%d usr2=%d\n", (int)early_hits_usr1, (int)early_hits_usr2);
	return early_hits_usr1 == 1 && early_hits_usr2 == 1 ? 0 : 1;
}
