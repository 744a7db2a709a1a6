#!/bin/bash
# One command for every benchmark: configures a build directory of its own
# with -Dbench=true (tests off: they are not needed to measure), builds the
# shim, the bench programs and sigaudit, runs them side by side and prints
# markdown tables.  Extra arguments go to bench/run.py (--quick, --reps N,
# --only calls,latency,storm,sink,peers,sigaudit, --out FILE, --logdir DIR).
#
#   bash bench/run.sh                     # full run: ~1 min idle, ~2.5 min on a busy machine
#   SIGSHIM_BENCH_BUILD=/tmp/b bash bench/run.sh --quick
#   bash bench/run.sh --only sigaudit     # sigaudit at scale (not in the default): ~1.2 GB in --logdir, minutes
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
build=${SIGSHIM_BENCH_BUILD:-$src/build-bench}

for tool in strace ltrace; do
  command -v "$tool" >/dev/null || echo "bench: $tool not installed (.ci/setup installs it); its row is skipped" >&2
done
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" -Dbench=true -Dtests=false -Dpython_tests=false >/dev/null
else
  meson configure "$build" -Dbench=true >/dev/null
fi
# Only what is measured: a half-edited tool elsewhere must not stop the run.
ninja -C "$build" shim/libsigshim.so bench/bench-calls bench/bench-latency bench/bench-storm bench/bench-sink >/dev/null
# sigaudit on its own: if it does not build, the other sections still run
# (a binary left from an earlier build would be measured: say so loudly).
if ! out=$(ninja -C "$build" tools/sigaudit 2>&1); then
  printf '%s\n' "$out" | tail -n 20 >&2
  echo "bench: tools/sigaudit did not build; the sigaudit section measures $build/tools/sigaudit as it was (if any)" >&2
  export SIGSHIM_BENCH_SIGAUDIT_STALE=1
fi
exec python3 "$here/run.py" --build "$build" "$@"
