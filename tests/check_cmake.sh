#!/bin/sh
# cmake/LambdaRuntime.cmake from a consumer project (tests/cmake_consumer: examples/hello as
# lambda_add_bootstrap(hello ...)), configured and built into build/cmake_consumer:
#   - the default compiler (gcc + musl-gcc's specs) and CC=musl-gcc: hello/bootstrap is
#     static, stripped, and the same bytes as the Makefile's build/hello/bootstrap; hello-zip
#     makes hello.zip with bootstrap alone at the root, mode 0755, the same bytes as make
#     package's build/hello/function.zip;
#   - -DLAMBDA_MUSL_SPECS=OFF: static glibc, with a warning at configure time;
#   - with the arm64 cross compiler and arm64 musl installed: a static AArch64 bootstrap.
# Needs cmake (apt-get install cmake). Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
unset MAKEFLAGS MFLAGS MAKELEVEL
out=build/cmake_consumer
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; [ -s "$t/err" ] && sed 's/^/    /' "$t/err" | tail -15; : > "$t/err"; }
check() { what=$1; shift; if "$@" > "$t/err" 2>&1; then ok; : > "$t/err"; else bad "$what"; fi; }
is_static() { readelf -h "$1" | grep -q 'Type: *EXEC' && ! readelf -lW "$1" | grep -qE 'INTERP|DYNAMIC'; }
stripped() { ! readelf -SW "$1" | grep -qE '\.symtab|\.debug'; }

if ! command -v cmake >/dev/null 2>&1; then
    echo "  FAIL cmake not found (apt-get install cmake)"; echo "0 passed, 1 failed"; exit 1
fi
configure() { # build-dir cmake-arguments...
    d=$1; shift
    rm -rf "$d"
    cmake -S tests/cmake_consumer -B "$d" "$@" > "$d.log" 2>&1
}

# ---- musl: the project's gcc with the specs file, then musl-gcc as the compiler -------------
for how in default musl-gcc; do
    d=$out/$how
    mkdir -p "$out"
    if [ "$how" = musl-gcc ]; then
        command -v musl-gcc >/dev/null 2>&1 || { echo "note: no musl-gcc: CC=musl-gcc not checked"; continue; }
        CC=musl-gcc configure "$d"
    else
        configure "$d"
    fi
    check "$how: cmake configure failed (see $d.log)" test $? = 0
    cp "$d.log" "$t/err"
    check "$how: configure did not report static musl" grep -q 'lambda_add_bootstrap: static musl' "$d.log"
    cmake --build "$d" --target hello-zip > "$t/err" 2>&1
    check "$how: cmake --build --target hello-zip failed" test $? = 0
    b=$d/hello/bootstrap
    check "$how: $b is not there (output named bootstrap in its own directory)" test -x "$b"
    check "$how: $b is not static" is_static "$b"
    check "$how: $b is not stripped" stripped "$b"
    check "$how: $b is not the same bytes as build/hello/bootstrap ($(wc -c < "$b") vs $(wc -c < build/hello/bootstrap) bytes)" \
        cmp "$b" build/hello/bootstrap
    z=$d/hello.zip
    check "$how: $z does not hold exactly bootstrap, mode 0755" \
        sh -c 'unzip -Z "$1" | awk "NF >= 9 && \$1 ~ /^[-d]r/ {print \$1, \$NF}" | grep -qx -- "-rwxr-xr-x bootstrap" &&
               [ "$(unzip -Z1 "$1")" = bootstrap ]' - "$z"
    check "$how: $z is not build/hello/function.zip's bytes" cmp "$z" build/hello/function.zip
    # the zip is made again when it is older than the bootstrap
    touch -d @1000000000 "$z"; touch -d @1000000001 "$t/stamp"
    cmake --build "$d" --target hello-zip > "$t/err" 2>&1
    check "$how: $z is not made again when the bootstrap is newer" test "$z" -nt "$t/stamp"
done

# ---- no musl on purpose: static glibc and a warning ------------------------------------------
d=$out/glibc
configure "$d" -DLAMBDA_MUSL_SPECS=OFF
check "glibc: cmake configure failed (see $d.log)" test $? = 0
cp "$d.log" "$t/err"
check "glibc: configure did not warn about static glibc" grep -q 'linked with static glibc' "$d.log"
cmake --build "$d" --target hello > "$t/err" 2>&1
check "glibc: the build failed" test $? = 0
check "glibc: $d/hello/bootstrap is not static" is_static "$d/hello/bootstrap"

# ---- arm64 with a cross toolchain ---------------------------------------------------------
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && [ -e /usr/lib/aarch64-linux-musl/musl-gcc.specs ]; then
    d=$out/arm64
    configure "$d" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc
    check "arm64: cmake configure failed (see $d.log)" test $? = 0
    cmake --build "$d" --target hello-zip > "$t/err" 2>&1
    check "arm64: the build failed" test $? = 0
    b=$d/hello/bootstrap
    check "arm64: $b is not static" is_static "$b"
    check "arm64: $b is not AArch64" sh -c 'readelf -h "$1" | grep -q "Machine: *AArch64"' - "$b"
    check "arm64: $b is not stripped" stripped "$b"
    check "arm64: $d/hello.zip does not hold bootstrap" sh -c '[ "$(unzip -Z1 "$1")" = bootstrap ]' - "$d/hello.zip"
else
    echo "note: no aarch64-linux-gnu-gcc with musl-dev:arm64: the arm64 configuration is not checked"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
