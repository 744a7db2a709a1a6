/* Python's rules in mode=enforce, and what happens on a violation: the
 * event carries "violation"/"policy", a one-line report may go to stderr,
 * and halt_on_violation stops the program the way a sanitizer does. */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "shim.h"
#include "sink.h"

static atomic_ullong n_violations;

/* A forked child starts with none: they were the parent's. */
void shim_policy_after_fork(void)
{
	atomic_store(&n_violations, 0);
}

unsigned long long shim_violations(void)
{
	return atomic_load(&n_violations);
}

/* Decides a function-handler installation.  Returns the rule broken (or
 * NULL) and sets *deny when the call must fail with EPERM. */
const char *shim_policy_install(bool *deny)
{
	enum shim_policy p = shim.opt.rule_install_off_main;

	*deny = false;
	if (shim.opt.mode != SHIM_MODE_ENFORCE || p == SHIM_POLICY_ALLOW ||
	    shim_is_main_thread())
		return NULL;
	*deny = p == SHIM_POLICY_DENY;
	return "install-off-main";
}

void shim_policy_fields(struct shim_ev *e, const char *rule, bool deny)
{
	if (!rule)
		return;
	audit_jw_str(&e->w, "violation", rule);
	audit_jw_str(&e->w, "policy", deny ? "deny" : "report");
}

#define put audit_stderr

/* Called after the event is written, outside the shim's busy section.
 * async-signal-safe (write, abort). */
void shim_policy_after(const char *rule, const char *func, int sig)
{
	char num[24], sb[16];

	if (!rule)
		return;
	atomic_fetch_add(&n_violations, 1);
	if (shim.opt.report == SHIM_REPORT_STDERR || shim.opt.halt_on_violation) {
		put("sigshim: violation: ");
		put(rule);
		put(": ");
		put(func);
		put("(");
		put(audit_signame(sig, sb));
		put(") from thread tid=");
		num[audit_fmt_i64(num, shim_gettid())] = '\0';
		put(num);
		put(" (not the main thread)\n");
	}
	if (shim.opt.halt_on_violation) {
		put("sigshim: halt_on_violation=1: aborting\n");
		abort();
	}
}
