/* NOT async-signal-safe: see backtrace.h. */
#include "config.h"

#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "backtrace.h"

#define MAX_MODULES 512

struct known {
	uintptr_t start, end;
};

static pthread_mutex_t mod_lock = PTHREAD_MUTEX_INITIALIZER;
static struct known emitted[MAX_MODULES];
static int n_emitted;

uintptr_t audit_backtrace_text(void)
{
	return (uintptr_t)unw_backtrace;
}

void audit_backtrace_init(void)
{
	void *pcs[4];

	unw_backtrace(pcs, 4);
}

int audit_backtrace(uintptr_t *pcs, int max, uintptr_t skip_lo, uintptr_t skip_hi)
{
	void *raw[AUDIT_BT_MAX + 16];
	int n, out = 0;

	if (max > AUDIT_BT_MAX)
		max = AUDIT_BT_MAX;
	n = unw_backtrace(raw, max + 16);
	for (int i = 0; i < n && out < max; i++) {
		uintptr_t pc = (uintptr_t)raw[i];

		if (out == 0 && pc >= skip_lo && pc < skip_hi)
			continue;
		pcs[out++] = pc;
	}
	return out;
}

static void hexcpy(char *out, const unsigned char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The GNU build-id note, which lets sigaudit find the right file (or its
 * separate debug info) even after the binary moved. */
static void read_build_id(struct dl_phdr_info *info, char *out)
{
	out[0] = '\0';
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof *nh;
			const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);

			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= 40) {
				hexcpy(out, desc, nh->n_descsz);
				return;
			}
			p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
}

static void fill_module(struct dl_phdr_info *info, struct audit_module *m)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	const char *name = info->dlpi_name;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	m->base = info->dlpi_addr;
	m->start = lo;
	m->end = hi;
	m->path[0] = '\0';
	m->path_truncated = false;
	/* The main program has an empty name: /proc/self/exe names it. */
	if (!name || !*name) {
		ssize_t n = readlink("/proc/self/exe", m->path, sizeof m->path - 1);

		m->path[n > 0 ? n : 0] = '\0';
		m->path_truncated = n == (ssize_t)sizeof m->path - 1;
	} else {
		size_t len = strlen(name);

		m->path_truncated = len >= sizeof m->path;
		if (m->path_truncated)
			len = sizeof m->path - 1;
		memcpy(m->path, name, len);
		m->path[len] = '\0';
	}
	read_build_id(info, m->build_id);
}

struct find_ctx {
	uintptr_t addr;
	struct audit_module *m;
	int found;
};

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find_ctx *c = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && c->addr >= lo && c->addr < lo + ph->p_memsz) {
			fill_module(info, c->m);
			c->found = 1;
			return 1;
		}
	}
	return 0;
}

int audit_module_find(uintptr_t addr, struct audit_module *m)
{
	struct find_ctx c = { addr, m, 0 };

	dl_iterate_phdr(find_cb, &c);
	return c.found ? 0 : -ENOENT;
}

static int is_emitted(uintptr_t pc)
{
	for (int i = 0; i < n_emitted; i++)
		if (pc >= emitted[i].start && pc < emitted[i].end)
			return 1;
	return 0;
}

void audit_modules_note(const uintptr_t *pcs, int n,
			void (*emit)(const struct audit_module *m, void *ud), void *ud)
{
	struct audit_module m;

	pthread_mutex_lock(&mod_lock);
	for (int i = 0; i < n; i++) {
		if (is_emitted(pcs[i]) || n_emitted >= MAX_MODULES)
			continue;
		if (audit_module_find(pcs[i], &m) < 0)
			continue;
		emitted[n_emitted].start = m.start;
		emitted[n_emitted].end = m.end;
		n_emitted++;
		emit(&m, ud);
	}
	pthread_mutex_unlock(&mod_lock);
}

void audit_modules_reset(void)
{
	/* Called in a forked child, which has one thread: no lock holder can
	 * exist unless fork interrupted one, so start from a fresh lock. */
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	mod_lock = fresh;
	n_emitted = 0;
}
