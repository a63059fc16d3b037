#!/bin/sh
# tests/arm64.sh - cross-build static arm64 bootstraps and run the end-to-end and fault suites
# (built for the host) against them under qemu user-mode emulation; then the JSON suite
# (tests/test_json.c: the NEON scanner against the byte-at-a-time one) built for arm64, and
# fuzz_json and fuzz_http_event replayed on their corpora and mutations (tests/fuzz_replay.c).
#
#   build/arm64/<name>/bootstrap.bin   static aarch64 binary (hello, http, echo, probe,
#                                      handlers/sigprobe, handlers/oomprobe)
#   build/arm64/<name>/bootstrap       wrapper script: exec qemu-aarch64-static bootstrap.bin
#
# The binaries come from tools/lambda-cc --arch arm64, as make package's do: static musl when
# Debian's arm64 musl-dev is installed (multiarch), linked by hand with the cross gcc;
# otherwise static glibc (libc6-dev-arm64-cross).
# Needs: apt-get install -y gcc-aarch64-linux-gnu qemu-user-static
#        (+ dpkg --add-architecture arm64 && apt-get update && apt-get install -y musl-dev:arm64)
# Run from the repository root after `make build/test_e2e build/test_faults` (make arm64 does).
set -eu
CC=${ARM64_CC:-aarch64-linux-gnu-gcc}
export ARM64_CC="$CC"
QEMU=${QEMU_AARCH64:-$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)}
OUT=build/arm64
WARN="-Wall -Wextra -pedantic -Wshadow -Werror -I."

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "arm64: $CC not found (apt-get install -y gcc-aarch64-linux-gnu)"; exit 1
fi
if [ -z "$QEMU" ]; then
    echo "arm64: qemu-aarch64-static not found (apt-get install -y qemu-user-static)"; exit 1
fi
for t in build/test_e2e build/test_faults; do
    [ -x "$t" ] || { echo "arm64: $t is missing (make $t)"; exit 1; }
done

build() { # name source
    mkdir -p "$OUT/$1"
    # shellcheck disable=SC2086
    tools/lambda-cc --arch arm64 $WARN -o "$OUT/$1/bootstrap.bin" "$2"
    if ! readelf -h "$OUT/$1/bootstrap.bin" | grep -q 'AArch64'; then
        echo "arm64: $OUT/$1/bootstrap.bin is not an AArch64 binary"; exit 1
    fi
    # test_e2e / test_faults exec the path with a clean environment: absolute paths only
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$QEMU" "$(pwd)/$OUT/$1/bootstrap.bin" > "$OUT/$1/bootstrap"
    chmod +x "$OUT/$1/bootstrap"
}

echo "arm64: $($CC --version | head -n 1); $(tools/lambda-cc --arch arm64 --print-libc); $($QEMU --version | head -n 1)"
for d in examples/*/; do
    n=$(basename "$d")
    build "$n" "examples/$n/main.c"
done
build probe tests/handlers/probe.c
build http-allocs tests/handlers/http_allocs.c
build handlers/sigprobe tests/handlers/sigprobe.c
build handlers/oomprobe tests/handlers/oomprobe.c

echo "arm64: static binary sizes (bytes)"
for f in "$OUT"/*/bootstrap.bin "$OUT"/handlers/*/bootstrap.bin; do
    printf '  %-40s %8s\n' "$f" "$(wc -c < "$f")"
done

# a smoke test of the emulation itself: no AWS_LAMBDA_RUNTIME_API -> one line, exit 1
if env -i "$OUT/hello/bootstrap" 2>/dev/null; then echo "arm64: hello ran without AWS_LAMBDA_RUNTIME_API?"; exit 1; fi

# the JSON suite on arm64: the NEON scanner against the byte-at-a-time one on the same
# documents (tests/test_json.c, test_scanners), the conformance suite, the double writer
# (4 x 10^5 random doubles: emulation is slow). Static, with the cross compiler's libc.
JSON_SUITE=${JSON_SUITE:-../shared/testdata/JSONTestSuite/test_parsing}
# shellcheck disable=SC2086
"$CC" -std=c99 -D_POSIX_C_SOURCE=200809L -O2 $WARN -DDOUBLES_N=200000 -static -o "$OUT/test_json" tests/test_json.c
if ! readelf -h "$OUT/test_json" | grep -q 'AArch64'; then echo "arm64: $OUT/test_json is not an AArch64 binary"; exit 1; fi
# no libFuzzer runtime for aarch64 here: the fuzz targets that scan JSON run through
# tests/fuzz_replay.c instead, on their corpora and 200,000 inputs mutated from them, so that
# fuzz_json's checks (every scanner agrees; sealed and unsealed traces are the same) see NEON
for t in fuzz_json fuzz_http_event; do
    # shellcheck disable=SC2086
    "$CC" -std=c99 -D_POSIX_C_SOURCE=200809L -O2 $WARN -static -o "$OUT/${t}_replay" tests/fuzz_replay.c "tests/$t.c"
done

# emulated processes start and run slower: longer waits, fewer signals per second
FAULT_WAIT_MS=${FAULT_WAIT_MS:-10000} FAULT_SIG_US=${FAULT_SIG_US:-1000} \
    tests/run.sh build/test_e2e "$OUT" -- build/test_faults "$OUT" -- "$QEMU" "$OUT/test_json" "$JSON_SUITE" \
    -- "$QEMU" "$OUT/fuzz_json_replay" -n 200000 tests/fuzz/corpus/json tests/fuzz/corpus/diff_json \
    -- "$QEMU" "$OUT/fuzz_http_event_replay" -n 200000 tests/fuzz/corpus/http_event
