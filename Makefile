# lambda_runtime.h - build, test and demo.
#   make            build every example as build/<name>/bootstrap (static, stripped)
#   make demo       build hello and invoke it locally
#   make test       unit + JSON + end-to-end tests, normal and ASan/UBSan builds
#   make clean

CC        ?= cc
HOST_CC   := gcc
WARN      := -Wall -Wextra -pedantic -Wshadow -Werror
TEST_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 $(WARN) -I.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Bootstraps: fully static musl when musl-gcc exists, else static glibc.
MUSL_GCC  := $(shell command -v musl-gcc 2>/dev/null)
ifneq ($(MUSL_GCC),)
BOOTSTRAP_CC := musl-gcc
else
BOOTSTRAP_CC := gcc
$(info note: musl-gcc not found (apt-get install musl-tools); building bootstraps with static glibc)
endif
BOOTSTRAP_CFLAGS := -std=c99 -Os -static $(WARN) -I. -ffunction-sections -fdata-sections \
                    -fno-asynchronous-unwind-tables -Wl,--gc-sections -s

EXAMPLES  := $(notdir $(wildcard examples/*))
BOOTSTRAPS := $(EXAMPLES:%=build/%/bootstrap)

.PHONY: all demo test unit-test clean
all: $(BOOTSTRAPS)

build/%/bootstrap: examples/%/main.c lambda_runtime.h
	@mkdir -p $(dir $@)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/asan/%/bootstrap: examples/%/main.c lambda_runtime.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

build/test_unit: tests/test_unit.c tests/lt.h lambda_runtime.h
	@mkdir -p build
	$(HOST_CC) $(TEST_CFLAGS) -o $@ $<

build/asan/test_unit: tests/test_unit.c tests/lt.h lambda_runtime.h
	@mkdir -p build/asan
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

-include tests/e2e.mk
-include tests/json.mk

unit-test: build/test_unit build/asan/test_unit
	tests/run.sh build/test_unit build/asan/test_unit

clean:
	rm -rf build
