#!/bin/sh
# The HTTP front of the emulator in a real browser: `lambda-emu --http` runs examples/stream
# and headless Chromium (Debian's chromium; .ci/run installs it) loads one page from it with
# --dump-dom. The page is streamed (prelude, then five pieces 200 ms apart); the DOM Chromium
# built must hold the heading (the query decoded, then HTML-escaped by the function) and every
# piece in order, and the emulator must have served it as one invocation.
# Usage: tests/check_browser.sh [EMULATOR [STREAM_BOOTSTRAP]]. Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
emu=${1:-build/lambda-emu}
fn=${2:-build/stream/bootstrap}
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }

chrome=$(command -v chromium || command -v chromium-browser)
if [ -z "$chrome" ]; then
    echo "  FAIL chromium not found (apt-get install chromium)"; echo "0 passed, 1 failed"; exit 1
fi
for f in "$emu" "$fn"; do
    [ -x "$f" ] || { echo "  FAIL $f is missing (make $f)"; echo "0 passed, 1 failed"; exit 1; }
done

t=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$t"
}
trap cleanup EXIT

: >"$t/emu.err"
"$emu" --http 127.0.0.1:0 -- "$fn" >"$t/emu.out" 2>"$t/emu.err" &
pid=$!
port=
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's|.*HTTP front listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$t/emu.err")
    [ -n "$port" ] || sleep 0.05
    i=$((i + 1))
done
if [ -n "$port" ]; then ok; else bad "the emulator did not start its HTTP front"; cat "$t/emu.err"; fi

start=$(date +%s%N)
if [ -n "$port" ]; then
    timeout 20 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$t/profile" --dump-dom "http://127.0.0.1:$port/?name=Ada%20%3CL%3E" \
        >"$t/dom" 2>"$t/chrome.err"
    rc=$?
    [ $rc -eq 0 ] && ok || { bad "chromium exited $rc"; tail -5 "$t/chrome.err"; }
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))

dom=$(tr -d '\n' <"$t/dom" 2>/dev/null)
case "$dom" in
*"<title>stream</title>"*"<h1>Hello, Ada &lt;L&gt;</h1>"*) ok ;;
*) bad "the page's title and heading are not in the DOM" ;;
esac
case "$dom" in
*"<p>piece 1 of 5</p>"*"<p>piece 2 of 5</p>"*"<p>piece 3 of 5</p>"*"<p>piece 4 of 5</p>"*"<p>piece 5 of 5</p>"*) ok ;;
*) bad "the five streamed pieces are not all in the DOM, in order" ;;
esac
case "$dom" in
*statusCode*) bad "the streamed answer's prelude reached the page" ;;
*) ok ;;
esac
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
if grep -q '"GET /?name=Ada%20%3CL%3E HTTP/1.1" 200 ' "$t/emu.err" && [ "$(grep -c '^REPORT RequestId: ' "$t/emu.err")" -ge 1 ]; then
    ok
else
    bad "the emulator did not log the page as a 200 invocation"
fi
if [ $fail -gt 0 ]; then
    echo "  DOM:"; sed 's/^/    /' "$t/dom" 2>/dev/null | head -20
    echo "  emulator:"; sed 's/^/    /' "$t/emu.err" | head -20
fi
echo "chromium: one page load in $ms ms"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
