#!/bin/sh
# Deployment checks: one build line everywhere (the README, the doc block's QUICK START, the
# Makefile's LAMBDA_CFLAGS, tools/lambda-cc, cmake/LambdaRuntime.cmake), and that line, run as
# written, builds the Makefile's bytes; the zips of make package (bootstrap alone at the root
# or extensions/<name>, mode 0755, no extra fields, fixed time, static, the right architecture,
# the same bytes when zipped again from a copy with another time, mode, umask and time zone);
# the build-<LogicalId> targets sam build runs. Run from make test, after make package's zips
# are built. Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
unset MAKEFLAGS MFLAGS MAKELEVEL
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; [ -s "$t/err" ] && sed 's/^/    /' "$t/err" | head -10; : > "$t/err"; }
check() { # description command...: passes when the command succeeds
    what=$1; shift
    if "$@" > "$t/err" 2>&1; then ok; : > "$t/err"; else bad "$what"; fi
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
has() { printf '%s\n' "$1" | grep -q -- "$2"; } # text, basic regular expression
have_musl=; command -v musl-gcc >/dev/null 2>&1 && have_musl=1

# ---- one build line -----------------------------------------------------------------------
# the first musl-gcc command in a file, continuation lines joined, one space between words
build_line() {
    awk '/^ *musl-gcc -std=/ {on = 1} on {line = line " " $0; if ($0 !~ /\\$/) {print line; exit}}' "$1" |
        sed 's/\\//g' | tr -s ' ' | sed 's/^ //; s/ $//'
}
# its flags: without the compiler, -o bootstrap and main.c
flags_of() { printf '%s\n' "$1" | sed 's/^musl-gcc //; s/ -o bootstrap//; s/ main\.c$//'; }
readme_line=$(build_line README.md)
doc_line=$(build_line lambda_runtime.h)
check "README has a build line 'musl-gcc -std=... -o bootstrap main.c'" \
    has "$readme_line" ' -o bootstrap main\.c$'
check "the doc block's QUICK START has the build line" \
    has "$doc_line" ' -o bootstrap main\.c$'
check "the README's build line and the QUICK START's differ: '$readme_line' / '$doc_line'" \
    test "$readme_line" = "$doc_line"
want=$(flags_of "$doc_line")
# without musl the Makefile and lambda-cc leave RELRO on (static glibc applies it)
[ -n "$have_musl" ] || want=$(printf '%s\n' "$want" | sed 's/ -Wl,-z,norelro//')
make_flags=$(make -s --no-print-directory print-cflags 2>/dev/null)
check "make print-cflags ('$make_flags') is not the documented line ('$want')" test "$make_flags" = "$want"
cc_flags=$(tools/lambda-cc --print-cflags 2>/dev/null)
check "tools/lambda-cc --print-cflags ('$cc_flags') is not the documented line" test "$cc_flags" = "$want"
cmake_flags=$(sed -n 's/^set(LAMBDA_CFLAGS "\(.*\)")$/\1/p' cmake/LambdaRuntime.cmake)
check "cmake/LambdaRuntime.cmake's LAMBDA_CFLAGS ('$cmake_flags') is not the documented line" \
    test "$cmake_flags" = "$(flags_of "$doc_line")"
check "the Makefile's bootstraps are not built with LAMBDA_CFLAGS" \
    has "$(make -s -n -B --no-print-directory build/hello/bootstrap)" "$make_flags"

# the lines as written, in a directory holding only lambda_runtime.h and main.c, give the
# Makefile's bytes; so does tools/lambda-cc
if [ -n "$have_musl" ]; then
    for which in readme doc; do
        mkdir -p "$t/$which"; cp lambda_runtime.h "$t/$which/"; cp examples/hello/main.c "$t/$which/"
        eval "line=\$${which}_line"
        # shellcheck disable=SC2154,SC2086
        (cd "$t/$which" && $line) > "$t/err" 2>&1
        check "the $which build line, run as written, does not give build/hello/bootstrap's bytes" \
            cmp "$t/$which/bootstrap" build/hello/bootstrap
    done
else
    echo "note: musl-gcc not found (apt-get install musl-tools): the documented line is not run"
fi
tools/lambda-cc -Wall -Wextra -pedantic -Wshadow -Werror -I. -o "$t/lcc" examples/hello/main.c > "$t/err" 2>&1
check "tools/lambda-cc does not build build/hello/bootstrap's bytes" cmp "$t/lcc" build/hello/bootstrap

# ---- zips ----------------------------------------------------------------------------------
elf_machine() { readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }
machine_of() { case "$1" in arm64) echo AArch64 ;; *) echo "Advanced Micro Devices X86-64" ;; esac; }
is_static() { # an ELF executable with no program interpreter and no dynamic section
    readelf -h "$1" | grep -q 'Type: *EXEC' && ! readelf -lW "$1" | grep -qE 'INTERP|DYNAMIC'
}
# a zip's entries as "mode name" lines, and whether every header (local and central) has no
# extra field and the fixed time
zip_entries() { unzip -Z "$1" | awk 'NF >= 9 && $1 ~ /^[-d]r/ {print $1, $NF}'; }
no_extra() {
    zipinfo -v "$1" | grep 'length of extra field' | grep -qv ': *0 bytes' && return 1
    # local file header: extra field length is the 2 bytes at offset 28 of the first header
    [ "$(od -A n -t u2 -j 28 -N 2 "$1" | tr -d ' ')" = 0 ]
}
fixed_time() { ! unzip -Z "$1" | awk 'NF >= 9 && $1 ~ /^[-d]r/' | grep -vq '20-Jan-01 00:00'; }

zips=$(make -s --no-print-directory print-zips 2>/dev/null)
check "make print-zips lists the x86_64 zips" has "$zips" '^build/hello/function.zip:'
if command -v "${ARM64_CC:-aarch64-linux-gnu-gcc}" >/dev/null 2>&1; then
    check "make print-zips lists the arm64 zips" has "$zips" '^build/hello/function-arm64.zip:'
else
    echo "note: no ${ARM64_CC:-aarch64-linux-gnu-gcc}: make package makes no arm64 zips"
fi
for z in build/*/function.zip build/*/layer.zip; do
    check "$z is not in make print-zips" has "$zips" "^$z:"
done
for e in examples/*/; do
    n=$(basename "$e")
    check "examples/$n has no zip in make print-zips" has "$zips" ":$n:x86_64:"
done
for entry in $zips; do
    z=${entry%%:*}; rest=${entry#*:}; n=${rest%%:*}; rest=${rest#*:}; arch=${rest%%:*}; kind=${rest#*:}
    if [ ! -f "$z" ]; then echo "$z missing (make package)" > "$t/err"; bad "$z"; continue; fi
    if [ "$kind" = layer ]; then
        src="extensions/$n"; want_entries=$(printf 'drwxr-xr-x extensions/\n-rwxr-xr-x extensions/%s' "$n")
    else
        src=bootstrap; want_entries="-rwxr-xr-x bootstrap"
    fi
    check "$z: entries are not '$want_entries' ($(zip_entries "$z" | tr '\n' ';'))" \
        test "$(zip_entries "$z")" = "$want_entries"
    check "$z: headers carry extra fields" no_extra "$z"
    check "$z: times are not the fixed 2020-01-01 00:00" fixed_time "$z"
    check "$z: unzip -t fails" unzip -tq "$z"
    rm -rf "$t/x"; mkdir -p "$t/x"
    unzip -q "$z" -d "$t/x" > "$t/err" 2>&1
    check "$z: $src is not a static executable" is_static "$t/x/$src"
    check "$z: $src is not $(machine_of "$arch") ($(elf_machine "$t/x/$src"))" \
        test "$(elf_machine "$t/x/$src")" = "$(machine_of "$arch")"
    bin=build/$n/bootstrap; [ "$arch" = arm64 ] && bin=build/arm64/$n/bootstrap.bin
    check "$z: $src is not $bin" cmp "$t/x/$src" "$bin"
    # reproducible: the same bytes from a copy with another time, mode, umask and time zone
    cp "$bin" "$t/copy"; chmod 0600 "$t/copy"; touch -d '2033-03-03 03:03:03' "$t/copy"
    (umask 077; TZ=Pacific/Kiritimati tools/lambda-zip "$t/again.zip" "$src=$t/copy") > "$t/err" 2>&1
    check "$z: zipping again from a copy gives other bytes" test "$(sha "$t/again.zip")" = "$(sha "$z")"
done
SOURCE_DATE_EPOCH=1700000000 tools/lambda-zip "$t/sde.zip" bootstrap=build/hello/bootstrap > "$t/err" 2>&1
check "SOURCE_DATE_EPOCH does not set the time" has "$(unzip -Z "$t/sde.zip")" '23-Nov-14 22:13'

# ---- sam build: make build-<LogicalId> ARTIFACTS_DIR=... ------------------------------------
out=$(make -s --no-print-directory build-HelloFunction ARTIFACTS_DIR= 2>&1)
check "build-HelloFunction without ARTIFACTS_DIR does not fail saying so ('$out')" \
    has "$out" 'ARTIFACTS_DIR is not set'
targets=$(make -s --no-print-directory print-sam-targets 2>/dev/null)
check "make print-sam-targets lists nothing" test -n "$targets"
for entry in $targets; do
    id=${entry%%:*}; rest=${entry#*:}; n=${rest%%:*}; rest=${rest#*:}; arch=${rest%%:*}; kind=${rest#*:}
    a="$t/sam/$id"
    if [ "$arch" = arm64 ] && ! command -v "${ARM64_CC:-aarch64-linux-gnu-gcc}" >/dev/null 2>&1; then
        # -B: an arm64 binary left from an earlier build would do
        out=$(make -s -B --no-print-directory "build-$id" "ARTIFACTS_DIR=$a" 2>&1)
        check "build-$id without the arm64 compiler does not say what to install ('$out')" \
            has "$out" 'apt-get install gcc-aarch64-linux-gnu'
        continue
    fi
    make -s --no-print-directory "build-$id" "ARTIFACTS_DIR=$a" > "$t/err" 2>&1
    check "make build-$id ARTIFACTS_DIR=... failed" test $? = 0
    f=$a/bootstrap; [ "$kind" = layer ] && f=$a/extensions/$n
    check "build-$id: $f is not mode 0755" test "$(stat -c %a "$f" 2>/dev/null)" = 755
    check "build-$id: $f is not a static executable" is_static "$f"
    check "build-$id: $f is not $(machine_of "$arch")" test "$(elf_machine "$f")" = "$(machine_of "$arch")"
    check "build-$id: ARTIFACTS_DIR holds more than $f ($(cd "$a" && find . -type f | tr '\n' ' '))" \
        test "$(cd "$a" && find . -type f | wc -l)" = 1
done

# as sam build runs them: in a copy of the sources (no build/, no ../shared), ARTIFACTS_DIR
# absolute; the same bytes as the Makefile's own builds
mkdir -p "$t/scratch"
cp -R Makefile lambda_runtime.h examples tools "$t/scratch/"
ids="HelloFunction:bootstrap:build/hello/bootstrap ExtensionLayer:extensions/extension:build/extension/bootstrap"
command -v "${ARM64_CC:-aarch64-linux-gnu-gcc}" >/dev/null 2>&1 &&
    ids="$ids HelloArm64Function:bootstrap:build/arm64/hello/bootstrap.bin"
for entry in $ids; do
    id=${entry%%:*}; rest=${entry#*:}; f=${rest%%:*}; want=${rest#*:}
    (cd "$t/scratch" && make -s --no-print-directory "build-$id" "ARTIFACTS_DIR=$t/art/$id") > "$t/err" 2>&1
    check "make build-$id in a copy of the sources failed" test $? = 0
    check "build-$id in a copy: $f is not $want" cmp "$t/art/$id/$f" "$want"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
