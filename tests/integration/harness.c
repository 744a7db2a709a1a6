/* Integration test harness (see harness.h). */
#define _GNU_SOURCE
#include "harness.h"
#include "logread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 60000

extern char **environ;

static char context[512];
static int failed;

/* --- failures ------------------------------------------------------------- */

void it_context(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof context, fmt, ap);
	va_end(ap);
}

void it_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	failed = 1;
	fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	if (context[0])
		fprintf(stderr, "  context: %s\n", context);
	fflush(stderr);
	/* check keeps a bounded message: the full text is on stderr above */
	if (strlen(msg) > 1500)
		strcpy(msg + 1480, " …(see stderr)");
	_ck_assert_failed(file, line, "Failed", "%s%s%s", msg,
			  context[0] ? " | " : "", context);
	abort();
}

const char *it_dump(json_t *v)
{
	static char *slots[4];
	static int next;
	int i = next++ % 4;

	free(slots[i]);
	slots[i] = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	return slots[i] ? slots[i] : "(absent)";
}

const char *it_status_str(int st)
{
	static char buf[64];

	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed by signal %d%s", WTERMSIG(st),
			 WCOREDUMP(st) ? " (core)" : "");
	else
		snprintf(buf, sizeof buf, "status %#x", st);
	return buf;
}

/* --- running a helper ------------------------------------------------------ */

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		it_fail(__FILE__, __LINE__, "%s is not set (run through meson test)", name);
	return v;
}

/* Copies s into out replacing each {key} by its value. */
static void expand(char *out, size_t n, const char *s, const char *const *kv)
{
	size_t o = 0;

	while (*s && o + 1 < n) {
		int done = 0;
		for (int i = 0; kv[i]; i += 2) {
			size_t kl = strlen(kv[i]);
			if (strncmp(s, kv[i], kl) == 0) {
				o += (size_t)snprintf(out + o, n - o, "%s", kv[i + 1]);
				s += kl;
				done = 1;
				break;
			}
		}
		if (!done)
			out[o++] = *s++;
		if (o >= n)
			o = n - 1;
	}
	out[o] = '\0';
}

static int env_is_ours(const char *e)
{
	static const char *const drop[] = {
		"LD_PRELOAD=", "SIGSHIM_OPTIONS=", "LD_DEBUG=", NULL,
	};

	for (int i = 0; drop[i]; i++)
		if (strncmp(e, drop[i], strlen(drop[i])) == 0)
			return 1;
	return 0;
}

/* Child side: never returns. */
static void exec_helper(const struct it_run *r, const char *path, int out_fd,
			int err_fd, char **envp)
{
	char *argv[IT_MAX_ARGS + 2];
	sigset_t none;
	int n = 0, nul = open("/dev/null", O_RDONLY);

	if (chdir(r->dir) != 0)
		_exit(126);
	dup2(nul, 0);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	closefrom(3);
	/* The check runner may have a handled or ignored signal and a mask:
	 * a helper starts from the defaults, natively and under the shim. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	argv[n++] = (char *)r->helper;
	for (int i = 0; i < IT_MAX_ARGS && r->args[i]; i++)
		argv[n++] = (char *)r->args[i];
	argv[n] = NULL;
	execve(path, argv, envp);
	_exit(127);
}

static char **build_env(const struct it_run *r, char *preload, char *options)
{
	size_t n = 0, k = 0;

	while (environ[n])
		n++;
	char **envp = calloc(n + IT_MAX_ENV + 3, sizeof *envp);
	for (size_t i = 0; i < n; i++)
		if (!env_is_ours(environ[i]))
			envp[k++] = environ[i];
	if (preload[0])
		envp[k++] = preload;
	if (options[0])
		envp[k++] = options;
	for (int i = 0; i < IT_MAX_ENV && r->env[i]; i++)
		envp[k++] = (char *)r->env[i];
	envp[k] = NULL;
	return envp;
}

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Reads both pipes to EOF; kills the child after RUN_TIMEOUT_MS. */
static void collect(struct it_run *r, int out_fd, int err_fd)
{
	size_t ocap = 0, ecap = 0;
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	int open_fds = 2, waited = 0;
	char buf[4096];

	append(&r->out, &r->out_len, &ocap, "", 0);
	append(&r->err, &r->err_len, &ecap, "", 0);
	while (open_fds > 0) {
		int n = poll(p, 2, 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && (waited += 1000) >= RUN_TIMEOUT_MS) {
			kill(r->pid, SIGKILL);
			it_context("%s: helper timed out, killed", r->dir);
			waited = -1000000000;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(p[i].fd, buf, sizeof buf);
			if (got <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else if (i == 0) {
				append(&r->out, &r->out_len, &ocap, buf, (size_t)got);
			} else {
				append(&r->err, &r->err_len, &ecap, buf, (size_t)got);
			}
		}
	}
}

static void find_logs(struct it_run *r)
{
	char pat[300];
	glob_t g;

	snprintf(pat, sizeof pat, "%s/log.*.jsonl", r->dir);
	r->nlogs = 0;
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc && r->nlogs < IT_MAX_LOGS; i++)
		r->logs[r->nlogs++] = strdup(g.gl_pathv[i]);
	globfree(&g);
}

/* In a sanitizer build, SIGSHIM_PRELOAD is "libasan.so libsigshim.so": the
 * runtime must come first in every helper's LD_PRELOAD. */
static const char *preload_prefix(const char *shim)
{
	static char prefix[1024];
	const char *full = getenv("SIGSHIM_PRELOAD");
	size_t n = full ? strlen(full) : 0, ns = strlen(shim);

	prefix[0] = '\0';
	if (n > ns && strcmp(full + n - ns, shim) == 0 && n - ns < sizeof prefix)
		memcpy(prefix, full, n - ns), prefix[n - ns] = '\0';
	return prefix;
}

void it_run(struct it_run *r)
{
	const char *helpers = env_or_fail("SIGSHIM_HELPERS");
	const char *shim = env_or_fail("SIGSHIM_LIB");
	const char *tmp = getenv("TMPDIR");
	char path[4096], preload[1024] = "", options[1024] = "";
	int out[2], err[2];

	snprintf(r->dir, sizeof r->dir, "%s/sigshim-it-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r->dir))
		it_fail(__FILE__, __LINE__, "mkdtemp %s: %s", r->dir, strerror(errno));
	const char *kv[] = { "{dir}", r->dir, "{shim}", shim, "{helpers}", helpers, NULL };
	if (r->helper[0] == '/')
		snprintf(path, sizeof path, "%s", r->helper);
	else
		snprintf(path, sizeof path, "%s/%s", helpers, r->helper);
	if (r->preload) {
		size_t n = (size_t)snprintf(preload, sizeof preload, "LD_PRELOAD=%s",
					    preload_prefix(shim));
		expand(preload + n, sizeof preload - n, r->preload, kv);
	} else if (r->shim) {
		snprintf(preload, sizeof preload, "LD_PRELOAD=%s%s", preload_prefix(shim), shim);
	}
	if (r->raw_options) {
		strcpy(options, "SIGSHIM_OPTIONS=");
		expand(options + 16, sizeof options - 16, r->raw_options, kv);
	} else if (r->shim || r->preload) {
		snprintf(options, sizeof options,
			 "SIGSHIM_OPTIONS=mode=audit:log_path=%s/log.%%p.jsonl:backtrace=0%s%s",
			 r->dir, r->options ? ":" : "", r->options ? r->options : "");
	}
	it_context("%s %s in %s (%s; %s)", r->helper, r->args[0] ? r->args[0] : "",
		   r->dir, preload[0] ? preload : "native", options);
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
		it_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	char **envp = build_env(r, preload, options);
	r->pid = fork();
	if (r->pid < 0)
		it_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (r->pid == 0)
		exec_helper(r, path, out[1], err[1], envp);
	free(envp);
	close(out[1]);
	close(err[1]);
	collect(r, out[0], err[0]);
	while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	find_logs(r);
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 127)
		it_fail(__FILE__, __LINE__, "cannot exec %s", path);
}

static int rm_entry(const char *dir, const char *name)
{
	char p[600];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return unlink(p);
}

void it_run_free(struct it_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	for (int i = 0; i < r->nlogs; i++)
		free(r->logs[i]);
	r->nlogs = 0;
	if (failed || getenv("SIGSHIM_KEEP") || !r->dir[0])
		return;
	DIR *d = opendir(r->dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				rm_entry(r->dir, e->d_name);
		closedir(d);
	}
	rmdir(r->dir);
}

/* --- logs and ids ---------------------------------------------------------- */

const char *it_log_for(const struct it_run *r, pid_t pid)
{
	char want[300];

	snprintf(want, sizeof want, "%s/log.%d.jsonl", r->dir, (int)pid);
	for (int i = 0; i < r->nlogs; i++)
		if (strcmp(r->logs[i], want) == 0)
			return r->logs[i];
	return NULL;
}

json_t *it_load(const char *path)
{
	long errors = 0;
	json_t *a;

	if (!path)
		it_fail(__FILE__, __LINE__, "no log file");
	a = tool_logread_load(path, &errors);
	if (!a)
		it_fail(__FILE__, __LINE__, "cannot read log %s: %s", path, strerror(errno));
	if (errors != 0)
		it_fail(__FILE__, __LINE__, "log %s has %ld malformed line(s)", path, errors);
	return a;
}

json_t *it_load_main(const struct it_run *r)
{
	const char *p = it_log_for(r, r->pid);

	if (!p)
		it_fail(__FILE__, __LINE__, "no log for pid %d in %s (%d log files); "
			"status %s; stderr: %s", (int)r->pid, r->dir, r->nlogs,
			it_status_str(r->status), r->err);
	return it_load(p);
}

/* Under the valgrind test setup, valgrind's own lines ("==PID== …",
 * "--PID-- …") carry a pid and are not the helper's output. */
static int is_valgrind_line(const char *p)
{
	if (!getenv("SIGSHIM_UNDER_VALGRIND") || !(p[0] == '=' || p[0] == '-') || p[1] != p[0])
		return 0;
	p += 2;
	while (*p >= '0' && *p <= '9')
		p++;
	return p[0] == p[-1] ? 0 : (p[0] == '=' || p[0] == '-') && p[1] == p[0];
}

int it_sigaudit_check(const char *dir, char **output)
{
	char cmd[2048], *buf = NULL;
	size_t len = 0;
	FILE *p, *mem = open_memstream(&buf, &len);
	int st, c;

	snprintf(cmd, sizeof cmd, "'%s/sigaudit' check %s/log.*.jsonl 2>&1",
		 getenv("SIGSHIM_TOOLS"), dir);
	p = popen(cmd, "r");
	it_assert(p != NULL && mem != NULL);
	while ((c = fgetc(p)) != EOF)
		fputc(c, mem);
	st = pclose(p);
	fclose(mem);
	if (output)
		*output = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int it_under_valgrind(void)
{
	return getenv("SIGSHIM_UNDER_VALGRIND") != NULL;
}

char *it_err_filtered(const struct it_run *r)
{
	char *out = calloc(1, r->err_len + 1);
	const char *p = r->err;
	size_t o = 0;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (p[0] != '@' && !is_valgrind_line(p)) {
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	out[o] = '\0';
	return out;
}

unsigned long long it_id_nth(const struct it_run *r, const char *kind,
			     const char *name, int nth)
{
	char key[128];
	const char *p = r->err;

	if (name)
		snprintf(key, sizeof key, "@%s %s ", kind, name);
	else
		snprintf(key, sizeof key, "@%s ", kind);
	while (p && (p = strstr(p, key)) != NULL) {
		if (p == r->err || p[-1] == '\n') {
			if (nth-- == 0)
				return strtoull(p + strlen(key), NULL, 0);
		}
		p += strlen(key);
	}
	it_fail(__FILE__, __LINE__, "helper printed no \"%s\" line (occurrence %d)", key, nth);
}

unsigned long long it_id(const struct it_run *r, const char *kind, const char *name)
{
	return it_id_nth(r, kind, name, 0);
}

/* --- events ----------------------------------------------------------------- */

int it_match(json_t *ev, json_t *pattern)
{
	const char *key;
	json_t *want;

	json_object_foreach(pattern, key, want) {
		json_t *have = json_object_get(ev, key);
		if (!have)
			return 0;
		/* nested objects match as subsets too */
		if (json_is_object(want) && json_is_object(have)) {
			if (!it_match(have, want))
				return 0;
		} else if (!json_equal(have, want)) {
			return 0;
		}
	}
	return 1;
}

static json_t *vpattern(const char *fmt, va_list ap)
{
	json_error_t e;
	json_t *p = json_vpack_ex(&e, 0, fmt, ap);

	if (!p)
		it_fail(__FILE__, __LINE__, "bad pattern %s: %s", fmt, e.text);
	return p;
}

static long find_from(json_t *events, long from, json_t *p)
{
	for (size_t i = (size_t)(from < 0 ? 0 : from); i < json_array_size(events); i++)
		if (it_match(json_array_get(events, i), p))
			return (long)i;
	return -1;
}

long it_find(json_t *events, long from, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_t *p = vpattern(fmt, ap);
	va_end(ap);
	long i = find_from(events, from, p);
	json_decref(p);
	return i;
}

long it_count(json_t *events, const char *fmt, ...)
{
	va_list ap;
	long n = 0;

	va_start(ap, fmt);
	json_t *p = vpattern(fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < json_array_size(events); i++)
		n += it_match(json_array_get(events, i), p);
	json_decref(p);
	return n;
}

long it_expect_at(const char *file, int line, json_t *events, long from,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_t *p = vpattern(fmt, ap);
	va_end(ap);
	long i = find_from(events, from, p);
	if (i < 0) {
		/* Show the nearest candidates: same event name after `from`. */
		json_t *name = json_object_get(p, "event");
		char near[3000] = "";
		size_t o = 0;
		for (size_t k = (size_t)(from < 0 ? 0 : from);
		     k < json_array_size(events) && o < sizeof near - 600; k++) {
			json_t *ev = json_array_get(events, k);
			if (name && json_equal(json_object_get(ev, "event"), name))
				o += (size_t)snprintf(near + o, sizeof near - o, "\n    [%zu] %.500s",
						      k, it_dump(ev));
		}
		it_fail(file, line, "no event matching %s after index %ld (%zu events); "
			"same-name events:%s", it_dump(p), from, json_array_size(events),
			o ? near : " none");
	}
	json_decref(p);
	return i;
}

void it_assert_field_at(const char *file, int line, json_t *obj, const char *key,
			const char *fmt, ...)
{
	json_error_t e;
	va_list ap;

	va_start(ap, fmt);
	json_t *want = json_vpack_ex(&e, 0, fmt, ap);
	va_end(ap);
	if (!want)
		it_fail(file, line, "bad value format %s: %s", fmt, e.text);
	json_t *have = json_object_get(obj, key);
	if (!have || !json_equal(have, want))
		it_fail(file, line, "field \"%s\": expected %s, got %s in %s", key,
			it_dump(want), it_dump(have), it_dump(obj));
	json_decref(want);
}

json_t *it_field_at(const char *file, int line, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		it_fail(file, line, "field \"%s\" missing in %s", key, it_dump(obj));
	return v;
}

long long it_int_at(const char *file, int line, json_t *obj, const char *key)
{
	json_t *v = it_field_at(file, line, obj, key);

	if (!json_is_integer(v))
		it_fail(file, line, "field \"%s\" is not an integer in %s", key, it_dump(obj));
	return json_integer_value(v);
}

unsigned long long it_hex(json_t *v)
{
	if (json_is_integer(v))
		return (unsigned long long)json_integer_value(v);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 16);
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

char *it_intlist(json_t *arr, char *buf, size_t n)
{
	long long v[128];
	size_t k = 0, o = 0;

	if (!json_is_array(arr)) {
		snprintf(buf, n, "%s", json_is_null(arr) ? "null" : "(not a list)");
		return buf;
	}
	for (size_t i = 0; i < json_array_size(arr) && k < 128; i++)
		v[k++] = json_is_integer(json_array_get(arr, i)) ?
			json_integer_value(json_array_get(arr, i)) : -999;
	qsort(v, k, sizeof v[0], cmp_ll);
	o += (size_t)snprintf(buf, n, "[");
	for (size_t i = 0; i < k && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? " " : "", v[i]);
	if (o < n)
		snprintf(buf + o, n - o, "]");
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *it_strset(json_t *arr, char *buf, size_t n)
{
	const char *v[64];
	size_t k = 0, o = 0;

	buf[0] = '\0';
	if (!json_is_array(arr)) {
		snprintf(buf, n, "(not a list)");
		return buf;
	}
	for (size_t i = 0; i < json_array_size(arr) && k < 64; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		v[k++] = s ? s : "(non-string)";
	}
	qsort(v, k, sizeof v[0], cmp_str);
	for (size_t i = 0; i < k && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "," : "", v[i]);
	return buf;
}

/* --- main --------------------------------------------------------------- */

int it_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? 0 : 1;
}

int it_sanitizer_preloaded(void)
{
	const char *shim = getenv("SIGSHIM_LIB");

	return shim && *preload_prefix(shim) != '\0';
}

static int in_sanitizer_module(json_t *evs, const char *addr_str)
{
	unsigned long long addr;

	if (!addr_str || strncmp(addr_str, "0x", 2) != 0)
		return 0;
	addr = strtoull(addr_str, NULL, 16);
	for (size_t i = 0; i < json_array_size(evs); i++) {
		json_t *m = json_array_get(evs, i);
		const char *path = json_string_value(json_object_get(m, "path"));
		const char *lo = json_string_value(json_object_get(m, "start"));
		const char *hi = json_string_value(json_object_get(m, "end"));

		if (!path || !lo || !hi || !strstr(path, "libasan") ||
		    strcmp(json_string_value(json_object_get(m, "event")), "sigshim.module"))
			continue;
		if (addr >= strtoull(lo, NULL, 16) && addr < strtoull(hi, NULL, 16))
			return 1;
	}
	return 0;
}

void it_drop_sanitizer_events(json_t *evs)
{
	if (!it_sanitizer_preloaded())
		return;
	for (size_t i = json_array_size(evs); i-- > 0;) {
		json_t *ev = json_array_get(evs, i);
		json_t *act = json_object_get(ev, "act");
		const char *h = json_string_value(json_object_get(act ? act : ev, "handler"));

		if (json_is_true(json_object_get(ev, "early")) && in_sanitizer_module(evs, h))
			json_array_remove(evs, i);
	}
}

static void run_variant(struct it_run *r, const char *helper, const char *name,
			const char *opts, const char *const *env)
{
	memset(r, 0, sizeof *r);
	r->helper = helper;
	r->args[0] = name;
	r->shim = opts != NULL;
	r->raw_options = opts;
	for (int i = 0; env && env[i] && i < IT_MAX_ENV; i++)
		r->env[i] = env[i];
	it_run(r);
}

void it_same_as_native(const char *helper, const char *name, const char *const *opts,
		       const char *const *env, int keep, struct it_run *kept)
{
	struct it_run n;

	run_variant(&n, helper, name, NULL, env);
	it_assert_msg(WIFEXITED(n.status) && WEXITSTATUS(n.status) == 0,
		      "%s native: %s\n%s%s", name, it_status_str(n.status), n.out, n.err);
	for (int v = 0; opts[v]; v++) {
		struct it_run r;

		run_variant(&r, helper, name, opts[v], env);
		it_assert_msg(r.status == n.status && strcmp(r.out, n.out) == 0,
			      "%s under %s differs from native\nnative (%s):\n%s\nshim (%s):\n%s\nstderr:\n%s",
			      name, opts[v], it_status_str(n.status), n.out,
			      it_status_str(r.status), r.out, r.err);
		if (kept && v == keep)
			*kept = r;
		else
			it_run_free(&r);
	}
	it_run_free(&n);
}
