/* Offline symbolization with elfutils' libdwfl.
 *
 * The process is gone, so nothing is read from /proc: an address is placed
 * with the log's own module map (sigshim.module: path, load bias, range,
 * build-id), and the module's file is looked up on disk.  Binaries move
 * between the run and the review (CI artifacts, containers), so the file is
 * accepted only when its build-id matches the logged one, and otherwise
 * searched by build-id in --debug-dir directories and /usr/lib/debug.
 *
 * Each module file gets its own Dwfl reported at its link-time addresses;
 * modules of different processes may overlap in address, and one Dwfl per
 * file keeps them apart and lets every process share the cache. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>

#include "sigaudit.h"
#include "xalloc.h"

struct sym_entry {
	char *path;             /* as logged */
	char *build_id;
	Dwfl *dwfl;
	Dwfl_Module *mod;       /* NULL when no file was found */
	GElf_Addr dwbias;
	char note[400];
	struct sym_entry *next;
};

struct path_entry {
	const char *raw;        /* as libdw gave it (stable while the Dwfl lives) */
	char *full;
	struct path_entry *next;
};

struct tool_sym {
	struct path_entry *paths;
	char **dirs;
	size_t ndirs;
	char *debuginfo_path;
	Dwfl_Callbacks cb;
	struct sym_entry *cache;
};

static char *join_debuginfo_path(char *const *dirs, size_t n)
{
	size_t len = 64;
	char *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(dirs[i]) + 1;
	p = tool_xmalloc(len);
	/* "-": no CRC check; ".debug": next to the file; then the dirs. */
	strcpy(p, "-:.debug");
	for (size_t i = 0; i < n; i++)
		strcat(strcat(p, ":"), dirs[i]);
	strcat(p, ":/usr/lib/debug");
	return p;
}

struct tool_sym *tool_sym_new(char *const *debug_dirs, size_t ndirs)
{
	struct tool_sym *s = tool_xcalloc(1, sizeof *s);
	elf_version(EV_CURRENT);
	s->dirs = (char **)debug_dirs;
	s->ndirs = ndirs;
	s->debuginfo_path = join_debuginfo_path(debug_dirs, ndirs);
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;
	return s;
}

void tool_sym_free(struct tool_sym *s)
{
	struct sym_entry *e, *next;

	if (!s)
		return;
	for (e = s->cache; e; e = next) {
		next = e->next;
		if (e->dwfl)
			dwfl_end(e->dwfl);
		free(e->path);
		free(e->build_id);
		free(e);
	}
	while (s->paths) {
		struct path_entry *p = s->paths;

		s->paths = p->next;
		free(p->full);
		free(p);
	}
	free(s->debuginfo_path);
	free(s);
}

/* ---- finding the module's file ---- */

static bool hex_equal(const unsigned char *id, ssize_t n, const char *hex)
{
	char buf[3];

	if ((size_t)n * 2 != strlen(hex))
		return false;
	for (ssize_t i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "%02x", id[i]);
		if (strncmp(buf, hex + 2 * i, 2) != 0)
			return false;
	}
	return true;
}

static bool file_has_build_id(const char *path, const char *want)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const void *id = NULL;
	ssize_t n = -1;
	Elf *elf;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf)
		n = dwelf_elf_gnu_build_id(elf, &id);
	bool ok = n > 0 && hex_equal(id, n, want);
	elf_end(elf);
	close(fd);
	return ok;
}

/* A build-id can only be checked when the log has one; without it the file
 * at the path is taken on trust. */
static bool acceptable(const char *path, const char *bid)
{
	if (!bid)
		return access(path, R_OK) == 0;
	return file_has_build_id(path, bid);
}

static char *scan_dir(const char *dir, const char *bid)
{
	char path[PATH_MAX];
	struct dirent *d;
	char *found = NULL;
	DIR *dp;

	if (!bid || !(dp = opendir(dir)))
		return NULL;
	while (!found && (d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		if (file_has_build_id(path, bid))
			found = tool_xstrdup(path);
	}
	closedir(dp);
	return found;
}

static char *try_dir(const char *dir, const char *path, const char *bid)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char buf[PATH_MAX];

	if (bid && strlen(bid) > 2) {
		snprintf(buf, sizeof buf, "%s/.build-id/%.2s/%s.debug", dir, bid, bid + 2);
		if (file_has_build_id(buf, bid))
			return tool_xstrdup(buf);
		snprintf(buf, sizeof buf, "%s/.build-id/%.2s/%s", dir, bid, bid + 2);
		if (file_has_build_id(buf, bid))
			return tool_xstrdup(buf);
	}
	snprintf(buf, sizeof buf, "%s/%s", dir, base);
	if (acceptable(buf, bid))
		return tool_xstrdup(buf);
	return scan_dir(dir, bid);
}

static char *find_file(struct tool_sym *s, const char *path, const char *bid)
{
	char *found;

	if (acceptable(path, bid))
		return tool_xstrdup(path);
	for (size_t i = 0; i < s->ndirs; i++)
		if ((found = try_dir(s->dirs[i], path, bid)))
			return found;
	if (bid && strlen(bid) > 2) {
		char buf[PATH_MAX];

		snprintf(buf, sizeof buf, "/usr/lib/debug/.build-id/%.2s/%s.debug",
			 bid, bid + 2);
		if (file_has_build_id(buf, bid))
			return tool_xstrdup(buf);
	}
	return NULL;
}

/* ---- the per-file cache ---- */

static void open_entry(struct tool_sym *s, struct sym_entry *e)
{
	char *file = find_file(s, e->path, e->build_id);
	const char *base = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;

	if (!file) {
		snprintf(e->note, sizeof e->note,
			 "no symbols: module %s build-id %s not found", e->path,
			 e->build_id ? e->build_id : "(none)");
		return;
	}
	e->dwfl = dwfl_begin(&s->cb);
	if (e->dwfl)
		e->mod = dwfl_report_elf(e->dwfl, base, file, -1, 0, false);
	if (e->dwfl)
		dwfl_report_end(e->dwfl, NULL, NULL);
	if (e->mod)
		dwfl_module_getelf(e->mod, &e->dwbias);
	else
		snprintf(e->note, sizeof e->note, "no symbols: cannot read %s: %s",
			 file, dwfl_errmsg(-1));
	free(file);
}

static struct sym_entry *get_entry(struct tool_sym *s, const struct tool_module *m)
{
	struct sym_entry *e;

	for (e = s->cache; e; e = e->next)
		if (strcmp(e->path, m->path) == 0 &&
		    (e->build_id && m->build_id ? strcmp(e->build_id, m->build_id) == 0 :
		     e->build_id == m->build_id))
			return e;
	e = tool_xcalloc(1, sizeof *e);
	e->path = tool_xstrdup(m->path);
	e->build_id = m->build_id ? tool_xstrdup(m->build_id) : NULL;
	open_entry(s, e);
	e->next = s->cache;
	s->cache = e;
	return e;
}

/* A forked child may not log the modules it inherited: fall back to the
 * parent's map (bounded, in case a log claims a cycle). */
static const struct tool_module *find_module(const struct tool_proc *p, uint64_t addr)
{
	for (int depth = 0; p && depth < 16; depth++, p = p->parent)
		for (size_t i = 0; i < p->nmods; i++)
			if (addr >= p->mods[i].start && addr < p->mods[i].end)
				return &p->mods[i];
	return NULL;
}

/* Line tables often hold names relative to the compilation directory;
 * reports read better, and SARIF viewers find the file, with a full path. */
static char *full_path(const char *raw, const char *comp_dir)
{
	char joined[PATH_MAX], real[PATH_MAX];

	if (raw[0] == '/' || !comp_dir)
		snprintf(joined, sizeof joined, "%s", raw);
	else
		snprintf(joined, sizeof joined, "%s/%s", comp_dir, raw);
	return tool_xstrdup(realpath(joined, real) ? real : joined);
}

static const char *source_path(struct tool_sym *s, Dwfl_Line *l, const char *raw)
{
	struct path_entry *p;

	for (p = s->paths; p; p = p->next)
		if (p->raw == raw)
			return p->full;
	p = tool_xcalloc(1, sizeof *p);
	p->raw = raw;
	p->full = full_path(raw, dwfl_line_comp_dir(l));
	p->next = s->paths;
	s->paths = p;
	return p->full;
}

static void lookup_in(struct tool_sym *s, struct sym_entry *e, GElf_Addr a,
		      struct tool_frame *out)
{
	Dwfl_Line *l;
	GElf_Off off;
	GElf_Sym sym;

	out->func = dwfl_module_addrinfo(e->mod, a, &off, &sym, NULL, NULL, NULL);
	l = dwfl_module_getsrc(e->mod, a);
	if (l)
		out->file = dwfl_lineinfo(l, NULL, &out->line, NULL, NULL, NULL);
	if (out->file)
		out->file = source_path(s, l, out->file);
	if (!out->func && !out->file)
		snprintf(out->note, sizeof out->note, "no symbol at %s+0x%llx",
			 out->module, (unsigned long long)out->modoff);
}

void tool_sym_lookup(struct tool_sym *s, const struct tool_proc *proc,
		     uint64_t addr, bool is_return, struct tool_frame *out)
{
	const struct tool_module *m = find_module(proc, addr);
	struct sym_entry *e;

	memset(out, 0, sizeof *out);
	out->addr = addr;
	if (!m) {
		snprintf(out->note, sizeof out->note, "address not in the logged module map");
		return;
	}
	out->module = m->path;
	out->modoff = addr - m->bias;
	e = get_entry(s, m);
	if (!e->mod) {
		snprintf(out->note, sizeof out->note, "%s", e->note);
		return;
	}
	lookup_in(s, e, addr - m->bias - (is_return ? 1 : 0) + e->dwbias, out);
}

void tool_frame_describe(const struct tool_frame *f, char *buf, size_t len)
{
	if (f->func && f->file)
		snprintf(buf, len, "%s %s:%d", f->func, f->file, f->line);
	else if (f->func)
		snprintf(buf, len, "%s (%s+0x%llx)", f->func, f->module,
			 (unsigned long long)f->modoff);
	else if (f->file)
		snprintf(buf, len, "%s:%d (%s+0x%llx)", f->file, f->line, f->module,
			 (unsigned long long)f->modoff);
	else
		snprintf(buf, len, "(%s)", f->note);
}

size_t tool_event_stack(struct tool_sym *s, const struct tool_proc *proc,
			json_t *ev, struct tool_frame *frames, size_t max)
{
	json_t *bt = json_object_get(ev, "bt");
	uint64_t pc = 0, a;
	size_t n = 0, i;
	json_t *v;

	/* A signal PC is the interrupted instruction itself: no -1. */
	if (max && tool_parse_addr(tool_json_str(ev, "pc"), &pc))
		tool_sym_lookup(s, proc, pc, false, &frames[n++]);
	json_array_foreach(bt, i, v) {
		if (n >= max)
			break;
		if (!tool_parse_addr(json_string_value(v), &a) || (i == 0 && a == pc))
			continue;
		tool_sym_lookup(s, proc, a, true, &frames[n++]);
	}
	return n;
}
