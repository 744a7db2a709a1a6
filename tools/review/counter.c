/* A small ordered multiset of strings: counts keyed by a description, kept
 * in first-seen order so that summaries read in the order things happened.
 * Hashed: a process with 100k threads has 100k keys. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "xalloc.h"

static size_t str_hash(const char *k)
{
	size_t h = 1469598103934665603ULL;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return h;
}

static void rehash(struct tool_counter *c)
{
	free(c->slots);
	c->nslots = c->nslots ? c->nslots * 2 : 8;
	c->slots = tool_xcalloc(c->nslots, sizeof *c->slots);
	for (size_t i = 0; i < c->n; i++) {
		size_t j = str_hash(c->keys[i]) & (c->nslots - 1);

		while (c->slots[j])
			j = (j + 1) & (c->nslots - 1);
		c->slots[j] = i + 1;
	}
}

void tool_counter_add(struct tool_counter *c, const char *key, long n)
{
	size_t j;

	if (2 * (c->n + 1) > c->nslots)
		rehash(c);
	for (j = str_hash(key) & (c->nslots - 1); c->slots[j]; j = (j + 1) & (c->nslots - 1))
		if (strcmp(c->keys[c->slots[j] - 1], key) == 0) {
			c->counts[c->slots[j] - 1] += n;
			return;
		}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->keys = tool_xrealloc(c->keys, c->cap * sizeof *c->keys);
		c->counts = tool_xrealloc(c->counts, c->cap * sizeof *c->counts);
	}
	c->keys[c->n] = tool_xstrdup(key);
	c->counts[c->n++] = n;
	c->slots[j] = c->n;
}

void tool_counter_free(struct tool_counter *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->counts);
	free(c->slots);
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
