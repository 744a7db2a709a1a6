/* A small ordered multiset of strings: counts keyed by a description, kept
 * in first-seen order so that summaries read in the order things happened.
 * Linear search: keys per process are few (signals x threads x calls). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "counter.h"

void tool_counter_add(struct tool_counter *c, const char *key, long n)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0) {
			c->counts[i] += n;
			return;
		}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->keys = realloc(c->keys, c->cap * sizeof *c->keys);
		c->counts = realloc(c->counts, c->cap * sizeof *c->counts);
		if (!c->keys || !c->counts)
			abort();
	}
	c->keys[c->n] = strdup(key);
	c->counts[c->n++] = n;
}

void tool_counter_free(struct tool_counter *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->counts);
	memset(c, 0, sizeof *c);
}

long tool_counter_total(const struct tool_counter *c)
{
	long t = 0;

	for (size_t i = 0; i < c->n; i++)
		t += c->counts[i];
	return t;
}

/* "  3x key" lines, or nothing when empty. */
void tool_counter_print(FILE *out, const struct tool_counter *c, const char *indent)
{
	for (size_t i = 0; i < c->n; i++)
		fprintf(out, "%s%4ldx %s\n", indent, c->counts[i], c->keys[i]);
}
