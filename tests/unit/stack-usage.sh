#!/bin/sh
# The frames between the kernel's signal frame and the program's handler
# must stay small: handlers run on alternate stacks as small as 8 KiB,
# of which the kernel's own frame takes up to ~3.4 KiB (AVX-512).  Reads
# gcc's -fstack-usage output for the shim (static sizes only; a dynamic
# unbounded frame on this path is a failure too) and sums each path:
#   trampoline: shim_trampoline -> trampoline -> call_handler (enforce and
#               run_here: the names of that path before 2026-12)
#   doorbell:   shim_doorbell -> drain -> call_handler
# A function the compiler inlined has no line of its own; its frame is in
# its caller's.  Usage: stack-usage.sh SHIM_OBJDIR LIMIT_BYTES
set -eu
dir=$1
limit=$2
su="$dir/trampoline.c.su"
[ -f "$su" ] || { echo "no $su (built without -fstack-usage?)"; exit 1; }
path_bytes() {   # path_bytes FN...: sum of the frames of those present
	total=0
	for fn in "$@"; do
		line=$(awk -F'\t' -v fn="$fn" '{ split($1, a, ":"); name = a[4]; sub(/\..*/, "", name);
			if (name == fn) print $2 "\t" $3 }' "$su" | head -n 1)
		[ -n "$line" ] || continue
		bytes=${line%%	*}
		kind=${line#*	}
		# "dynamic,bounded": the number is the bound (gcc's manual)
		case $kind in static|dynamic,bounded) ;; *) echo "  $fn: frame is $kind" >&2; bytes=999999 ;; esac
		echo "  $fn: $bytes bytes" >&2
		total=$((total + bytes))
	done
	echo "$total"
}
status=0
for entry in shim_trampoline shim_doorbell; do
	grep -q ":$entry	" "$su" || { echo "FAIL: no frame line for $entry in $su"; status=1; }
done
t=$(path_bytes shim_trampoline trampoline enforce run_here call_handler)
d=$(path_bytes shim_doorbell drain call_handler)
echo "trampoline path: $t bytes, doorbell path: $d bytes (limit $limit)"
[ "$t" -le "$limit" ] || { echo "FAIL: trampoline path over $limit bytes"; status=1; }
[ "$d" -le "$limit" ] || { echo "FAIL: doorbell path over $limit bytes"; status=1; }
exit $status
