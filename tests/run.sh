#!/bin/sh
# Runs test programs (each prints "N passed, N failed" last), shows their output, and
# ends with the summed "N passed, N failed". Exits non-zero if any program failed.
# Usage: tests/run.sh PROGRAM [ARGS...] [-- PROGRAM [ARGS...]]...
passed=0; failed=0; status=0
out=$(mktemp); trap 'rm -f "$out"' EXIT
run() {
    echo "== $*"
    "$@" >"$out" 2>&1; rc=$?
    cat "$out"
    last=$(tail -n 1 "$out")
    p=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1/p')
    f=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p')
    if [ -z "$p" ]; then echo "!! $1: no summary line (exit $rc)"; failed=$((failed + 1)); status=1; return; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$rc" != 0 ] || [ "$f" != 0 ]; then status=1; [ "$f" = 0 ] && failed=$((failed + 1)) && echo "!! $1 exited $rc"; fi
}
cmd=""
for a in "$@"; do
    if [ "$a" = "--" ]; then [ -n "$cmd" ] && eval run $cmd; cmd=""; continue; fi
    cmd="$cmd '$a'"
done
[ -n "$cmd" ] && eval run $cmd
echo "$passed passed, $failed failed"
exit $status
