/* Deletes the file named by argv[1] (its own audit log, in the test), then
 * keeps making signal calls: the shim must say at exit that those events
 * went to a deleted file. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	if (argc < 2 || unlink(argv[1]) != 0) {
		perror("unlink");
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	puts("still running");
	return 0;
}
