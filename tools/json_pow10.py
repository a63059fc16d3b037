#!/usr/bin/env python3
"""tools/json_pow10.py - the tables of lambda_json_write_double (lambda__jw_p10 and
lambda__jw_p5 in lambda_runtime.h).

The writer scales by g(k) = ceil(10^-k * 2^(126 - f)), f = floor(log2(10^-k)), a 127-bit
integer in [2^126, 2^127], for k = -324 .. 292. Instead of 617 rows it keeps one base every
16 powers: for e = -k, b = -292 + 16 j <= e < b + 16, the base is
floor(10^b * 2^(126 - floor(log2 10^b)) * 2^64) (191 bits, three words, high first), and g(k)
is that base times 5^(e - b), shifted right to 127 bits and rounded up (lambda__jw_pow10).
This script checks that reconstruction against the exact g(k) for every k, with exact
integer arithmetic (fractions), then prints both tables; tests/test_json.c recomputes every
g(k) with its own big integers. Usage: tools/json_pow10.py > rows.txt (then paste).
"""
import math
from fractions import Fraction

KMIN, KMAX = -324, 292
EMIN, EMAX = -KMAX, -KMIN  # e = -k
STEP = 16                  # a shift and a mask find the base


def flog2pow10(e):
    """floor(log2(10^e)), exactly"""
    x = Fraction(10) ** e
    f = math.floor(e * math.log2(10))
    while Fraction(2) ** f > x:
        f -= 1
    while Fraction(2) ** (f + 1) <= x:
        f += 1
    return f


def scaled(e):
    """10^e * 2^(126 - floor(log2 10^e)), in [2^126, 2^127)"""
    return Fraction(10) ** e * Fraction(2) ** (126 - flog2pow10(e))


bases = []
for b in range(EMIN, EMAX + 1, STEP):
    x = scaled(b) * 2 ** 64
    # the C code takes a base as exact exactly when 0 <= b < 83 (10^b 2^(190 - f) is an integer)
    assert (x.denominator == 1) == (0 <= b < 83)
    bases.append((b, math.floor(x), x.denominator == 1))

for e in range(EMIN, EMAX + 1):
    b, base, exact = bases[(e - EMIN) // STEP]
    r = e - b
    p = base * 5 ** r
    s = 64 + flog2pow10(e) - flog2pow10(b) - r
    assert 64 <= s <= 127
    g = (p >> s) + (1 if (p & ((1 << s) - 1)) or not exact else 0)
    want = math.ceil(scaled(e))
    assert g == want and 2 ** 126 <= want <= 2 ** 127, e

m = 2 ** 64 - 1
print("static const uint64_t lambda__jw_p10[%d][3] = {" % len(bases))
for b, base, exact in bases:
    print("    {0x%016xu, 0x%016xu, 0x%016xu}, /* 10^%d */" % (base >> 128, (base >> 64) & m, base & m, b))
print("};")
print("static const uint64_t lambda__jw_p5[%d] = {" % STEP)
row = []
for r in range(STEP):
    row.append("0x%xu" % 5 ** r)
for i in range(0, STEP, 4):
    print("    " + ", ".join(row[i:i + 4]) + ",")
print("};")
