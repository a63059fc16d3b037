# lambda_runtime.h - build, test, demo, benchmark. Everything is in this one file.
#   make                 build every example as build/<name>/bootstrap (static, stripped)
#   make demo            build hello and the emulator, then invoke hello locally: one success and
#                        one InvalidEvent failure (emu-demo)
#   make test            every suite in TEST_SUITES below: unit, JSON, HTTP layer, end-to-end, build
#                        matrix, emulator (and its HTTP front in a browser), fault injection and
#                        features, normal and ASan+UBSan builds (plus the concurrency scenarios under TSan)
#   make emu-test        tests/test_emu.c against build/lambda-emu and its ASan+UBSan build, then
#                        the HTTP front in headless Chromium (tests/check_browser.sh)
#   make faults-test     tests/test_faults.c against build/ and build/asan/
#   make features-test   tests/test_features.c (streaming, lambda_log, the Extensions API client, the
#                        shutdown hook, multi-concurrency): normal and ASan+UBSan runs, then the
#                        concurrency scenarios under TSan
#   make obs-test        tests/test_obs.c (EMF metrics, log fields, X-Ray causes, the metadata
#                        endpoint, the Telemetry API client and the emulator's side): normal and
#                        ASan+UBSan runs
#   make soak            tests/test_soak.c with SOAK_N invocations (default 1,000,000; make test
#                        runs 20,000): flat memory, one connection; then freeze/thaw scenarios
#   make fuzz            libFuzzer targets, FUZZ_SECONDS each (default 60; needs clang)
#   make fuzz-diff       differential libFuzzer targets against independent implementations,
#                        FUZZ_SECONDS each (tests/FUZZ_DIFF.md); FUZZ_FAST=1 for long runs
#   make bench           cold start, round trip, memory and size: hello vs the raw-socket baseline
#                        (and any BOOTSTRAPS="path ..."), alternating, pinned to one CPU; medians
#                        and ratios (BENCH_N invocations, BENCH_ROUNDS rounds); chart in build/bench.svg
#   make bench-json      the JSON scanner and writer beside simdjson and cJSON (libsimdjson-dev,
#                        libcjson-dev), pinned to one CPU, medians and ratios; then a static musl build
#   make package         build/<name>/function.zip (x86_64) and function-arm64.zip for every example,
#                        layer.zip / layer-arm64.zip for the extension; reproducible; sizes printed
#   make build-<LogicalId> ARTIFACTS_DIR=dir   what `sam build` runs for each resource of
#                        template.yaml (BuildMethod: makefile)
#   make print-cflags    the bootstrap flags (LAMBDA_CFLAGS), for a build of your own
#   make valgrind        test_e2e + test_faults with every bootstrap run under valgrind (slow)
#   make arm64           static arm64 bootstraps, test_e2e + test_faults under qemu-aarch64-static
#                        (tests/arm64.sh)
#   make lint            cppcheck + clang-tidy over the implementation (tests/lint.sh)
#   make build/lambda-emu   the local Runtime API emulator (tools/emu/*.c + tools/rapi_server.c);
#                        build/asan/lambda-emu is its ASan+UBSan build
#   make clean
# emu-test, faults-test and features-test are part of `make test`; .ci/run runs `make test`, then
# fuzz, lint, valgrind and arm64, and prints make package's table.

HOST_CC   := gcc
WARN      := -Wall -Wextra -pedantic -Wshadow -Werror
TEST_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 $(WARN) -I.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TSAN_FLAGS := -fsanitize=thread
MT_FLAGS  := -DLAMBDA_THREADS -pthread
FUZZ_CC   := clang
FUZZ_CXX  := clang++
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I.
# FUZZ_FAST=1: the same sanitizers, -O2 and no comparison tracing (trace-cmp took 70 % of
# fuzz_json's time): 1.4-4.7x the executions a second (the socket targets gain least),
# for long runs from a grown corpus; built under build/fuzz-fast/ beside the default build
ifdef FUZZ_FAST
FUZZ_FLAGS := -g -O2 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -fno-sanitize-coverage=trace-cmp -I.
FUZZ_DIR := build/fuzz-fast
else
FUZZ_DIR := build/fuzz
endif
FUZZ_SECONDS ?= 60
JSON_SUITE ?= ../shared/testdata/JSONTestSuite/test_parsing
EMU_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -pedantic -Werror
BENCH_N      ?= 1000
BENCH_ROUNDS ?= 21
# more bootstraps for make bench, e.g. BOOTSTRAPS="../go/bootstrap ../rust/bootstrap"
BOOTSTRAPS   ?=

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
# (not for make print-*, whose output is meant for other commands)
ifeq ($(filter print-%,$(MAKECMDGOALS)),)
$(info note: musl-gcc not found (apt-get install musl-tools); building bootstraps with static glibc)
endif
endif
# LAMBDA_CFLAGS is the build line users copy: `make print-cflags` prints it, the README's
# build line, the QUICK START in lambda_runtime.h, tools/lambda-cc and cmake/LambdaRuntime.cmake
# carry the same flags (tests/check_deploy.sh compares them). -DLAMBDA_STATIC: every example is
# one file (see the header's QUICK START).
LAMBDA_CFLAGS := -std=c99 -Os -static -fno-pie -no-pie -DLAMBDA_STATIC -ffunction-sections -fdata-sections \
                 -fno-asynchronous-unwind-tables -Wl,--gc-sections -Wl,-z,noseparate-code $(MUSL_LDFLAGS) -s
BOOTSTRAP_CFLAGS := $(LAMBDA_CFLAGS) $(WARN) -I.

# valgrind builds: gcc -g -O1, dynamic, no sanitizer
VALGRIND  ?= $(shell command -v valgrind 2>/dev/null)
VG_FLAGS  := -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
VG_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 $(WARN) -I.

EXAMPLES   := $(notdir $(wildcard examples/*))
EXAMPLE_BINS := $(EXAMPLES:%=build/%/bootstrap)
HDR        := lambda_runtime.h
HANDLERS   := sigprobe oomprobe
EMU_SRC    := $(addprefix tools/emu/,emu_main.c emu_util.c emu_loop.c emu_rapi.c emu_ext.c emu_http.c \
                emu_http_json.c emu_tel.c emu_bench.c) \
              tools/rapi_server.c

.PHONY: all demo emu-demo test emu-test faults-test features-test obs-test soak fuzz fuzz-diff bench bench-json \
        valgrind arm64 lint clean \
        package sizes print-cflags print-sam-targets print-zips
all: $(EXAMPLE_BINS)

# ---- bootstraps: every variant from one function ------------------------------------------
# $(call bootstraps,NAME,SOURCE,PREREQUISITES,VARIANTS[,FLAGS]) defines, for each variant in
# VARIANTS, one rule that compiles SOURCE (which is also its first prerequisite):
#   plain  build/NAME/bootstrap          $(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) FLAGS  (like the examples)
#   asan   build/asan/NAME/bootstrap     $(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) FLAGS
#   tsan   build/tsan/NAME/bootstrap     $(HOST_CC) $(TEST_CFLAGS) $(TSAN_FLAGS) FLAGS
#   vg     build/vg/NAME/bootstrap.bin   $(HOST_CC) $(VG_CFLAGS) FLAGS  (build/vg/NAME/bootstrap is its
#                                        valgrind wrapper, below)
# NAME may be a pattern (%, handlers/%); SOURCE and PREREQUISITES then use the same %.
VARIANT_DIR.plain := build
VARIANT_CC.plain   = $(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS)
VARIANT_DIR.asan  := build/asan
VARIANT_CC.asan    = $(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS)
VARIANT_DIR.tsan  := build/tsan
VARIANT_CC.tsan    = $(HOST_CC) $(TEST_CFLAGS) $(TSAN_FLAGS)
VARIANT_DIR.vg    := build/vg
VARIANT_CC.vg      = $(HOST_CC) $(VG_CFLAGS)
VARIANT_FILE.vg   := bootstrap.bin

define bootstrap_rule
$(VARIANT_DIR.$1)/$2/$(or $(VARIANT_FILE.$1),bootstrap): $3 $4
	@mkdir -p $$(@D)
	$$(VARIANT_CC.$1)$(if $5, $5) -o $$@ $$<
endef
bootstraps = $(foreach v,$4,$(eval $(call bootstrap_rule,$v,$1,$2,$3,$5)))

# every example
$(call bootstraps,%,examples/%/main.c,$(HDR),plain asan vg)
# the test bootstrap: counting allocator, behaviour chosen by the event (tests/handlers/probe.c)
$(call bootstraps,probe,tests/handlers/probe.c,$(HDR),plain asan vg)
# fault-injection handlers (tests/handlers/sigprobe.c, oomprobe.c): build/handlers/<name>/...
$(call bootstraps,handlers/%,tests/handlers/%.c,$(HDR),plain asan vg)
# the features bootstrap (tests/handlers/features.c): like the examples, ASan+UBSan, and threaded
# (-DLAMBDA_THREADS -pthread) in those two builds and under TSan
$(call bootstraps,features,tests/handlers/features.c,$(HDR),plain asan)
$(call bootstraps,features-mt,tests/handlers/features.c,$(HDR),plain asan tsan,$(MT_FLAGS))
# the observability bootstrap (tests/handlers/obs.c): EMF metrics, log fields, X-Ray causes,
# the metadata endpoint
$(call bootstraps,obs,tests/handlers/obs.c,$(HDR),plain asan)
# examples/hello with the C library allocator linked in, for the size budget (it includes
# examples/hello/main.c)
$(call bootstraps,hello-malloc,tests/handlers/hello_malloc.c,examples/hello/main.c $(HDR),plain)
# examples/http with counting allocator hooks, for the steady-state allocation test (it includes
# examples/http/main.c)
$(call bootstraps,http-allocs,tests/handlers/http_allocs.c,examples/http/main.c $(HDR),plain asan vg)
# the floor any runtime could reach, for make bench: built exactly like the examples
$(call bootstraps,baseline,tools/baseline.c,,plain)
# a raw-socket streaming bootstrap for tests/test_emu.c
$(call bootstraps,rawstream,tests/handlers/rawstream.c,,plain)

# build/vg/<name>/bootstrap is a wrapper script that execs valgrind on bootstrap.bin. A valgrind
# error exits 99 and prints "==pid==" lines, which both suites reject (every stderr line must
# start with "lambda_runtime: ").
VG_NAMES := $(EXAMPLES) probe http-allocs $(HANDLERS:%=handlers/%)
.SECONDARY: $(VG_NAMES:%=build/vg/%/bootstrap.bin)
build/vg/%/bootstrap: build/vg/%/bootstrap.bin
	@test -n "$(VALGRIND)" || { echo "valgrind not found (apt-get install valgrind)"; exit 1; }
	@printf '#!/bin/sh\nexec %s %s "%s" "$$@"\n' "$(VALGRIND)" "$(VG_FLAGS)" "$(abspath $<)" > $@
	@chmod +x $@

# ---- deployment: zips, AWS SAM, arm64 -------------------------------------------------------
# make package writes, for every example, build/<name>/function.zip (x86_64) and
# build/<name>/function-arm64.zip: bootstrap alone at the root, mode 0755, reproducible
# (tools/lambda-zip). Examples in LAYER_EXAMPLES are Lambda extensions, packaged as layers:
# build/<name>/layer.zip and layer-arm64.zip, holding extensions/<name>.
LAYER_EXAMPLES := extension telemetry
FUNCTION_EXAMPLES := $(filter-out $(LAYER_EXAMPLES),$(EXAMPLES))
ARM64_CC ?= aarch64-linux-gnu-gcc
HAVE_ARM64 := $(shell command -v $(ARM64_CC) 2>/dev/null)
ZIPS_X86   := $(FUNCTION_EXAMPLES:%=build/%/function.zip) $(LAYER_EXAMPLES:%=build/%/layer.zip)
ZIPS_ARM64 := $(FUNCTION_EXAMPLES:%=build/%/function-arm64.zip) $(LAYER_EXAMPLES:%=build/%/layer-arm64.zip)
PACKAGE_ZIPS := $(ZIPS_X86) $(if $(HAVE_ARM64),$(ZIPS_ARM64))
ARM64_BINS   := $(if $(HAVE_ARM64),$(EXAMPLES:%=build/arm64/%/bootstrap.bin))

# static arm64 bootstraps: tools/lambda-cc links the arm64 musl by hand (tests/arm64.sh uses them)
build/arm64/%/bootstrap.bin: examples/%/main.c $(HDR) tools/lambda-cc
	@mkdir -p $(@D)
	ARM64_CC=$(ARM64_CC) tools/lambda-cc --arch arm64 $(WARN) -I. -o $@ $<

.SECONDARY: $(EXAMPLES:%=build/arm64/%/bootstrap.bin)

build/%/function.zip: build/%/bootstrap tools/lambda-zip
	tools/lambda-zip $@ bootstrap=$< >/dev/null
build/%/function-arm64.zip: build/arm64/%/bootstrap.bin tools/lambda-zip
	tools/lambda-zip $@ bootstrap=$< >/dev/null
build/%/layer.zip: build/%/bootstrap tools/lambda-zip
	tools/lambda-zip $@ extensions/$*=$< >/dev/null
build/%/layer-arm64.zip: build/arm64/%/bootstrap.bin tools/lambda-zip
	tools/lambda-zip $@ extensions/$*=$< >/dev/null

# the table: zip, its size, what it holds
package: $(PACKAGE_ZIPS)
	@for z in $(PACKAGE_ZIPS); do \
	    printf '%-32s %6s bytes   %s: %s bytes\n' $$z $$(wc -c < $$z) \
	        "$$(unzip -Z1 $$z | grep -v '/$$')" "$$(unzip -Zt $$z | cut -d' ' -f3)"; \
	done
	@$(if $(HAVE_ARM64),:,echo "package: no arm64 zips: $(ARM64_CC) not found (apt-get install gcc-aarch64-linux-gnu)")

# the README's size table (Deploy), measured: bootstraps and zips, x86_64 and arm64
SIZE_FILES = build/$1/bootstrap build/$1/$2.zip build/arm64/$1/bootstrap.bin build/$1/$2-arm64.zip
sizes: $(PACKAGE_ZIPS) $(ARM64_BINS) build/hello-malloc/bootstrap
	@echo '| bytes | x86_64 bootstrap | x86_64 zip | arm64 bootstrap | arm64 zip |'
	@echo '|---|---:|---:|---:|---:|'
	@$(foreach n,$(FUNCTION_EXAMPLES) $(LAYER_EXAMPLES) hello-malloc,\
	  printf '| %s | %s | %s | %s | %s |\n' \
	    '$n$(if $(filter $n,$(LAYER_EXAMPLES)), (layer.zip),$(if $(filter hello-malloc,$n), (hello + one malloc),))' \
	    $$(for f in $(call SIZE_FILES,$n,$(if $(filter $n,$(LAYER_EXAMPLES)),layer,function)); do \
	       if [ -f $$f ]; then wc -c < $$f; else echo -; fi; done | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta');)

# AWS SAM (template.yaml, Metadata: BuildMethod: makefile): `sam build` copies this directory
# and runs `make build-<LogicalId>` in the copy, with ARTIFACTS_DIR set to where the function's
# (or layer's) files must go. One line per resource of template.yaml:
#   $(call sam_function,LOGICAL_ID,EXAMPLE,ARCH)  writes $(ARTIFACTS_DIR)/bootstrap
#   $(call sam_layer,LOGICAL_ID,EXAMPLE,ARCH)     writes $(ARTIFACTS_DIR)/extensions/EXAMPLE
# ARCH is x86_64 or arm64, as the resource's Architectures (BuildArchitecture for a layer).
# tests/check_template.py checks template.yaml against `make print-sam-targets`.
# $(call sam_rule,LOGICAL_ID,EXAMPLE,ARCH,KIND,PATH IN ARTIFACTS_DIR)
define sam_rule
SAM_TARGETS += $1:$2:$3:$4
.PHONY: build-$1
build-$1: $(if $(filter arm64,$3),build/arm64/$2/bootstrap.bin,build/$2/bootstrap)
	@test -n "$$(ARTIFACTS_DIR)" || { echo "build-$1: ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	@mkdir -p "$$(ARTIFACTS_DIR)/$(patsubst ./,,$(dir $5))"
	cp $$< "$$(ARTIFACTS_DIR)/$5"
	@chmod 0755 "$$(ARTIFACTS_DIR)/$5"
endef
sam_function = $(eval $(call sam_rule,$1,$2,$3,function,bootstrap))
sam_layer    = $(eval $(call sam_rule,$1,$2,$3,layer,extensions/$2))
SAM_TARGETS :=
$(call sam_function,HelloFunction,hello,x86_64)
$(call sam_function,HelloArm64Function,hello,arm64)
$(call sam_function,EchoFunction,echo,x86_64)
$(call sam_function,HttpFunction,http,x86_64)
$(call sam_function,StreamFunction,stream,x86_64)
$(call sam_function,MetricsFunction,metrics,x86_64)
$(call sam_layer,ExtensionLayer,extension,x86_64)
$(call sam_layer,TelemetryLayer,telemetry,x86_64)

# for tests/check_deploy.sh and tests/check_template.py: LOGICAL_ID:EXAMPLE:ARCH:KIND and
# ZIP:EXAMPLE:ARCH:KIND, one per line
print-sam-targets:
	@printf '%s\n' $(SAM_TARGETS)
print-zips:
	@printf '%s\n' $(foreach z,$(PACKAGE_ZIPS),$z:$(word 2,$(subst /, ,$z)):$(if $(findstring arm64,$z),arm64,x86_64):$(if $(findstring layer,$(notdir $z)),layer,function))
print-cflags:
	@echo '$(strip $(LAMBDA_CFLAGS))'

# ---- host programs: tests, the emulator, the JSON benchmark --------------------------------
# $(call programs,NAME,SOURCES,PREREQUISITES,CFLAGS[,ASAN_CFLAGS]) defines build/NAME, compiled
# from SOURCES with $(HOST_CC) CFLAGS, and, when ASAN_CFLAGS is given, build/asan/NAME with
# $(HOST_CC) ASAN_CFLAGS $(SAN_FLAGS).
define program_rule
$1: $2 $3
	@mkdir -p $$(@D)
	$$(HOST_CC) $4 -o $$@ $2
endef
programs = $(eval $(call program_rule,build/$1,$2,$3,$4))$(if $5,$(eval $(call program_rule,build/asan/$1,$2,$3,$5 $(SAN_FLAGS))))

RAPI_TEST_DEPS := tools/rapi_server.h tests/lt.h tests/e2e_util.h $(HDR)
$(call programs,test_unit,tests/test_unit.c,tests/lt.h tests/guard_page.h $(HDR),$(TEST_CFLAGS),$(TEST_CFLAGS))
$(call programs,test_json,tests/test_json.c,tests/lt.h tests/guard_page.h $(HDR),$(TEST_CFLAGS) -O2 -Wconversion,$(TEST_CFLAGS) -Wconversion)
$(call programs,test_http,tests/test_http.c,tests/lt.h $(HDR),$(TEST_CFLAGS) -Wconversion,$(TEST_CFLAGS) -Wconversion)
$(call programs,test_e2e,tests/test_e2e.c tools/rapi_server.c,$(RAPI_TEST_DEPS),$(TEST_CFLAGS))
$(call programs,test_faults,tests/test_faults.c tools/rapi_server.c,$(RAPI_TEST_DEPS),$(TEST_CFLAGS))
$(call programs,test_soak,tests/test_soak.c tools/rapi_server.c,$(RAPI_TEST_DEPS),$(TEST_CFLAGS))
$(call programs,test_features,tests/test_features.c tools/rapi_server.c,$(RAPI_TEST_DEPS),$(TEST_CFLAGS))
$(call programs,test_emu,tests/test_emu.c,tests/lt.h,$(TEST_CFLAGS))
$(call programs,test_obs,tests/test_obs.c tools/rapi_server.c,$(RAPI_TEST_DEPS) $(HDR),$(TEST_CFLAGS))
$(call programs,lambda-emu,$(EMU_SRC),tools/emu/emu.h tools/rapi_server.h,$(EMU_CFLAGS),$(EMU_CFLAGS) -g -O1)
$(call programs,bench_json,tests/bench_json.c,$(HDR),-std=c99 -O2 $(WARN) -I.)

# make bench-json: the same benchmark with simdjson and cJSON beside it (Debian's libsimdjson-dev
# and libcjson-dev, test-only), and built static with musl as the bootstraps are
build/bench_json_peers: tests/bench_json.c tests/bench_json_peers.cpp tests/bench_event.h $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) -std=c99 -O2 $(WARN) -I. -DBENCH_PEERS -c -o build/bench_json_peers_c.o tests/bench_json.c
	g++ -std=c++17 -O2 -c -o build/bench_json_peers_cpp.o tests/bench_json_peers.cpp
	g++ -o $@ build/bench_json_peers_c.o build/bench_json_peers_cpp.o -lsimdjson -lcjson
build/musl/bench_json: tests/bench_json.c tests/bench_event.h $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) -static -std=c99 -O2 $(WARN) -I. -o $@ tests/bench_json.c

# A comma-decimal locale for the JSON locale-independence test, built locally when
# possible (the test says so and uses "C" when it cannot be built).
build/locale/de_DE.UTF-8:
	@mkdir -p build/locale
	@localedef -i de_DE -f UTF-8 $@ >/dev/null 2>&1 || true

# ---- make test ----------------------------------------------------------------------------
# Every suite of `make test`, in the order they run: a test program and its arguments, one per
# line, separated by `--` (tests/run.sh runs each and sums their "N passed, N failed" lines).
# The emulator suite takes about 6 s per run, the browser check (tests/check_browser.sh: the
# emulator's HTTP front in headless Chromium, one page load) about 2 s, the fault suite about
# 10 s per build, the three feature runs about 8 s, the deployment checks (tests/check_deploy.sh,
# check_template.py, check_cmake.sh: zips, template.yaml, the CMake helper) about 15 s; they need
# zip, unzip, python3-yaml, cmake and chromium. The size budget (--sizes) is for static musl
# builds; the static glibc fallback is ten times larger.
FEATURES_SIZES := $(if $(MUSL_GCC),--sizes,)
TEST_SUITES := \
    build/test_unit -- \
    build/asan/test_unit -- \
    build/test_json $(JSON_SUITE) -- \
    build/asan/test_json $(JSON_SUITE) -- \
    build/test_http -- \
    build/asan/test_http -- \
    build/test_e2e build -- \
    build/test_e2e build/asan -- \
    tests/check_build.sh -- \
    tests/check_deploy.sh -- \
    tests/check_template.py -- \
    tests/check_cmake.sh -- \
    build/test_emu build/lambda-emu build -- \
    build/test_emu build/asan/lambda-emu build -- \
    tests/check_browser.sh build/lambda-emu build/stream/bootstrap -- \
    build/test_faults build -- \
    build/test_faults build/asan -- \
    build/test_obs --emu build/lambda-emu build -- \
    build/test_obs --emu build/lambda-emu build/asan -- \
    build/test_soak build -- \
    build/test_soak build/asan -- \
    build/test_features $(FEATURES_SIZES) --emu build/lambda-emu build -- \
    build/test_features --emu build/lambda-emu build/asan -- \
    build/test_features --mt-only build/tsan

# $(call suites_of,PROGRAM): the suites of TEST_SUITES run by PROGRAM, in tests/run.sh form.
# (Each suite becomes one word, its words joined by ':', for $(filter); then back.)
empty :=
space := $(empty) $(empty)
suites_of = $(subst :, ,$(subst $(space),:--:,$(filter $1 $1:%,$(subst :--:, ,$(subst $(space),:,$(strip $(TEST_SUITES)))))))

# what the suites need built
TEST_BINS := build/test_unit build/asan/test_unit build/test_json build/asan/test_json build/test_e2e \
             build/test_http build/asan/test_http \
             build/asan/http/bootstrap build/asan/sqs/bootstrap build/asan/s3/bootstrap \
             build/asan/echo/bootstrap build/http-allocs/bootstrap build/asan/http-allocs/bootstrap \
             build/hello/bootstrap build/asan/hello/bootstrap build/probe/bootstrap build/asan/probe/bootstrap
EMU_TEST_DEPS := build/test_emu build/lambda-emu build/asan/lambda-emu build/hello/bootstrap build/baseline/bootstrap \
                 build/http/bootstrap build/stream/bootstrap \
                 build/probe/bootstrap build/rawstream/bootstrap build/extension/bootstrap \
                 build/features/bootstrap build/features-mt/bootstrap
SOAK_DEPS := build/test_soak build/echo/bootstrap build/probe/bootstrap build/asan/echo/bootstrap \
             build/asan/probe/bootstrap
FAULTS_DEPS := build/test_faults build/probe/bootstrap build/asan/probe/bootstrap \
               $(HANDLERS:%=build/handlers/%/bootstrap) $(HANDLERS:%=build/asan/handlers/%/bootstrap)
FEATURES_TEST_DEPS := build/test_features build/lambda-emu $(EXAMPLE_BINS) \
    build/features/bootstrap build/features-mt/bootstrap build/stream/bootstrap \
    build/extension/bootstrap build/hello/bootstrap build/hello-malloc/bootstrap \
    build/asan/features/bootstrap build/asan/features-mt/bootstrap build/asan/stream/bootstrap \
    build/asan/extension/bootstrap build/tsan/features-mt/bootstrap

OBS_TEST_DEPS := build/test_obs build/lambda-emu build/obs/bootstrap build/asan/obs/bootstrap \
    build/metrics/bootstrap build/asan/metrics/bootstrap build/telemetry/bootstrap \
    build/asan/telemetry/bootstrap

# tests/check_deploy.sh and tests/check_cmake.sh: make package's zips and what they hold
DEPLOY_TEST_DEPS := $(PACKAGE_ZIPS) $(ARM64_BINS)

test: all $(TEST_BINS) build/locale/de_DE.UTF-8 $(EMU_TEST_DEPS) $(FAULTS_DEPS) $(FEATURES_TEST_DEPS) \
      $(OBS_TEST_DEPS) $(DEPLOY_TEST_DEPS) $(SOAK_DEPS)
	LOCPATH=build/locale tests/run.sh $(TEST_SUITES)

emu-test: $(EMU_TEST_DEPS)
	tests/run.sh $(call suites_of,build/test_emu) -- $(call suites_of,tests/check_browser.sh)

faults-test: $(FAULTS_DEPS)
	tests/run.sh $(call suites_of,build/test_faults)

features-test: $(FEATURES_TEST_DEPS)
	tests/run.sh $(call suites_of,build/test_features)

obs-test: $(OBS_TEST_DEPS)
	tests/run.sh $(call suites_of,build/test_obs)

# a million invocations with flat memory on one connection, then the freeze/thaw scenarios
SOAK_N ?= 1000000
soak: $(SOAK_DEPS)
	tests/run.sh build/test_soak build $(SOAK_N)

# ---- more checks (.ci/run runs them after make test) ---------------------------------------
valgrind: build/test_e2e build/test_faults $(VG_NAMES:%=build/vg/%/bootstrap)
	FAULT_WAIT_MS=15000 FAULT_SIG_US=20000 tests/run.sh build/test_e2e build/vg -- build/test_faults build/vg

arm64: build/test_e2e build/test_faults
	JSON_SUITE=$(JSON_SUITE) tests/arm64.sh

lint:
	tests/lint.sh

# ---- fuzzing ------------------------------------------------------------------------------
FUZZERS := fuzz_http fuzz_json fuzz_json_roundtrip fuzz_http_event fuzz_telemetry
$(FUZZ_DIR)/%: tests/%.c $(HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $<

# $(call fuzz_run,TARGET,CORPUS): $(FUZZ_DIR)/TARGET for FUZZ_SECONDS on a copy of its seed
# corpus tests/fuzz/corpus/CORPUS (so the repository stays unchanged; new units go to
# build/corpus/CORPUS); prints "== TARGET", libFuzzer's summary lines and the executions, and
# on a crash, a sanitizer report or any failure the end of its log, and then fails.
fuzz_run = c=$2; rm -rf build/corpus/$$c; mkdir -p build/corpus/$$c; \
    echo "== $1 ($(FUZZ_SECONDS) s)"; \
    $(FUZZ_DIR)/$1 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -print_final_stats=1 \
        -artifact_prefix=build/ build/corpus/$$c tests/fuzz/corpus/$$c > $(FUZZ_DIR)/$1.log 2>&1; \
    rc=$$?; grep -E "^\#[0-9]+.*DONE|^Done|ERROR|SUMMARY" $(FUZZ_DIR)/$1.log; \
    sed -n 's/^stat::number_of_executed_units: */executions: /p' $(FUZZ_DIR)/$1.log; \
    if [ $$rc != 0 ]; then tail -n 40 $(FUZZ_DIR)/$1.log; echo "$1 exited $$rc"; exit 1; fi

fuzz: $(FUZZERS:%=$(FUZZ_DIR)/%)
	@for f in $(FUZZERS); do $(call fuzz_run,$$f,$${f#fuzz_}); done

# Differential targets (tests/FUZZ_DIFF.md): each one traps on any difference from an
# independent implementation that FUZZ_DIFF.md does not list; seed corpora in
# tests/fuzz/corpus/diff_<name>. fuzz_diff_http needs libhttp-parser-dev, fuzz_diff_json
# libsimdjson-dev (and clang++).
FUZZ_DIFF := fuzz_diff_http fuzz_diff_json fuzz_diff_codec
FUZZ_DIFF_CFLAGS := $(FUZZ_FLAGS) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARN)
$(FUZZ_DIR)/fuzz_diff_codec: tests/fuzz_diff_codec.c $(HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_DIFF_CFLAGS) -o $@ $<
$(FUZZ_DIR)/fuzz_diff_http: tests/fuzz_diff_http.c $(HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_DIFF_CFLAGS) -o $@ $< -lhttp_parser
$(FUZZ_DIR)/fuzz_diff_json: tests/fuzz_diff_json.cc $(HDR)
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -std=c++17 $(WARN) -o $@ $< -lsimdjson

fuzz-diff: $(FUZZ_DIFF:%=$(FUZZ_DIR)/%)
	@for f in $(FUZZ_DIFF); do $(call fuzz_run,$$f,diff_$${f#fuzz_diff_}); done

# ---- benchmark and demo -------------------------------------------------------------------
bench: build/lambda-emu build/hello/bootstrap build/baseline/bootstrap
	@echo "machine: $$(uname -srm), $$(nproc) CPU(s), $$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
	build/lambda-emu --bench $(BENCH_N) --rounds $(BENCH_ROUNDS) --svg build/bench.svg \
	    $(foreach b,$(BOOTSTRAPS),--compare $(b)) --baseline build/baseline/bootstrap -- build/hello/bootstrap
	@if [ -f tests/bench_json.c ]; then $(MAKE) --no-print-directory build/bench_json >/dev/null || true; fi
	@if [ -x build/bench_json ]; then echo "== JSON scanner (build/bench_json)"; build/bench_json; \
	 else echo "(no build/bench_json: JSON scanner throughput skipped)"; fi

# one CPU (taskset -c 0), medians of several rounds, ratios against simdjson and cJSON in the
# same run; then the static musl build (the bootstraps' libc: its snprintf for the doubles)
bench-json: build/bench_json_peers build/musl/bench_json
	@echo "machine: $$(uname -srm), $$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
	@echo "== glibc, with simdjson $$(dpkg-query -W -f='$${Version}' libsimdjson-dev 2>/dev/null) and cJSON $$(dpkg-query -W -f='$${Version}' libcjson-dev 2>/dev/null)"
	taskset -c 0 build/bench_json_peers
	@echo "== static musl (as the bootstraps)"
	taskset -c 0 build/musl/bench_json

demo: emu-demo
emu-demo: build/lambda-emu build/hello/bootstrap
	build/lambda-emu -e '{"name":"World"}' -e '{"nope":1}' -- build/hello/bootstrap
	@echo "build/hello/bootstrap: $$(wc -c < build/hello/bootstrap) bytes"

clean:
	rm -rf build
