#!/usr/bin/env python3
"""Runs sigshim's benchmarks side by side and prints markdown tables.

Started by bench/run.sh after it has built the programs.  Every measured
program is a child: the shim is put into the child's environment only, never
into this driver.  Each repetition runs every configuration of a row once,
in an order rotated from one repetition to the next, so slow drift of a
noisy machine falls on all configurations alike; a ratio is computed inside
one repetition (configuration / native of that same repetition) and the
table gives the median [min-max] over the repetitions.
"""
import argparse
import datetime
import glob
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CALL_OPS = [
    ("mask", "pthread_sigmask(SIG_BLOCK, {}, NULL)"),
    ("sa_query", "sigaction(SIGUSR1, NULL, &old)"),
    ("sa_install", "sigaction(SIGUSR1, &same, NULL)"),
    ("kill0", "pthread_kill(t, 0)"),
]
LAT_SCENARIOS = [
    ("read", "worker blocked in read()", "thread"),
    ("sigsuspend", "worker in sigsuspend()", "thread"),
    ("busy", "worker busy in user space", "thread"),
    ("process", "kill(getpid()) from a worker, main busy", "process"),
]
TARGET = {"off": 1.02, "log": 1.5, "mmap": 1.5, "bt16": 2.0,
          "lat_thread": 2.0, "lat_process": 1.2, "storm": 0.8}


class Runner:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.shim = os.path.join(self.build, "shim", "libsigshim.so")
        self.bin = os.path.join(self.build, "bench")
        self.logdir = args.logdir
        self.reps = args.reps
        self.failures = []
        self.wait_budget = args.wait_idle
        self.waited = 0.0
        self.busy_starts = 0
        self.starts = 0
        base = dict(os.environ)
        for k in ("LD_PRELOAD", "SIGSHIM_OPTIONS"):
            base.pop(k, None)
        self.base_env = base

    def env(self, options):
        if options is None:
            return dict(self.base_env)
        e = dict(self.base_env)
        e["LD_PRELOAD"] = self.shim
        e["SIGSHIM_OPTIONS"] = options
        return e

    def log_template(self, where=None):
        return os.path.join(where or self.logdir, "sigshim-bench.%p.jsonl")

    def clear_logs(self, where=None):
        for f in glob.glob(os.path.join(where or self.logdir, "sigshim-bench.*.jsonl")):
            os.unlink(f)

    def settle(self):
        """Called before each repetition: waits (within a budget for the whole
        run) until other processes leave the CPUs mostly idle, so that one
        repetition's configurations share the same conditions."""
        self.starts += 1
        idle = idle_percent(0.2)
        while idle < 80 and self.waited < self.wait_budget:
            time.sleep(1.0)
            self.waited += 1.2
            idle = idle_percent(0.2)
        if idle < 80:
            self.busy_starts += 1

    def run(self, argv, options=None, prefix=(), timeout=60):
        """Runs one program, returns its key=value line as a dict (or None)."""
        cmd = list(prefix) + argv
        try:
            p = subprocess.run(cmd, env=self.env(options), capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.failures.append("timeout: %s (%s)" % (" ".join(cmd), options))
            return None
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if p.returncode != 0:
            self.failures.append("exit %d: %s (%s): %s %s" % (
                p.returncode, " ".join(cmd), options, line, p.stderr.strip()[-300:]))
        return kv or None


def rotate(seq, k):
    k %= len(seq)
    return seq[k:] + seq[:k]


def med_range(values, fmt="{:.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return (fmt + " [" + fmt + "–" + fmt + "]").format(
        statistics.median(values), min(values), max(values))


def ratio_cell(values):
    return med_range(values, "{:.2f}") + "×" if values else "n/a"


def verdict(values, limit, higher_is_better=False, extra_ok=True, unit="×"):
    values = [v for v in values if v is not None]
    if not values:
        return "not measured"
    m = statistics.median(values)
    ok = (m >= limit if higher_is_better else m <= limit) and extra_ok
    sign = "≥" if higher_is_better else "≤"
    return ("met" if ok else "**MISSED**") + " (%s%g%s)" % (sign, limit, unit)


def ratios(rows, cfg, key, ref="native"):
    out = []
    for r in rows:
        a, b = r.get(cfg), r.get(ref)
        if a and b and float(b[key]) > 0:
            out.append(float(a[key]) / float(b[key]))
    return out


def col(rows, cfg, key, scale=1.0):
    return [float(r[cfg][key]) * scale for r in rows if r.get(cfg) and key in r[cfg]]


# ---------------------------------------------------------------- 1. calls
def bench_calls(R, out, calls_fast, calls_slow, batches):
    log = "mode=audit:log_path=" + R.log_template()
    cfgs = [("native", None, calls_fast), ("off", "mode=audit", calls_fast),
            ("log", log, calls_slow), ("mmap", log + ":sink=mmap", calls_slow),
            ("bt16", log + ":backtrace=16", calls_slow)]
    results = {}
    for op, _ in CALL_OPS:
        rows = []
        for rep in range(R.reps):
            R.settle()
            row = {}
            for name, opts, n in rotate(cfgs, rep):
                row[name] = R.run([os.path.join(R.bin, "bench-calls"), op, str(n), str(batches)], opts)
                R.clear_logs()
            rows.append(row)
        results[op] = rows
    out.append("### 1. Per-call overhead (ns/call; ratio to native in the same repetition)\n")
    out.append("mode=audit. *off*: preloaded, no log_path. *log*: every call logged to "
               "`%s` (%s), one `write(2)` per event (sink=write, the default). *mmap*: the same, "
               "sink=mmap (copied into a shared mapping). *bt16*: sink=write with backtrace=16.\n"
               % (R.logdir, fs_type(R.logdir)))
    out.append("| call | native ns | off ns | off ratio | log ns | log ratio | mmap ns | mmap ratio | bt16 ns | bt16 ratio | off ≤1.02× | log ≤1.5× | mmap ≤1.5× | bt16 ≤2× |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for op, label in CALL_OPS:
        rows = results[op]
        cells = ["`%s`" % label, med_range(col(rows, "native", "ns_per_call"))]
        for cfg in ("off", "log", "mmap", "bt16"):
            cells += [med_range(col(rows, cfg, "ns_per_call")), ratio_cell(ratios(rows, cfg, "ns_per_call"))]
        cells += [verdict(ratios(rows, c, "ns_per_call"), TARGET[c]) for c in ("off", "log", "mmap", "bt16")]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return results


# ---------------------------------------------------------------- 5. peers
def bench_peers(R, out, calls_results, n_strace, n_ltrace, batches, fast, slow):
    log = "mode=audit:log_path=" + R.log_template()
    prog = os.path.join(R.bin, "bench-calls")
    peers = []
    if shutil.which("strace"):
        peers.append(("strace", ["strace", "-f", "-e", "trace=rt_sigprocmask", "-o", "/dev/null"], n_strace))
    if shutil.which("ltrace"):
        peers.append(("ltrace", ["ltrace", "-e", "pthread_sigmask", "-o", "/dev/null"], n_ltrace))
    cfgs = [("native", None, (), fast), ("sigshim log", log, (), slow)] + \
           [(n, None, p, k) for n, p, k in peers]
    rows = []
    for rep in range(R.reps):
        R.settle()
        row = {}
        for name, opts, prefix, n in rotate(cfgs, rep):
            row[name] = R.run([prog, "mask", str(n), str(min(batches, n))], opts, prefix, timeout=120)
            R.clear_logs()
        rows.append(row)
    out.append("### 5. The same `pthread_sigmask` loop under the tools a user would otherwise pick\n")
    out.append("strace: `strace -f -e trace=rt_sigprocmask -o /dev/null`; ltrace: "
               "`ltrace -e pthread_sigmask -o /dev/null`; sigshim: mode=audit, every call logged "
               "(the same information, plus thread ids and masks).\n")
    out.append("| tracer | ns/call | ratio to native |")
    out.append("|---|---|---|")
    for name, _, _, _ in cfgs:
        if name == "native":
            out.append("| native | %s | 1× |" % med_range(col(rows, "native", "ns_per_call")))
            continue
        out.append("| %s | %s | %s |" % (name, med_range(col(rows, name, "ns_per_call")),
                                        ratio_cell(ratios(rows, name, "ns_per_call"))))
    if not peers:
        out.append("| strace / ltrace | not installed | — |")
    out.append("")


# ---------------------------------------------------------------- 2. latency
def bench_latency(R, out, samples, pin=True):
    cfgs = [("native", None), ("audit", "mode=audit"), ("enforce", "mode=enforce")]
    out.append("### 2. Delivery latency, send → first instruction of the handler (µs)\n")
    out.append("p50/p99 of %d samples per run; median [min–max] over runs; main thread %s. "
               "*enforce* forwards a worker's handler to the main thread (column *on main* says "
               "where it ran). Targets apply to p50.\n"
               % (samples, "on CPU 0, the other thread on CPU 1" if pin else "and threads not pinned"))
    out.append("| target | config | p50 µs | p50 ratio | p99 µs | p99 ratio | on main | target |")
    out.append("|---|---|---|---|---|---|---|---|")
    all_rows = {}
    for sc, label, kind in LAT_SCENARIOS:
        rows = []
        for rep in range(R.reps):
            R.settle()
            row = {}
            for name, opts in rotate(cfgs, rep):
                row[name] = R.run([os.path.join(R.bin, "bench-latency"), sc, str(samples)]
                                  + ([] if pin else ["nopin"]), opts)
            rows.append(row)
        all_rows[sc] = rows
        for name, _ in cfgs:
            p50 = col(rows, name, "p50_ns", 1e-3)
            p99 = col(rows, name, "p99_ns", 1e-3)
            main = [float(r[name]["on_main"]) / (float(r[name]["samples"]) + 100)
                    for r in rows if r.get(name)]
            on_main = "%.0f%%" % (100 * statistics.median(main)) if main else "n/a"
            if name == "native":
                cells = [med_range(p50, "{:.1f}"), "1×", med_range(p99, "{:.1f}"), "1×", on_main, ""]
            else:
                tgt = ""
                if name == "enforce":
                    lim = TARGET["lat_thread"] if kind == "thread" else TARGET["lat_process"]
                    tgt = "p50 " + verdict(ratios(rows, name, "p50_ns"), lim)
                cells = [med_range(p50, "{:.1f}"), ratio_cell(ratios(rows, name, "p50_ns")),
                         med_range(p99, "{:.1f}"), ratio_cell(ratios(rows, name, "p99_ns")),
                         on_main, tgt]
            out.append("| %s | %s | %s |" % (label, name, " | ".join(cells)))
    out.append("")
    return all_rows


# ---------------------------------------------------------------- 3. storm
def bench_storm(R, out, threads, per_thread):
    cfgs = [("native", None), ("audit", "mode=audit"), ("enforce", "mode=enforce")]
    rows = []
    for rep in range(R.reps):
        R.settle()
        row = {}
        for name, opts in rotate(cfgs, rep):
            row[name] = R.run([os.path.join(R.bin, "bench-storm"), str(threads), str(per_thread)], opts)
        rows.append(row)
    out.append("### 3. Real-time storm: %d threads × %d `pthread_sigqueue(self, SIGRTMIN)`\n"
               % (threads, per_thread))
    out.append("| config | handled/s (k) | ratio | shortfall (max over runs) | EAGAIN retries (max) | on main (min) | target ≥0.8× + exact |")
    out.append("|---|---|---|---|---|---|---|")
    for name, _ in cfgs:
        runs = [r[name] for r in rows if r.get(name)]
        short = max((int(r["shortfall"]) for r in runs), default=None)
        eag = max((int(r["eagain"]) for r in runs), default=None)
        # The lowest share over runs: an instance handled off main means the
        # forwarding ring overflowed (the shim logs it as not_forwarded).
        onm = min([float(r["on_main"]) / float(r["sent"]) for r in runs]) if runs else 0
        tgt = ""
        if name == "enforce":
            tgt = verdict(ratios(rows, name, "handled_per_s"), TARGET["storm"], True, short == 0)
        out.append("| %s | %s | %s | %s | %s | %.1f%% | %s |" % (
            name, med_range(col(rows, name, "handled_per_s", 1e-3)),
            "1×" if name == "native" else ratio_cell(ratios(rows, name, "handled_per_s")),
            short, eag, 100 * onm, tgt))
    out.append("")


# ---------------------------------------------------------------- 4. sink
def bench_sink(R, out, calls, batches):
    places = [(R.logdir, fs_type(R.logdir))]
    if os.path.isdir("/dev/shm") and os.path.realpath("/dev/shm") != os.path.realpath(R.logdir):
        places.append(("/dev/shm", fs_type("/dev/shm")))
    cfgs = [(p, fs, t) for p, fs in places for t in (1, 2)]
    rows = []
    for rep in range(R.reps):
        R.settle()
        row = {}
        for where, fs, t in rotate(cfgs, rep):
            opts = "mode=audit:log_path=" + R.log_template(where)
            r = R.run([os.path.join(R.bin, "bench-calls"), "mask", str(calls), str(batches), str(t)], opts)
            files = glob.glob(os.path.join(where, "sigshim-bench.*.jsonl"))
            if r and files:
                size = sum(os.path.getsize(f) for f in files)
                lines = sum(sum(1 for _ in open(f, "rb")) for f in files)
                r["events"] = lines
                r["bytes_per_event"] = size / max(lines, 1)
                r["events_per_s"] = float(r["calls_per_s"])
            R.clear_logs(where)
            row[(where, t)] = r
        rows.append(row)
    out.append("### 4. Event sink throughput (`pthread_sigmask` loop, every call logged, one `write(2)` per event)\n")
    out.append("| log on | threads | events/s (k) | bytes/event |")
    out.append("|---|---|---|---|")
    for where, fs, t in cfgs:
        ev = [r[(where, t)]["events_per_s"] * 1e-3 for r in rows if r.get((where, t)) and "events_per_s" in r[(where, t)]]
        bpe = [r[(where, t)]["bytes_per_event"] for r in rows if r.get((where, t)) and "bytes_per_event" in r[(where, t)]]
        out.append("| %s (%s) | %d | %s | %s |" % (where, fs, t, med_range(ev), med_range(bpe)))
    out.append("")
    bench_raw_sinks(R, out, calls * 2)


def bench_raw_sinks(R, out, events):
    """The sink designs alone: a fixed 200-byte line, no shim, no formatting."""
    path = os.path.join(R.logdir, "sigshim-bench.sink.%d" % os.getpid())
    cfgs = [(k, t) for k in ("write", "mmap", "mmap_prefault") for t in (1, 2)]
    rows = []
    for rep in range(R.reps):
        R.settle()
        row = {}
        for kind, t in rotate(cfgs, rep):
            row[(kind, t)] = R.run([os.path.join(R.bin, "bench-sink"), kind, path, str(events), str(t)])
        rows.append(row)
    out.append("Sink designs alone (`bench-sink`: a fixed 200-byte line, no formatting, file in `%s`):\n" % R.logdir)
    out.append("| sink | threads | ns/event per thread | events/s (k) |")
    out.append("|---|---|---|---|")
    label = {"write": "`write(2)` O_APPEND per event (today)",
             "mmap": "MAP_SHARED + atomic offset, faulting pages on first touch",
             "mmap_prefault": "MAP_SHARED + atomic offset, pages faulted in ahead"}
    for kind, t in cfgs:
        ns = [float(r[(kind, t)]["ns_per_event"]) for r in rows if r.get((kind, t))]
        ev = [float(r[(kind, t)]["events_per_s"]) * 1e-3 for r in rows if r.get((kind, t))]
        out.append("| %s | %d | %s | %s |" % (label[kind], t, med_range(ns, "{:.0f}"), med_range(ev)))
    out.append("")


# ---------------------------------------------------------------- 6. sigaudit
# The line formats of gen_log() in tests/sigaudit/test-scale.c, byte for byte
# (there: fprintf with %lld; here: the per-thread constants are filled in
# once, seq and ts per line).  No junk lines, no sink=mmap padding.
SA_TS0 = 1796659607023473536
SA_START = ('{"v":1,"seq":%d,"ts":%d,"pid":%d,"tid":%d,'
            '"event":"sigshim.start","version":"0.1.0","ppid":%d,'
            '"main_tid":%d,"main_thread_id":1399459655%05d,"options":{"mode":'
            '"enforce","log_path":"/tmp/gen/soak.%%p.jsonl","backtrace":0,'
            '"rule_install_off_main":"deny","exitcode":-1,"sink":"write"},'
            '"exe":"/usr/bin/app","argv0":"app"}\n')
SA_MODULE = ('{"v":1,"seq":%d,"ts":%d,"pid":%d,"tid":%d,'
             '"event":"sigshim.module","path":"/usr/lib/x86_64-linux-gnu/'
             'lib%d.so.6","base":"0x7f47b5%02d0000","start":"0x7f47b5%02d0000",'
             '"end":"0x7f47b5%02d8000","build_id":null}\n')
SA_EXIT = ('{"v":1,"seq":%d,"ts":%d,"pid":%d,"tid":%d,'
           '"event":"sigshim.exit","events":%d,"dropped":0,"dropped_bytes":0,'
           '"truncated":0,"violations":0,"how":"exit","status":0}\n')
SA_HEAD = '{"v":1,"seq":%d,"ts":%d'
# What follows "ts" in each event line, by e % 6; %%d: handled's latency_ns.
SA_EVENT = {
    "mask": (',"pid":%d,"tid":%d,"event":"signal.pthread_sigmask","thread_id":%d,'
             '"main":%s,"version":"GLIBC_2.32","how":"SIG_BLOCK","set":[14],"ret":0}\n'),
    "query": (',"pid":%d,"tid":%d,"event":"signal.sigaction","thread_id":%d,"signalnum":12,'
              '"signame":"SIGUSR2","main":%s,"act":null,"oldact":'
              '{"handler":"SIG_DFL","flags":[],"mask":[]},"act_ptr":null,'
              '"oldact_ptr":"0x7f47b50fc7f0","ret":0}\n'),
    "kill": (',"pid":%d,"tid":%d,"event":"signal.kill","thread_id":%d,"signalnum":14,'
             '"signame":"SIGALRM","main":%s,"target_pid":%d,"ret":0}\n'),
    "received": (',"pid":%d,"tid":%d,"event":"signal.received","thread_id":%d,"signalnum":14,'
                 '"signame":"SIGALRM","main":%s,"si_code":"SI_USER",'
                 '"si_code_num":0,"handler":"0x555fbfc76a40"}\n'),
    "handled": (',"pid":%d,"tid":%d,"event":"signal.handled","thread_id":%d,"signalnum":14,'
                '"signame":"SIGALRM","main":%s,"handler":"0x555fbfc76a40",'
                '"from_tid":%d,"from_thread_id":%d,"latency_ns":%%d}\n'),
}
SA_ROTATION = ("mask", "query", "kill", "mask", "received", "handled")
SA_TARGET = {"s_per_gb": 30.0, "rss_ratio": 0.25, "hundred_k_s": 5.0}


def sa_event_format(kind, pid, tid, thread_id, main):
    if kind == "kill":
        tail = SA_EVENT[kind] % (pid, tid, thread_id, main, pid)
    elif kind == "handled":
        tail = SA_EVENT[kind] % (pid, tid, thread_id, main, tid, thread_id)
    else:
        tail = SA_EVENT[kind] % (pid, tid, thread_id, main)
    return SA_HEAD + tail


def sa_log_chunks(procs, threads, events, chunk_lines=50000):
    """gen_log(): per process a start line, 4 modules, then `events` rounds
    over its threads + 1 (the rotation mask, query, kill, mask, received,
    handled), an exit line.  Yields (text, lines) in chunks of about
    chunk_lines lines."""
    ts = SA_TS0
    buf, n = [], 0
    kinds = sorted({SA_ROTATION[e % 6] for e in range(min(events, 6))})
    for p in range(procs):
        pid = 1000 + p * (threads + 1)
        seq = 1
        buf.append(SA_START % (seq, ts, pid, pid, 1000 if p else 1, pid, p))
        seq += 1
        ts += 1
        for m in range(4):
            buf.append(SA_MODULE % (seq, ts, pid, pid, m, m, m, m))
            seq += 1
            ts += 1
        n += 5
        fmts = {k: [sa_event_format(k, pid, pid + t, 139945965568960 + t * 8392704,
                                    "false" if t else "true") for t in range(threads + 1)]
                for k in kinds}
        width = threads + 1
        for e in range(events):
            kind = SA_ROTATION[e % 6]
            fl = fmts[kind]
            if kind == "handled":
                lat = e % 977
                buf += [f % (seq + i, ts + i, lat) for i, f in enumerate(fl)]
            else:
                buf += [f % (seq + i, ts + i) for i, f in enumerate(fl)]
            seq += width
            ts += width
            n += width
            if len(buf) >= chunk_lines:
                yield "".join(buf), n
                buf, n = [], 0
        buf.append(SA_EXIT % (seq, ts, pid, pid, seq))
        ts += 1
        n += 1
        if len(buf) >= chunk_lines:
            yield "".join(buf), n
            buf, n = [], 0
    if buf:
        yield "".join(buf), n


def sa_write_log(path, procs, threads, events):
    """Writes the log, flushed to the disk before it is read (so that
    writeback does not run during a measurement); returns (bytes, lines)."""
    size = lines = 0
    with open(path, "w", encoding="ascii", buffering=1 << 22) as f:
        for text, n in sa_log_chunks(procs, threads, events):
            f.write(text)
            size += len(text)
            lines += n
        f.flush()
        os.fsync(f.fileno())
    return size, lines


def sa_log_size(procs, threads, events):
    return sum(len(text) for text, _ in sa_log_chunks(procs, threads, events))


def sa_events_for(target_bytes, procs, threads):
    """Events per thread for a log of about target_bytes (seq and ts widen
    with the log: sized from a probe of a few thousand rounds)."""
    fixed = sa_log_size(1, threads, 0)
    probe = 6000
    per_round = (sa_log_size(1, threads, probe) - fixed) / probe
    return max(6, int((target_bytes / procs - fixed) / per_round))


def sa_human(nbytes):
    if nbytes >= 1e9:
        return "%.2f GB" % (nbytes / 1e9)
    return "%.0f MB" % (nbytes / 1e6)


def sa_human_count(n):
    if n >= 1e6:
        return "%.1fM" % (n / 1e6)
    return "%.0fk" % (n / 1e3) if n >= 1e4 else "%d" % n


# Peak RSS is taken by a small helper that forks sigaudit: at execve the
# kernel folds the old address space's high-water mark into the child's
# ru_maxrss, and subprocess (vfork) would hand it this driver's (~100 MB
# after writing the logs).  A fresh `python3 -I -S` forked child starts at a
# few MB (SA_FLOOR measures it); ru_maxrss is a maximum, not a sum, so any
# peak above that floor is sigaudit's own.  The helper times fork to wait4.
SA_SPAWN = r"""
import os, signal, sys, time
timeout, argv = float(sys.argv[1]), sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
signal.signal(signal.SIGALRM, lambda *a: os.kill(pid, signal.SIGKILL))
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print("wall=%.6f maxrss_kib=%d status=%d" % (wall, ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def sa_spawn(env, argv, timeout):
    """(wall s, peak RSS KiB, exit status or -signal, stderr tail) of argv,
    stdout to /dev/null; None for the first three if the helper failed."""
    with tempfile.TemporaryFile() as err:
        try:
            p = subprocess.run([sys.executable, "-I", "-S", "-c", SA_SPAWN, str(timeout)] + argv,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=err, text=True, timeout=timeout + 30)
            kv = dict(f.split("=", 1) for f in p.stdout.split() if "=" in f)
        except subprocess.TimeoutExpired:
            kv = {}
        err.seek(0)
        tail = err.read()[-300:].decode(errors="replace").strip()
    if not {"wall", "maxrss_kib", "status"} <= kv.keys():
        return None, None, None, tail
    return float(kv["wall"]), int(kv["maxrss_kib"]), int(kv["status"]), tail


def sa_run(R, sigaudit, cmd, log, threads, timeout):
    """One `sigaudit CMD LOG`, stdout to /dev/null: wall time, peak RSS of the
    child (ru_maxrss from wait4, KiB), exit status.  None if it was killed."""
    env = dict(R.base_env)
    env.pop("SIGAUDIT_THREADS", None)
    if threads is not None:
        env["SIGAUDIT_THREADS"] = threads
    wall, rss, status, tail = sa_spawn(env, [sigaudit, cmd, log], timeout)
    what = "sigaudit %s %s%s" % (cmd, os.path.basename(log),
                                 " (SIGAUDIT_THREADS=%s)" % threads if threads else "")
    if status is None:
        R.failures.append("%s: the measuring helper failed: %s" % (what, tail))
        return None
    # summary: 0; check: 0 clean, 1 violations (both are a complete review)
    if status < 0:
        R.failures.append("%s: killed by signal %d after %.0f s%s" % (
            what, -status, wall, " (timeout)" if wall >= timeout else ""))
        return None
    if status > (1 if cmd == "check" else 0):
        R.failures.append("exit %d: %s: %s" % (status, what, tail))
    return {"wall": wall, "rss_kib": rss, "status": status}


def bench_sigaudit(R, out, big_bytes, reps):
    """What a CI owner pays to review big logs: `sigaudit summary` and
    `sigaudit check` on a big log (sequential and parallel reader) and on
    trees of 100k threads and 100k processes."""
    sigaudit = os.path.join(R.build, "tools", "sigaudit")
    out.append("### 6. sigaudit at scale: reviewing big logs (`summary`, `check`)\n")
    if not os.path.exists(sigaudit):
        out.append("`%s` is missing (bench/run.sh builds `tools/sigaudit`; see its "
                   "message): not measured.\n" % sigaudit)
        R.failures.append("sigaudit section: %s missing" % sigaudit)
        return None
    notes = []
    if os.environ.get("SIGSHIM_BENCH_SIGAUDIT_STALE"):
        notes.append("**Stale binary:** `tools/sigaudit` did not build (bench/run.sh printed "
                     "why); these numbers are of the binary an earlier build left.")
        R.failures.append("sigaudit section: tools/sigaudit did not build; an older binary was measured")
    tmp = tempfile.mkdtemp(prefix="sigaudit-bench.", dir=R.logdir)
    try:
        big_procs, big_threads = 40, 7            # 40 processes × 8 threads
        specs = [("tids", 1, 99999, 1, "1 process × 100k threads, 1 event each"),
                 ("pids", 100000, 0, 1, "100k processes × 1 thread, 1 event each")]
        # the two 100k logs (the processes' from a hundredth of them)
        small = sa_log_size(1, 99999, 1) + 100 * sa_log_size(1000, 0, 1)
        free = shutil.disk_usage(tmp).free
        if free < 3 * (big_bytes + small):
            scaled = int(free / 3 - small)
            notes.append("**Scaled down:** %s free in `%s`, less than 3× the %s these logs "
                         "need; the big log is %s instead of %s." % (
                             sa_human(free), R.logdir, sa_human(big_bytes + small),
                             sa_human(max(scaled, 0)) if scaled >= 20e6 else "left out",
                             sa_human(big_bytes)))
            big_bytes = scaled if scaled >= 20e6 else 0
            if free < 3 * small:
                specs = []
                notes.append("**Not enough space** for the 100k logs either: left out.")
        logs = []
        if big_bytes:
            events = sa_events_for(big_bytes, big_procs, big_threads)
            specs.insert(0, ("big", big_procs, big_threads, events,
                             "%d processes × %d threads, %d events each" % (
                                 big_procs, big_threads + 1, events)))
        for name, procs, threads, events, label in specs:
            path = os.path.join(tmp, name + ".jsonl")
            t0 = time.perf_counter()
            size, lines = sa_write_log(path, procs, threads, events)
            logs.append({"name": name, "path": path, "size": size, "lines": lines,
                         "label": label, "gen_s": time.perf_counter() - t0})
        cfgs = []
        for lg in logs:
            for cmd in ("summary", "check"):
                if lg["name"] == "big":
                    cfgs.append((lg["name"], cmd, "1"))
                cfgs.append((lg["name"], cmd, None))
        by_name = {lg["name"]: lg for lg in logs}
        rows = []
        for rep in range(reps):
            R.settle()
            row = {}
            for name, cmd, threads in rotate(cfgs, rep):
                lg = by_name[name]
                # 1 GB at the 30 s/GB target, with room for a slow machine
                timeout = max(120, 300 * lg["size"] / 1e9)
                row[(name, cmd, threads)] = sa_run(R, sigaudit, cmd, lg["path"], threads, timeout)
            rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ncpu = os.cpu_count() or 0
    floor = sa_spawn(dict(R.base_env), ["/bin/true"], 10)[1]
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", src, "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "diff", "--quiet", "HEAD", "--", "tools/review"]).returncode
        source = "tools/review at commit %s%s" % (head or "?", ", with uncommitted changes" if dirty else "")
    except OSError:
        source = "tools/review: git not available"
    out.append("Logs written by this runner in `%s` (%s) with the line formats of `gen_log()` "
               "in tests/sigaudit/test-scale.c (start, 4 modules, per thread the rotation "
               "mask, query, kill, mask, received, handled, exit), fsync'ed, then read from the "
               "page cache (warm: the parse is measured, not the disk). `sigaudit` = `%s` (%s). "
               "Output to /dev/null; wall time and peak RSS (`ru_maxrss` from `wait4`) of the "
               "child, forked by a small helper (its floor: %s MB, what `/bin/true` reads). "
               "*threads*: `SIGAUDIT_THREADS=1` is the sequential reader; *default* "
               "lets the reader parse on other cores (%d online here). GB and MB are 10⁹ and "
               "10⁶ bytes. %d repetition%s per row.\n"
               % (R.logdir, fs_type(R.logdir), sigaudit, source,
                  "%.1f" % (floor * 1024 / 1e6) if floor else "?", ncpu, reps,
                  "" if reps == 1 else "s"))
    out.append("| log (size, lines) | command | threads | wall s | s per GB | MB/s | peak RSS MB | RSS / log size | targets |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    statuses = {}
    for name, cmd, threads in cfgs:
        lg = by_name[name]
        runs = [r[(name, cmd, threads)] for r in rows if r.get((name, cmd, threads))]
        wall = [x["wall"] for x in runs]
        s_gb = [w / (lg["size"] / 1e9) for w in wall]
        mb_s = [lg["size"] / 1e6 / w for w in wall if w > 0]
        rss = [x["rss_kib"] * 1024 / 1e6 for x in runs]
        rss_ratio = [x["rss_kib"] * 1024 / lg["size"] for x in runs]
        for x in runs:
            statuses.setdefault(cmd, set()).add(x["status"])
        if name == "big":
            tgt = "time " + verdict(s_gb, SA_TARGET["s_per_gb"], unit=" s/GB")
        else:
            tgt = "time " + verdict(wall, SA_TARGET["hundred_k_s"], unit=" s")
        tgt += "; RSS " + verdict(rss_ratio, SA_TARGET["rss_ratio"])
        med = statistics.median
        out.append("| %s (%s, %s lines) | `%s` | %s | %s | %s | %s | %s | %s | %s |" % (
            lg["label"], sa_human(lg["size"]), sa_human_count(lg["lines"]), cmd,
            "1 (`SIGAUDIT_THREADS=1`)" if threads else "default",
            med_range(wall, "{:.2f}"),
            "%.1f" % med(s_gb) if s_gb else "n/a",
            "%.0f" % med(mb_s) if mb_s else "n/a",
            med_range(rss, "{:.0f}"),
            "%.3f×" % med(rss_ratio) if rss_ratio else "n/a", tgt))
    out.append("")
    out.append("Targets (issue 10, item 10): `summary` and `check` of a 1 GB log in ≤ 30 s "
               "(≤ 30 s per GB), peak RSS ≤ ¼ of the log (here: the whole RSS, binary and "
               "libraries included, no base subtracted), 100k thread ids or 100k processes in "
               "≤ 5 s. Verdicts use the median.")
    out.append("Exit statuses seen: %s. Logs generated in %s.\n" % (
        ", ".join("%s %s" % (c, "/".join(str(v) for v in sorted(st)))
                  for c, st in sorted(statuses.items())) or "none",
        ", ".join("%s %.1f s" % (sa_human(lg["size"]), lg["gen_s"]) for lg in logs)))
    for n in notes:
        out.append(n + "\n")
    return rows


# ---------------------------------------------------------------- machine
def fs_type(path):
    """The file system holding path, and whether it is memory (tmpfs) or disk."""
    try:
        fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", path], capture_output=True,
                            text=True).stdout.split("\n")[0].strip() or "?"
    except OSError:
        return "?"
    return fs + (", memory" if fs in ("tmpfs", "ramfs") else ", disk")


def idle_percent(seconds=1.0):
    """Share of CPU time idle over a short window: what other processes leave us."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = snap()
    time.sleep(seconds)
    i1, t1 = snap()
    return 100.0 * (i1 - i0) / max(t1 - t0, 1)


def load_note():
    idle = idle_percent()
    note = "%.0f%% idle over 1 s" % idle
    if idle < 85:
        note += " **(other processes are using the CPUs: expect wide ranges)**"
    return note


def machine(R):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    libc = platform.libc_ver()
    lines = [
        "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- CPU: %s, %d online cores (`nproc`)" % (cpu, os.cpu_count() or 0),
        "- kernel: %s %s; %s %s" % (platform.system(), platform.release(), libc[0], libc[1]),
        "- logs in `%s` (%s); shim `%s` (build type of that build dir)" % (R.logdir, fs_type(R.logdir), R.shim),
        "- %d repetitions per row, configurations interleaved and rotated; cells are median [min–max]" % R.reps,
    ]
    lines.append("- CPUs before the run: %s" % load_note())
    for tool in ("strace", "ltrace"):
        if shutil.which(tool):
            v = subprocess.run([tool, "-V"], capture_output=True, text=True).stdout.splitlines()
            lines.append("- %s: %s" % (tool, v[0] if v else "?"))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="meson build dir configured with -Dbench=true")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--logdir", default="/tmp", help="where logged runs write (default /tmp)")
    ap.add_argument("--quick", action="store_true", help="3 repetitions, fewer calls (smoke run)")
    ap.add_argument("--only", default="calls,latency,storm,sink,peers",
                    help="comma-separated subset of calls,latency,storm,sink,peers,sigaudit "
                         "(sigaudit is not in the default: it writes ~1.2 GB of logs and takes "
                         "minutes; 3 repetitions at most, 1 and a 250 MB log with --quick)")
    ap.add_argument("--out", help="also write the markdown to this file")
    ap.add_argument("--wait-idle", type=float, default=60,
                    help="seconds the whole run may wait for busy CPUs to calm down before a "
                         "repetition (default 60, 0 = never wait)")
    ap.add_argument("--no-pin", action="store_true",
                    help="latency: do not pin main to CPU 0 and the other thread to CPU 1")
    args = ap.parse_args()
    if args.quick:
        args.reps = min(args.reps, 3)
    R = Runner(args)
    for p in (R.shim, os.path.join(R.bin, "bench-calls")):
        if not os.path.exists(p):
            sys.exit("bench/run.py: %s missing: build with -Dbench=true first" % p)
    scale = 4 if args.quick else 1
    only = set(args.only.split(","))
    out = ["## sigshim benchmarks\n"] + machine(R) + [""]
    print("\n".join(out), flush=True)
    sections = []
    if "calls" in only:
        sections.append(lambda o: bench_calls(R, o, 200000 // scale, 50000 // scale, 20))
    if "latency" in only:
        sections.append(lambda o: bench_latency(R, o, 2000 // scale, not args.no_pin))
    if "storm" in only:
        sections.append(lambda o: bench_storm(R, o, 2, 50000))
    if "sink" in only:
        sections.append(lambda o: bench_sink(R, o, 100000 // scale, 10))
    if "peers" in only:
        sections.append(lambda o: bench_peers(R, o, None, 2000 // scale, 1000 // scale, 10,
                                              200000 // scale, 50000 // scale))
    if "sigaudit" in only:
        sections.append(lambda o: bench_sigaudit(R, o, int(1e9) // scale,
                                                 1 if args.quick else min(R.reps, 3)))
    for s in sections:
        part = []
        s(part)
        print("\n".join(part), flush=True)
        out += part
    end = ["- CPUs after the run: %s; waited %.0f s for idle CPUs; %d of %d repetitions "
           "started with other processes busy" % (load_note(), R.waited, R.busy_starts, R.starts), ""]
    print("\n".join(end), flush=True)
    out += end
    if R.failures:
        fail = ["### Failed runs\n"] + ["- " + f for f in R.failures] + [""]
        print("\n".join(fail), flush=True)
        out += fail
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(out) + "\n")
    return 1 if R.failures else 0


if __name__ == "__main__":
    sys.exit(main())
