/* A tiny program that writes a sigshim-style log about itself, so that the
 * tests can check sigaudit's symbolization against names and lines known
 * here: the log's module map is this program's own (dl_iterate_phdr: load
 * bias, mapped range, GNU build-id), and the backtrace holds real return
 * addresses into sa_known_function and main.
 *
 * usage: sa-symtarget LOG
 * prints: handler=sa_known_handler function=sa_known_function line=N
 *         caller=main caller_line=M file=sa-symtarget.c */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct module {
	uintptr_t bias, start, end;
	char build_id[128];
};

void sa_known_function(void);
void sa_known_handler(int sig);

static void *volatile ra_inner, *volatile ra_outer;
static volatile int inner_line;

__attribute__((noinline)) static void *where(void)
{
	return __builtin_return_address(0);
}

/* The call and __LINE__ share a line: the return address minus one falls
 * on it, which is what sigaudit must print. */
__attribute__((noinline)) void sa_known_function(void)
{
	ra_inner = where(); inner_line = __LINE__;
	ra_outer = __builtin_return_address(0);
	__asm__ volatile("" ::: "memory");    /* no tail call: keep our frame */
}

__attribute__((noinline)) void sa_known_handler(int sig)
{
	__asm__ volatile("" : : "r"(sig) : "memory");
}

static void note_build_id(const ElfW(Nhdr) *n, struct module *m)
{
	const unsigned char *desc = (const unsigned char *)(n + 1) + ((n->n_namesz + 3) & ~3u);

	for (unsigned i = 0; i < n->n_descsz && 2 * i + 2 < sizeof m->build_id; i++)
		sprintf(m->build_id + 2 * i, "%02x", desc[i]);
}

static void scan_notes(const char *p, size_t len, struct module *m)
{
	const char *end = p + len;

	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;

		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    memcmp(n + 1, "GNU", 4) == 0)
			note_build_id(n, m);
		p += sizeof *n + ((n->n_namesz + 3) & ~3u) + ((n->n_descsz + 3) & ~3u);
	}
}

/* The first object dl_iterate_phdr reports is the main program. */
static int first_object(struct dl_phdr_info *info, size_t size, void *ud)
{
	struct module *m = ud;

	m->bias = info->dlpi_addr;
	m->start = UINTPTR_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD) {
			m->start = lo < m->start ? lo : m->start;
			m->end = lo + ph->p_memsz > m->end ? lo + ph->p_memsz : m->end;
		} else if (ph->p_type == PT_NOTE) {
			scan_notes((const char *)lo, ph->p_memsz, m);
		}
	}
	return 1;
}

static void write_log(FILE *f, const struct module *m, const char *exe)
{
	const long long t = 1795449600000000000LL;
	int pid = 31337;

	fprintf(f, "{\"v\":1,\"seq\":1,\"ts\":%lld,\"pid\":%d,\"tid\":%d,\"event\":\"sigshim.start\","
		"\"exe\":\"%s\",\"argv0\":\"sa-symtarget\",\"ppid\":1,\"main_tid\":%d}\n",
		t, pid, pid, exe, pid);
	fprintf(f, "{\"v\":1,\"seq\":2,\"ts\":%lld,\"pid\":%d,\"tid\":%d,\"event\":\"sigshim.module\","
		"\"path\":\"%s\",\"base\":\"0x%lx\",\"start\":\"0x%lx\",\"end\":\"0x%lx\","
		"\"build_id\":\"%s\"}\n", t + 1, pid, pid, exe, (unsigned long)m->bias,
		(unsigned long)m->start, (unsigned long)m->end, m->build_id);
	fprintf(f, "{\"v\":1,\"seq\":3,\"ts\":%lld,\"pid\":%d,\"tid\":%d,\"event\":\"signal.sigaction\","
		"\"thread_id\":2,\"signalnum\":10,\"signame\":\"SIGUSR1\",\"main\":false,"
		"\"act\":{\"handler\":\"%p\",\"flags\":[],\"mask\":[]},\"ret\":0,"
		"\"bt\":[\"%p\",\"%p\"],\"violation\":\"install-off-main\",\"policy\":\"report\"}\n",
		t + 2, pid, pid + 1, (void *)sa_known_handler, ra_inner, ra_outer);
	fprintf(f, "{\"v\":1,\"seq\":4,\"ts\":%lld,\"pid\":%d,\"tid\":%d,\"event\":\"signal.received\","
		"\"thread_id\":1,\"signalnum\":10,\"signame\":\"SIGUSR1\",\"main\":true,"
		"\"si_code\":\"SI_TKILL\",\"si_code_num\":-6,\"handler\":\"%p\",\"pc\":\"%p\","
		"\"bt\":[\"%p\"],\"violation\":\"test-pc\",\"policy\":\"report\"}\n",
		t + 3, pid, pid, (void *)sa_known_handler, (void *)sa_known_handler, ra_outer);
	fprintf(f, "{\"v\":1,\"seq\":5,\"ts\":%lld,\"pid\":%d,\"tid\":%d,\"event\":\"sigshim.exit\","
		"\"events\":4,\"dropped\":0,\"dropped_bytes\":0,\"truncated\":0,\"violations\":2}\n",
		t + 4, pid, pid);
}

int main(int argc, char **argv)
{
	struct module m = {0};
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	FILE *f;
	int outer_line;

	if (argc != 2 || n < 0)
		return 2;
	exe[n] = '\0';
	sa_known_function(); outer_line = __LINE__;
	dl_iterate_phdr(first_object, &m);
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	write_log(f, &m, exe);
	fclose(f);
	printf("handler=sa_known_handler function=sa_known_function line=%d "
	       "caller=main caller_line=%d file=sa-symtarget.c build_id=%s\n",
	       inner_line, outer_line, m.build_id);
	return 0;
}
