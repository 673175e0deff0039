/*
 * sigaction(): remembers whether the program ever installed a handler
 * without SA_RESTART. A blocking connect() through the proxy waits for
 * the proxy in poll(), which any handled signal interrupts; the kernel's
 * own connect() is restarted after a handler with SA_RESTART and fails
 * with EINTR after one without. Which signal interrupted the wait cannot
 * be known afterwards, so connect() (tcp/connect.c) answers EINTR when
 * such a handler exists (or SO_SNDTIMEO is set, where the kernel answers
 * EINTR for every handler), and otherwise keeps waiting.
 *
 * signal(), bsd_signal() install with SA_RESTART in glibc: nothing to
 * note. Handlers of fault signals are not noted either (fault_signal). The cost is one test after the real call.
 */
#include <signal.h>

#include "base/realfn.h"
#include "hooks/hooks.h"
#include "tcp/async.h"

atomic_bool sfy_sig_interrupts;

/* Signals the kernel raises for a fault of the thread's own instruction:
 * a handler for them (crash reporters, JVMs, the sanitizers' runtimes,
 * which install theirs through this very call) never interrupts a wait
 * in poll(), so it must not turn connect() into EINTR's rules. */
static bool fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	       sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
}

int sfy_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	const struct sfy_real *r = sfy_real();
	int rc;

	if (!r->sigaction)
		return sfy_nosys();
	rc = r->sigaction(sig, act, old);
	if (rc == 0 && act && !fault_signal(sig) && !(act->sa_flags & SA_RESTART) &&
	    act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN)
		atomic_store_explicit(&sfy_sig_interrupts, true,
				      memory_order_relaxed);
	return rc;
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
	SFY_EXPORT_AS(sfy_sigaction);
