# tools/emu.mk - lambda-emu: the local Runtime API emulator, its tests, the benchmark and the demo.
# Included by the top-level Makefile, which defines HOST_CC, TEST_CFLAGS, SAN_FLAGS,
# BOOTSTRAP_CC, BOOTSTRAP_CFLAGS and builds build/hello/bootstrap and build/probe/bootstrap.
#
#   make build/lambda-emu    the emulator (tools/emu/*.c + tools/rapi_server.c)
#   make emu-test            tests/test_emu.c against build/lambda-emu and its ASan/UBSan build
#   make bench               hello vs the raw-socket baseline, alternating; medians and ratios
#   make emu-demo            one success and one InvalidEvent failure through hello

EMU_CFLAGS   := -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -pedantic -Werror
EMU_SRC      := $(addprefix tools/emu/,emu_main.c emu_util.c emu_loop.c emu_rapi.c emu_ext.c emu_bench.c) \
                tools/rapi_server.c
EMU_DEPS     := $(EMU_SRC) tools/emu/emu.h tools/rapi_server.h
BENCH_N      ?= 1000
BENCH_ROUNDS ?= 21

.PHONY: emu-test bench emu-demo

build/lambda-emu: $(EMU_DEPS)
	@mkdir -p build
	$(HOST_CC) $(EMU_CFLAGS) -o $@ $(EMU_SRC)

build/asan/lambda-emu: $(EMU_DEPS)
	@mkdir -p build/asan
	$(HOST_CC) $(EMU_CFLAGS) -g -O1 $(SAN_FLAGS) -o $@ $(EMU_SRC)

# the floor any runtime could reach: built exactly like the examples
build/baseline/bootstrap: tools/baseline.c
	@mkdir -p $(dir $@)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/rawstream/bootstrap: tests/handlers/rawstream.c
	@mkdir -p $(dir $@)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/test_emu: tests/test_emu.c tests/lt.h
	@mkdir -p build
	$(HOST_CC) $(TEST_CFLAGS) -o $@ tests/test_emu.c

# build/extension/bootstrap comes from the examples rule, build/features{,-mt}/bootstrap from
# tests/features.mk (both are read before make builds anything)
EMU_TEST_DEPS := build/test_emu build/lambda-emu build/asan/lambda-emu build/hello/bootstrap \
                 build/probe/bootstrap build/rawstream/bootstrap build/extension/bootstrap \
                 build/features/bootstrap build/features-mt/bootstrap

EMU_TESTS := build/test_emu build/lambda-emu build -- build/test_emu build/asan/lambda-emu build

emu-test: $(EMU_TEST_DEPS)
	tests/run.sh $(EMU_TESTS)

# part of `make test` too (about 3 s per run). This file is included after the
# test rule, so its prerequisites are added here rather than through EXTRA_TEST_DEPS.
test: $(EMU_TEST_DEPS)
EXTRA_TESTS += -- $(EMU_TESTS)

bench: build/lambda-emu build/hello/bootstrap build/baseline/bootstrap
	@echo "machine: $$(uname -srm), $$(nproc) CPU(s), $$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
	build/lambda-emu --bench $(BENCH_N) --rounds $(BENCH_ROUNDS) --baseline build/baseline/bootstrap -- build/hello/bootstrap
	@if [ -f tests/bench_json.c ]; then $(MAKE) --no-print-directory build/bench_json >/dev/null || true; fi
	@if [ -x build/bench_json ]; then echo "== JSON scanner (build/bench_json)"; build/bench_json; \
	 else echo "(no build/bench_json: JSON scanner throughput skipped)"; fi

emu-demo: build/lambda-emu build/hello/bootstrap
	build/lambda-emu -e '{"name":"World"}' -e '{"nope":1}' -- build/hello/bootstrap
	@echo "build/hello/bootstrap: $$(wc -c < build/hello/bootstrap) bytes"
