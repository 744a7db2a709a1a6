/* Installs a handler from a worker thread: a violation of Python's model.
 * "clean" as argv[1] installs from the main thread instead. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void on_usr1(int sig)
{
	(void)sig;
}

static void *worker(void *arg)
{
	(void)arg;
	signal(SIGUSR1, on_usr1);   /* the offending call: LINE_OF_VIOLATION */
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1 && strcmp(argv[1], "clean") == 0) {
		signal(SIGUSR1, on_usr1);
		return 0;
	}
	pthread_create(&t, NULL, worker, NULL);
	pthread_join(t, NULL);
	puts("worker done");
	return 0;
}
