#!/bin/sh
# CPython's own tests under the real shim: they must pass with the same
# counts (tests run, skipped) as natively.  Usage: cpython-signal.sh MODE
# [TEST...] (MODE: audit or enforce; default tests: test_signal
# test_threadsignals).  Needs Debian's libpython3.11-testsuite (installed by
# .ci/run); a missing test suite is a failure, never a skip.
set -eu
mode=${1:?mode}
shift
tests=${*:-test_signal test_threadsignals}
py=${SIGSHIM_PYTHON:-/usr/bin/python3}
lib=${SIGSHIM_LIB:?SIGSHIM_LIB not set}
work=$(mktemp -d /tmp/sigshim-cpython.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! "$py" -c 'import test.test_signal, test.test_threadsignals, test.test_threading' 2>/dev/null; then
	echo "FAIL: $py has no test.test_signal (apt-get install libpython3.11-testsuite)" >&2
	exit 1
fi

summary() {
	# "Ran N tests" and the "OK (skipped=K)" / "FAILED (...)" line of each
	# test module, in order.
	grep -E '^(Ran [0-9]+ tests|OK|FAILED)' "$1" | sed -E 's/ in [0-9.]+s$//'
}

# A native failure is not ours to judge: CPython's stress tests can miss
# under load on a small machine.  The native baseline gets one more try;
# the run under the shim gets none.
(cd "$work" && "$py" -m test -v $tests >"$work/native.txt" 2>&1) ||
(echo "native run failed once (load?); trying the baseline again" &&
 cd "$work" && "$py" -m test -v $tests >"$work/native.txt" 2>&1) || {
	echo "FAIL: the tests fail natively; see below" >&2
	tail -n 30 "$work/native.txt" >&2
	exit 1
}
rc=0
(cd "$work" && LD_PRELOAD="$lib${LD_PRELOAD:+ $LD_PRELOAD}" \
	SIGSHIM_OPTIONS="mode=$mode:log_path=$work/log.%p.jsonl" \
	"$py" -m test -v $tests >"$work/shim.txt" 2>&1) || rc=$?

summary "$work/native.txt" >"$work/native.sum"
summary "$work/shim.txt" >"$work/shim.sum"
echo "native:"; sed 's/^/  /' "$work/native.sum"
echo "under sigshim (mode=$mode), exit $rc:"; sed 's/^/  /' "$work/shim.sum"

fail=0
if [ "$rc" -ne 0 ]; then
	echo "FAIL: exit status $rc under the shim" >&2
	grep -E '^(FAIL|ERROR):' "$work/shim.txt" >&2 || tail -n 40 "$work/shim.txt" >&2
	fail=1
fi
if ! cmp -s "$work/native.sum" "$work/shim.sum"; then
	echo "FAIL: counts differ from the native run" >&2
	fail=1
fi
# The shim must really have been there: a main log with calls and an exit.
# The main process's log is the largest one written by a python3 process.
main_log=$(ls -S $(grep -l '"argv0":"[^"]*python3' "$work"/log.*.jsonl 2>/dev/null) 2>/dev/null | head -n 1 || true)
if [ -z "$main_log" ] || ! grep -q '"event":"signal.sigaction"' "$main_log" ||
   ! grep -q '"event":"sigshim.exit"' "$main_log"; then
	echo "FAIL: no complete audit log from the python process" >&2
	fail=1
else
	echo "log: $(wc -l <"$main_log") events in the main process, $(ls "$work"/log.*.jsonl | wc -l) process log(s)"
fi
exit $fail
