# tests/e2e.mk - end-to-end tests; included by the top Makefile.
#   make e2e-test   build the suite, the probe bootstrap (normal + ASan/UBSan) and run both
# Uses BOOTSTRAP_CC / BOOTSTRAP_CFLAGS from the top Makefile (the fallbacks below only matter when
# this file is used on its own). build/hello/bootstrap and build/asan/hello/bootstrap come from the
# top Makefile's example rules.

BOOTSTRAP_CC     ?= gcc
BOOTSTRAP_CFLAGS ?= -std=c99 -Os -static
E2E_CC           ?= gcc
E2E_CFLAGS       := -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -pedantic -Werror
E2E_SAN_CFLAGS   := -std=c99 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
                    -fno-sanitize-recover=all -Wall -Wextra -pedantic -Werror
E2E_BOOTSTRAPS   := build/hello/bootstrap build/probe/bootstrap \
                    build/asan/hello/bootstrap build/asan/probe/bootstrap

.PHONY: e2e-test

build/test_e2e: tests/test_e2e.c tests/rapi_server.c tests/rapi_server.h tests/lt.h
	@mkdir -p $(@D)
	$(E2E_CC) $(E2E_CFLAGS) -o $@ tests/test_e2e.c tests/rapi_server.c

# built exactly like the examples
build/probe/bootstrap: tests/handlers/probe.c lambda_runtime.h
	@mkdir -p $(@D)
	$(BOOTSTRAP_CC) $(BOOTSTRAP_CFLAGS) -o $@ tests/handlers/probe.c

# sanitizer build: dynamic, debug info
build/asan/probe/bootstrap: tests/handlers/probe.c lambda_runtime.h
	@mkdir -p $(@D)
	$(E2E_CC) $(E2E_SAN_CFLAGS) -o $@ tests/handlers/probe.c

e2e-test: build/test_e2e $(E2E_BOOTSTRAPS)
	tests/run.sh build/test_e2e build -- build/test_e2e build/asan
