/* libFuzzer target: the JSON-lines reader and what sigaudit does with the
 * events it accepts (grouping per process, the module map, one-line
 * descriptions), plus the suppressions parser on the same bytes.  Logs come
 * from crashed, killed or full-disk runs: no input may crash the reviewer.
 * Built only with clang (tests/sigaudit/meson.build); run with
 *   meson test -C build --setup fuzz --suite fuzz */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"
#include "sigaudit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(json_t *ev, const char *file, long line, void *ud)
{
	char brief[512], sb[32];

	tool_event_brief(ev, brief, sizeof brief);
	tool_event_signame(ev, sb, sizeof sb);
	tool_event_handler(ev);
	tool_event_kind(tool_json_str(ev, "event"));
	return 0;
}

static void fuzz_logset(const uint8_t *data, size_t size)
{
	struct tool_logset ls;
	FILE *f = fmemopen((void *)data, size, "r");
	FILE *saved = stdin;

	if (!f)
		return;
	tool_logset_init(&ls);
	stdin = f;      /* "-" reads stdin: the logset path the tool uses */
	tool_logset_add_arg(&ls, "-");
	stdin = saved;
	tool_logset_finish(&ls);
	for (size_t i = 0; i < ls.nprocs; i++)
		tool_proc_tid_of(ls.procs[i], 1);
	for (size_t i = 0; i < ls.n; i++) {     /* lines read back from the copy */
		json_decref(tool_event_load(&ls.ev[i]));
		tool_event_line(&ls.ev[i]);
	}
	tool_logset_free(&ls);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;
	char *text;

	if (size == 0)
		return 0;   /* fmemopen refuses an empty buffer */
	f = fmemopen((void *)data, size, "r");
	if (f) {
		tool_logread_stream(f, "fuzz", on_event, NULL, NULL, NULL);
		fclose(f);
	}
	fuzz_logset(data, size);
	text = strndup((const char *)data, size);
	tool_supp_free(tool_supp_parse(text, "fuzz"));
	free(text);
	return 0;
}
