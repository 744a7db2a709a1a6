#ifndef SIGSHIM_COUNTER_H
#define SIGSHIM_COUNTER_H

#include <stdio.h>

struct tool_counter {
	char **keys;
	long *counts;
	size_t n, cap;
	size_t *slots;          /* hash of keys: index + 1, 0 = empty */
	size_t nslots;
};

void tool_counter_add(struct tool_counter *c, const char *key, long n);
void tool_counter_free(struct tool_counter *c);
long tool_counter_total(const struct tool_counter *c);
void tool_counter_print(FILE *out, const struct tool_counter *c, const char *indent);

#endif
