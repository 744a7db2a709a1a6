/* Allocation in the tools: out of memory is said and ends the tool with
 * status 2 (usage or I/O error), never a NULL that crashes later nor an
 * abort() that reads as a bug. */
#ifndef SIGSHIM_XALLOC_H
#define SIGSHIM_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void *tool_oom(size_t n)
{
	fprintf(stderr, "sigaudit: out of memory (%zu bytes)\n", n);
	exit(2);
}

static inline void *tool_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : tool_oom(n);
}

static inline void *tool_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : tool_oom(n * size);
}

static inline void *tool_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	return p ? p : tool_oom(n);
}

static inline char *tool_xstrdup(const char *s)
{
	char *p = strdup(s);

	return p ? p : tool_oom(strlen(s) + 1);
}

#endif
