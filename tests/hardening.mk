# tests/hardening.mk - fault injection, valgrind, arm64 under qemu, static analysis.
# Included by the top-level Makefile (after its test rule, like tools/emu.mk), which defines
# HOST_CC, WARN, TEST_CFLAGS, SAN_FLAGS, BOOTSTRAP_CC, BOOTSTRAP_CFLAGS and HDR and builds
# build/probe/bootstrap, build/asan/probe/bootstrap, build/test_e2e and the example bootstraps.
#
#   make faults-test   tests/test_faults.c against build/ and build/asan/ (part of `make test`)
#   make valgrind      test_e2e + test_faults with every bootstrap run under valgrind (slow)
#   make arm64         static arm64 bootstraps, test_e2e + test_faults under qemu-aarch64-static
#   make lint          cppcheck + clang-tidy over the implementation (tests/lint.sh)

.PHONY: faults-test valgrind arm64 lint

HARD_HANDLERS := sigprobe oomprobe
HARD_EXAMPLES := $(notdir $(wildcard examples/*))

# ---- handler bootstraps: normal (like the examples) and ASan+UBSan ------------------------
build/handlers/%/bootstrap: tests/handlers/%.c $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/asan/handlers/%/bootstrap: tests/handlers/%.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

build/test_faults: tests/test_faults.c tools/rapi_server.c tools/rapi_server.h tests/lt.h tests/e2e_util.h
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -o $@ tests/test_faults.c tools/rapi_server.c

FAULTS_DEPS := build/test_faults build/probe/bootstrap build/asan/probe/bootstrap \
               $(HARD_HANDLERS:%=build/handlers/%/bootstrap) $(HARD_HANDLERS:%=build/asan/handlers/%/bootstrap)
FAULTS_TESTS := build/test_faults build -- build/test_faults build/asan

faults-test: $(FAULTS_DEPS)
	tests/run.sh $(FAULTS_TESTS)

# part of `make test` (about 10 s per build)
test: $(FAULTS_DEPS)
EXTRA_TESTS += -- $(FAULTS_TESTS)

# ---- valgrind ---------------------------------------------------------------------------
# build/vg/<name>/bootstrap is a wrapper script that execs valgrind on bootstrap.bin (gcc -g -O1,
# dynamic, no sanitizer). A valgrind error exits 99 and prints "==pid==" lines, which both suites
# reject (every stderr line must start with "lambda_runtime: ").
VALGRIND  ?= $(shell command -v valgrind 2>/dev/null)
VG_FLAGS  := -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
VG_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 $(WARN) -I.
VG_NAMES  := $(HARD_EXAMPLES) probe $(HARD_HANDLERS:%=handlers/%)

.SECONDARY: $(VG_NAMES:%=build/vg/%/bootstrap.bin)

build/vg/%/bootstrap.bin: examples/%/main.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(VG_CFLAGS) -o $@ $<
build/vg/probe/bootstrap.bin: tests/handlers/probe.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(VG_CFLAGS) -o $@ $<
build/vg/handlers/%/bootstrap.bin: tests/handlers/%.c $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(VG_CFLAGS) -o $@ $<
build/vg/%/bootstrap: build/vg/%/bootstrap.bin
	@test -n "$(VALGRIND)" || { echo "valgrind not found (apt-get install valgrind)"; exit 1; }
	@printf '#!/bin/sh\nexec %s %s "%s" "$$@"\n' "$(VALGRIND)" "$(VG_FLAGS)" "$(abspath $<)" > $@
	@chmod +x $@

valgrind: build/test_e2e build/test_faults $(VG_NAMES:%=build/vg/%/bootstrap)
	FAULT_WAIT_MS=15000 FAULT_SIG_US=20000 tests/run.sh build/test_e2e build/vg -- build/test_faults build/vg

# ---- arm64 ------------------------------------------------------------------------------
arm64: build/test_e2e build/test_faults
	tests/arm64.sh

# ---- static analysis --------------------------------------------------------------------
lint:
	tests/lint.sh
