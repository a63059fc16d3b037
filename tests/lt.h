/* tests/lt.h - the whole test harness */
#include <stdio.h>
static int lt_bad_checks, lt_passed, lt_failed;
#define LT_CHECK(c) do { if (!(c)) { lt_bad_checks++; printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define LT_RUN(fn) do { int lt_before_ = lt_bad_checks; fn(); if (lt_bad_checks == lt_before_) lt_passed++; else { lt_failed++; printf("FAILED %s\n", #fn); } } while (0)
#define LT_REPORT() (printf("%d passed, %d failed\n", lt_passed, lt_failed), lt_failed != 0)
