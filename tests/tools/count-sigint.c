/* count-sigint MS [PIDFILE]: counts SIGINTs for MS milliseconds, then
 * prints "sigint N".  Writes its pid to PIDFILE (if given) once the
 * handler is in place. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t n;

static void h(int sig)
{
	(void)sig;
	n++;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 500;
	struct timespec ts = { 0, 1000000L };

	signal(SIGINT, h);
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	for (long i = 0; i < ms; i++)
		nanosleep(&ts, NULL);
	printf("sigint %d\n", (int)n);
	return 0;
}
