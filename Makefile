# lambda_runtime.h - build, test, demo, benchmark.
#   make            build every example as build/<name>/bootstrap (static, stripped)
#   make demo       build hello and invoke it locally under the emulator
#   make test       unit, JSON and end-to-end tests, normal and ASan+UBSan builds
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 60; needs clang)
#   make bench      cold start, round trip, memory and size: hello vs a raw-socket baseline
#   make clean

HOST_CC   := gcc
WARN      := -Wall -Wextra -pedantic -Wshadow -Werror
TEST_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 $(WARN) -I.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_CC   := clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -I.
FUZZ_SECONDS ?= 60
JSON_SUITE ?= ../shared/testdata/JSONTestSuite/test_parsing

# Bootstraps: fully static musl when musl-gcc exists, else static glibc.
MUSL_GCC  := $(shell command -v musl-gcc 2>/dev/null)
ifneq ($(MUSL_GCC),)
BOOTSTRAP_CC := musl-gcc
# musl's static start-up code never applies PT_GNU_RELRO (checked: a static musl binary
# can write its .init_array after start-up; a static glibc one cannot), so RELRO only
# adds page padding to a static musl binary: about 3.4 KB for hello.
MUSL_LDFLAGS := -Wl,-z,norelro
else
BOOTSTRAP_CC := gcc
$(info note: musl-gcc not found (apt-get install musl-tools); building bootstraps with static glibc)
endif
BOOTSTRAP_CFLAGS := -std=c99 -Os -static $(WARN) -I. -ffunction-sections -fdata-sections \
                    -fno-asynchronous-unwind-tables -Wl,--gc-sections -Wl,-z,noseparate-code $(MUSL_LDFLAGS) -s

EXAMPLES   := $(notdir $(wildcard examples/*))
BOOTSTRAPS := $(EXAMPLES:%=build/%/bootstrap)
HDR        := lambda_runtime.h

.PHONY: all demo test fuzz bench clean
all: $(BOOTSTRAPS)

# ---- bootstraps -------------------------------------------------------------------------
build/%/bootstrap: examples/%/main.c $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/asan/%/bootstrap: examples/%/main.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

# the test bootstrap: counting allocator, behaviour chosen by the event (tests/handlers/probe.c)
build/probe/bootstrap: tests/handlers/probe.c $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/asan/probe/bootstrap: tests/handlers/probe.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

# ---- tests ------------------------------------------------------------------------------
build/test_unit: tests/test_unit.c tests/lt.h tests/guard_page.h $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -o $@ $<

build/asan/test_unit: tests/test_unit.c tests/lt.h tests/guard_page.h $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

build/test_json: tests/test_json.c tests/lt.h tests/guard_page.h $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -O2 -Wconversion -o $@ $<

build/asan/test_json: tests/test_json.c tests/lt.h tests/guard_page.h $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -Wconversion $(SAN_FLAGS) -o $@ $<

build/test_e2e: tests/test_e2e.c tools/rapi_server.c tools/rapi_server.h tests/lt.h tests/e2e_util.h
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -o $@ tests/test_e2e.c tools/rapi_server.c

# A comma-decimal locale for the JSON locale-independence test, built locally when
# possible (the test says so and uses "C" when it cannot be built).
build/locale/de_DE.UTF-8:
	@mkdir -p build/locale
	@localedef -i de_DE -f UTF-8 $@ >/dev/null 2>&1 || true

TEST_BINS := build/test_unit build/asan/test_unit build/test_json build/asan/test_json build/test_e2e \
             build/asan/apigw/bootstrap build/asan/echo/bootstrap \
             build/hello/bootstrap build/asan/hello/bootstrap build/probe/bootstrap build/asan/probe/bootstrap

test: all $(TEST_BINS) build/locale/de_DE.UTF-8 $(EXTRA_TEST_DEPS)
	LOCPATH=build/locale tests/run.sh \
	    build/test_unit -- build/asan/test_unit -- \
	    build/test_json $(JSON_SUITE) -- build/asan/test_json $(JSON_SUITE) -- \
	    build/test_e2e build -- build/test_e2e build/asan -- \
	    tests/check_build.sh $(EXTRA_TESTS)

# ---- fuzzing ----------------------------------------------------------------------------
FUZZERS := fuzz_http fuzz_json fuzz_json_roundtrip
build/fuzz/%: tests/%.c $(HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $<

# each fuzzer works on a copy of its seed corpus, so the repository stays unchanged
fuzz: $(FUZZERS:%=build/fuzz/%)
	@for f in $(FUZZERS); do \
	    c=$${f#fuzz_}; rm -rf build/corpus/$$c; mkdir -p build/corpus/$$c; \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -artifact_prefix=build/ \
	        build/corpus/$$c tests/fuzz/corpus/$$c 2>&1 | grep -E "^#[0-9]+.*DONE|^Done|ERROR|SUMMARY" || exit 1; \
	done

# ---- benchmarks -------------------------------------------------------------------------
build/bench_json: tests/bench_json.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) -std=c99 -O2 $(WARN) -I. -o $@ $<

-include tools/emu.mk
-include tests/hardening.mk
-include tests/features.mk

clean:
	rm -rf build

demo: emu-demo
