#!/usr/bin/env python3
"""tools/json_pow10.py - the table of lambda_json_write_double (lambda__jw_g in lambda_runtime.h).

Row k - KMIN, for k = -324 .. 292, is g(k) = ceil(10^-k * 2^(126 - f)) with
f = floor(log2(10^-k)), a 127-bit integer in [2^126, 2^127], as {high 64 bits, low 64 bits}.
Exact integer arithmetic (fractions), two rows per line. tests/test_json.c recomputes every
row with its own big integers. Usage: tools/json_pow10.py > rows.txt (then paste).
"""
import math
from fractions import Fraction

KMIN, KMAX = -324, 292


def flog2pow10(e):
    """floor(log2(10^e)), exactly"""
    x = Fraction(10) ** e
    f = math.floor(e * math.log2(10))
    while Fraction(2) ** f > x:
        f -= 1
    while Fraction(2) ** (f + 1) <= x:
        f += 1
    return f


rows = []
for k in range(KMIN, KMAX + 1):
    r = 126 - flog2pow10(-k)
    x = Fraction(10) ** (-k) * Fraction(2) ** r
    g = math.ceil(x)
    assert 2 ** 126 <= x < 2 ** 127 and g <= 2 ** 127
    rows.append("{0x%016xu, 0x%016xu}" % (g >> 64, g & (2 ** 64 - 1)))
for i in range(0, len(rows), 2):
    print("    " + ", ".join(rows[i:i + 2]) + ",")
