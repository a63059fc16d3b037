#!/bin/sh
# Compile gates for lambda_runtime.h: C and C++ standards with gcc and clang, warnings as
# errors, exported symbols, LAMBDA_STATIC, two translation units, double inclusion, and the
# doc block's QUICK START example. Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; sed 's/^/    /' "$t/err" | head -20; }
W="-Wall -Wextra -pedantic -Wshadow -Wconversion -Werror"
printf '#define LAMBDA_RUNTIME_IMPL\n#include "lambda_runtime.h"\n' > "$t/impl.c"
cp "$t/impl.c" "$t/impl.cc"
printf '#include "lambda_runtime.h"\nint use(void);\nint use(void) { return lambda_strerror(0)[0]; }\n' > "$t/user.c"
printf '#include "lambda_runtime.h"\n#define LAMBDA_RUNTIME_IMPL\n#include "lambda_runtime.h"\n' > "$t/twice.c"

for cc in gcc clang; do
    command -v $cc >/dev/null 2>&1 || continue
    for std in c99 c11 gnu99 gnu11; do
        for def in "" "-D_POSIX_C_SOURCE=200809L" "-D_GNU_SOURCE" "-DLAMBDA_GETADDRINFO -D_DEFAULT_SOURCE" "-DLAMBDA_THREADS"; do
            if $cc -std=$std $def $W -I. -c "$t/impl.c" -o "$t/impl.o" 2>"$t/err"; then ok; else bad "$cc -std=$std $def"; fi
        done
    done
    # only lambda_* symbols are exported
    $cc -std=c99 -Os -I. -c "$t/impl.c" -o "$t/impl.o" 2>"$t/err"
    other=$(nm -g --defined-only "$t/impl.o" | awk '{print $3}' | grep -v '^lambda_')
    if [ -z "$other" ]; then ok; else echo "$other" > "$t/err"; bad "$cc: exported symbols without the lambda_ prefix"; fi
    # LAMBDA_STATIC exports nothing
    $cc -std=c99 -DLAMBDA_STATIC $W -I. -c "$t/impl.c" -o "$t/static.o" 2>"$t/err"
    if [ -s "$t/static.o" ] && [ -z "$(nm -g --defined-only "$t/static.o")" ]; then ok; else bad "$cc: LAMBDA_STATIC exports symbols"; fi
    # two translation units link; declarations then implementation in one file works
    if $cc -std=c99 $W -I. -c "$t/user.c" -o "$t/user.o" 2>"$t/err" &&
       $cc -std=c99 $W -I. -c "$t/impl.c" -o "$t/impl.o" 2>>"$t/err" &&
       $cc -std=c99 $W -I. -c "$t/twice.c" -o "$t/twice.o" 2>>"$t/err" &&
       printf 'int use(void);\nint main(void) { return use() == 0; }\n' > "$t/main.c" &&
       $cc -std=c99 -c "$t/main.c" -o "$t/main.o" 2>>"$t/err" &&
       $cc "$t/main.o" "$t/user.o" "$t/impl.o" -o "$t/linked" 2>>"$t/err"; then ok; else bad "$cc: two translation units / double inclusion"; fi
done

for cxx in g++ clang++; do
    command -v $cxx >/dev/null 2>&1 || continue
    for std in c++11 c++17; do
        for def in "" "-DLAMBDA_THREADS"; do
            if $cxx -std=$std $def -Wall -Wextra -pedantic -Wshadow -Werror -I. -c "$t/impl.cc" -o "$t/impl.o" 2>"$t/err"; then ok; else bad "$cxx -std=$std $def"; fi
        done
    done
done

# the JSON scanner's builds: SIMD kernels (-O2; -Os with LAMBDA_JSON_SIMD), none
# (LAMBDA_JSON_SCALAR), and the arm64 (NEON) kernel with the cross compilers
for cc in gcc clang g++ clang++ aarch64-linux-gnu-gcc "clang --target=aarch64-linux-gnu"; do
    command -v ${cc%% *} >/dev/null 2>&1 || continue
    case $cc in *++) src="$t/impl.cc"; std=c++11; w="-Wall -Wextra -pedantic -Wshadow -Werror" ;;
                *) src="$t/impl.c"; std=c99; w=$W ;; esac
    case $cc in *aarch64*) [ -e /usr/aarch64-linux-gnu/include/stdio.h ] || continue ;; esac
    for def in "-O2" "-Os -DLAMBDA_JSON_SIMD" "-O2 -DLAMBDA_JSON_SCALAR"; do
        if $cc -std=$std $def $w -I. -c "$src" -o "$t/impl.o" 2>"$t/err"; then ok; else bad "$cc $def"; fi
    done
done

# the QUICK START in the doc block compiles and links as it is written
sed -n '/^   QUICK START$/,/^   Build it fully static/p' lambda_runtime.h | sed '1,2d;$d' | sed 's/^       //' |
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$t/quick.c"
if [ "$(wc -l < "$t/quick.c")" -gt 5 ] && gcc -std=c99 $W -I. "$t/quick.c" -o "$t/quick" 2>"$t/err"; then ok; else bad "doc block QUICK START does not compile"; fi
# one hello: the QUICK START, examples/hello/main.c and the README's first C block are the same program
if diff "$t/quick.c" examples/hello/main.c > "$t/err" 2>&1; then ok; else bad "the QUICK START differs from examples/hello/main.c"; fi
awk '/^```c$/ && !done {on = 1; next} /^```$/ && on {on = 0; done = 1} on' README.md > "$t/readme.c"
if diff "$t/readme.c" examples/hello/main.c > "$t/err" 2>&1; then ok; else bad "the README's hello differs from examples/hello/main.c"; fi
# every >>tag that starts a part of the header is in the doc block's map, and the map lists no other
grep -o '^/\* >>[a-z-]*\|^   >>[a-z-]*' lambda_runtime.h | sed 's/^[/* ]*//' | sort -u > "$t/tags"
sed -n '/^   MAP OF THIS FILE$/,/^   RECENT CHANGES$/p' lambda_runtime.h | grep -o '^     >>[a-z-]*' | sed 's/^ *//' | sort -u > "$t/map"
if [ "$(wc -l < "$t/map")" -gt 10 ] && diff "$t/tags" "$t/map" > "$t/err" 2>&1; then ok; else bad "the doc block's MAP does not list exactly the >>tags of the file"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
