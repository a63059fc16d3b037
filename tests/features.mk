# tests/features.mk - tests of streaming, lambda_log, the Extensions API client, the shutdown hook
# and multi-concurrency (tests/test_features.c, bootstrap tests/handlers/features.c).
# Included by the top-level Makefile after the test rule:   -include tests/features.mk
# It uses HOST_CC, TEST_CFLAGS, SAN_FLAGS, BOOTSTRAP_CC, BOOTSTRAP_CFLAGS and HDR from there, and
# build/<name>/bootstrap for examples/stream and examples/extension (built like every example).
#
#   make features-test    normal and ASan+UBSan runs, then the concurrency scenarios under TSan

FEAT_SRC := tests/handlers/features.c
MT_FLAGS := -DLAMBDA_THREADS -pthread

build/features/bootstrap: $(FEAT_SRC) $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/hello-malloc/bootstrap: tests/handlers/hello_malloc.c examples/hello/main.c $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ $<

build/features-mt/bootstrap: $(FEAT_SRC) $(HDR)
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) $(MT_FLAGS) -o $@ $<

build/asan/features/bootstrap: $(FEAT_SRC) $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $<

build/asan/features-mt/bootstrap: $(FEAT_SRC) $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) $(SAN_FLAGS) $(MT_FLAGS) -o $@ $<

build/tsan/features-mt/bootstrap: $(FEAT_SRC) $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -fsanitize=thread $(MT_FLAGS) -o $@ $<

build/test_features: tests/test_features.c tools/rapi_server.c tools/rapi_server.h tests/lt.h tests/e2e_util.h $(HDR)
	@mkdir -p $(@D)
	$(HOST_CC) $(TEST_CFLAGS) -o $@ tests/test_features.c tools/rapi_server.c

FEATURES_TEST_DEPS := build/test_features build/lambda-emu \
    build/features/bootstrap build/features-mt/bootstrap build/stream/bootstrap \
    build/extension/bootstrap build/hello/bootstrap build/hello-malloc/bootstrap \
    build/asan/features/bootstrap build/asan/features-mt/bootstrap build/asan/stream/bootstrap \
    build/asan/extension/bootstrap build/tsan/features-mt/bootstrap

# the size budget is for static musl builds; the static glibc fallback is ten times larger
FEATURES_SIZES := $(if $(MUSL_GCC),--sizes,)
FEATURES_TESTS := build/test_features $(FEATURES_SIZES) --emu build/lambda-emu build -- \
                  build/test_features --emu build/lambda-emu build/asan -- \
                  build/test_features --mt-only build/tsan

.PHONY: features-test
features-test: $(FEATURES_TEST_DEPS)
	tests/run.sh $(FEATURES_TESTS)

# part of `make test` (about 8 s for the three runs)
test: $(FEATURES_TEST_DEPS)
EXTRA_TESTS += -- $(FEATURES_TESTS)
