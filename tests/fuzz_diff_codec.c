/* libFuzzer target, differential: lambda_base64_decode, lambda_base64_encode,
   lambda_percent_decode (path and form styles) and lambda_utf8_valid against reference
   implementations written here, straight from the specifications and shaped differently
   from the header's code (a bit accumulator for base64, an ABNF walk for UTF-8):
     base64   RFC 4648 section 4 (standard alphabet), padding as the header documents it:
              optional, but when present it completes the last quantum (section 3.2), no
              characters outside the alphabet (section 3.3: no whitespace, no URL alphabet),
              and the unused bits of the last character are zero (section 3.5, canonical);
     percent  RFC 3986 section 2.1: "%" HEXDIG HEXDIG is one byte, hex digits in either
              case; any other '%' is an error (the header's rule: nothing half-decoded); in
              form style (application/x-www-form-urlencoded) '+' is a space, "%2B" a '+';
     UTF-8    RFC 3629 section 4 (UTF8-octets), err_offset = where the first ill-formed
              sequence starts.
   Every call is made with four output sizes (exact, one byte short, NULL/0, roomy) and in
   place; return code, *out_len, the bytes, the NUL and "" on failure must all match what
   the header documents for that size. Any difference is a __builtin_trap().
   Every input is read as base64 text, as bytes to encode, as percent-encoded text in both
   styles and as UTF-8. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

/* a failed check names its line, then traps */
#define CHECK(c) ((c) ? (void)0 : fail(__LINE__))
static void fail(int line)
{
    fprintf(stderr, "%s:%d: undocumented difference\n", __FILE__, line);
    __builtin_trap();
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* value[c]: the value of base64 character c, or -1; hexv[c] likewise for hex digits. Both
   filled once by searching the alphabets: no range arithmetic shared with the header. */
static signed char b64v[256], hexv[256];

static void ref_tables(void)
{
    static const char digits[] = "0123456789abcdef0123456789ABCDEF";
    int c, i;
    for (c = 0; c < 256; c++) {
        b64v[c] = hexv[c] = -1;
        for (i = 0; i < 64; i++)
            if ((unsigned char)b64_alphabet[i] == c) b64v[c] = (signed char)i;
        for (i = 0; i < 32; i++)
            if ((unsigned char)digits[i] == c) hexv[c] = (signed char)(i % 16);
    }
}

static int ref_b64_value(unsigned char c)
{
    return b64v[c];
}

static int ref_hex(unsigned char c)
{
    return hexv[c];
}

/* RFC 4648 decoding with the header's padding rules. Returns the byte count, or -1. */
static long ref_b64_decode(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t pad = 0, i, body;
    unsigned long acc = 0;
    int bits = 0;
    long w = 0;
    while (pad < n && s[n - 1 - pad] == '=') pad++;
    if (pad > 2) return -1;              /* at most "==" (section 3.2) */
    if (pad && n % 4 != 0) return -1;    /* padding present: it completes a 4-character group */
    body = n - pad;
    for (i = 0; i < body; i++) {
        int v = ref_b64_value(s[i]);
        if (v < 0) return -1;            /* '=' inside, whitespace, '-', '_', anything else */
        acc = ((acc << 6) | (unsigned long)v) & 0xffffu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[w++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 6) return -1;                           /* one character alone: 6 bits */
    if (acc & ((1ul << bits) - 1)) return -1;           /* non-zero unused bits (3.5) */
    return w;
}

/* RFC 4648 encoding, padded. Returns the character count. */
static size_t ref_b64_encode(const unsigned char *p, size_t n, char *out)
{
    unsigned long acc = 0;
    int bits = 0;
    size_t i, w = 0;
    for (i = 0; i < n; i++) {
        acc = ((acc << 8) | p[i]) & 0xffffu;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[w++] = b64_alphabet[(acc >> bits) & 63];
        }
    }
    if (bits) out[w++] = b64_alphabet[(acc << (6 - bits)) & 63];
    while (w % 4) out[w++] = '=';
    return w;
}

/* RFC 3986 percent-decoding; form: '+' is a space. Returns the byte count, or -1. */
static long ref_percent(const unsigned char *s, size_t n, int form, unsigned char *out)
{
    size_t i = 0;
    long w = 0;
    while (i < n) {
        if (s[i] == '%') {
            int hi = i + 1 < n ? ref_hex(s[i + 1]) : -1, lo = i + 2 < n ? ref_hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return -1;
            out[w++] = (unsigned char)(hi * 16 + lo);
            i += 3;
        } else {
            out[w++] = form && s[i] == '+' ? ' ' : s[i];
            i++;
        }
    }
    return w;
}

/* RFC 3629 section 4, UTF8-char alternatives in order. Length of the sequence at s, or 0. */
static size_t ref_utf8_char(const unsigned char *s, size_t n)
{
    /* lead range, then the allowed range of the second byte; the rest are UTF8-tail */
    static const struct {
        unsigned char lo, hi, lo2, hi2, len;
    } alt[] = {
        {0x00, 0x7F, 0, 0, 1},       {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
        {0xE1, 0xEC, 0x80, 0xBF, 3}, {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3},
        {0xF0, 0xF0, 0x90, 0xBF, 4}, {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
    };
    size_t a, k;
    for (a = 0; a < sizeof alt / sizeof alt[0]; a++) {
        if (s[0] < alt[a].lo || s[0] > alt[a].hi) continue;
        if (alt[a].len == 1) return 1;
        if (n < alt[a].len || s[1] < alt[a].lo2 || s[1] > alt[a].hi2) return 0;
        for (k = 2; k < alt[a].len; k++)
            if (s[k] < 0x80 || s[k] > 0xBF) return 0;
        return alt[a].len;
    }
    return 0;
}

/* One decoder call with output room `cap` (out NULL when cap is 0) against the reference
   result want[0..want_len) (want_len < 0: the input is invalid).
   kind: 0 base64, 1 percent path, 2 percent form. */
static void check_decode(int kind, const char *s, size_t n, size_t cap, const unsigned char *want,
                         long want_len)
{
    char *out = cap ? (char *)malloc(cap) : NULL;
    size_t got = 12345;
    int rc;
    if (kind == 0) rc = lambda_base64_decode(s, n, out, cap, &got);
    else rc = lambda_percent_decode(s, n, kind == 1 ? LAMBDA_PERCENT_PATH : LAMBDA_PERCENT_FORM,
                                    out, cap, &got);
    if (want_len < 0) {
        CHECK(rc == LAMBDA_E_SYNTAX && got == 0);
        CHECK(cap == 0 || out[0] == '\0');
    } else if ((size_t)want_len + 1 > cap) {
        CHECK(rc == LAMBDA_E_SPACE && got == (size_t)want_len);
        CHECK(cap == 0 || out[0] == '\0');
    } else {
        CHECK(rc == 0 && got == (size_t)want_len);
        CHECK(memcmp(out, want, got) == 0 && out[got] == '\0');
    }
    free(out);
}

/* The same decoder in place (out == s, room n + 1) must give the reference result too. */
static void check_in_place(int kind, const char *s, size_t n, const unsigned char *want,
                           long want_len)
{
    char *buf = (char *)malloc(n + 1);
    size_t got = 0;
    int rc;
    memcpy(buf, s, n);
    if (kind == 0) rc = lambda_base64_decode(buf, n, buf, n + 1, &got);
    else rc = lambda_percent_decode(buf, n, kind == 1 ? LAMBDA_PERCENT_PATH : LAMBDA_PERCENT_FORM,
                                    buf, n + 1, &got);
    if (want_len < 0) CHECK(rc == LAMBDA_E_SYNTAX && buf[0] == '\0');
    else CHECK(rc == 0 && got == (size_t)want_len && memcmp(buf, want, got) == 0 && buf[got] == 0);
    free(buf);
}

static void check_decoder(int kind, const char *s, size_t n)
{
    unsigned char *want = (unsigned char *)malloc(n + 1);
    long wl = kind == 0 ? ref_b64_decode((const unsigned char *)s, n, want)
                        : ref_percent((const unsigned char *)s, n, kind == 2, want);
    size_t exact = wl < 0 ? 1 : (size_t)wl + 1;
    check_decode(kind, s, n, exact, want, wl);      /* exactly enough */
    check_decode(kind, s, n, exact - 1, want, wl);  /* one byte short (0: NULL) */
    check_decode(kind, s, n, 0, want, wl);          /* a size query */
    check_decode(kind, s, n, n + 8, want, wl);      /* room to spare */
    check_in_place(kind, s, n, want, wl);
    free(want);
}

static void check_encoder(const unsigned char *p, size_t n)
{
    size_t need = (n + 2) / 3 * 4, caps[4], i;
    char *want = (char *)malloc(need + 1);
    CHECK(ref_b64_encode(p, n, want) == need);
    caps[0] = need + 1;
    caps[1] = need;
    caps[2] = 0;
    caps[3] = need + 9;
    for (i = 0; i < 4; i++) {
        char *out = caps[i] ? (char *)malloc(caps[i]) : NULL;
        size_t got = 12345;
        int rc = lambda_base64_encode(p, n, out, caps[i], &got);
        CHECK(got == need);
        if (need + 1 > caps[i]) {
            CHECK(rc == LAMBDA_E_SPACE && (caps[i] == 0 || out[0] == '\0'));
        } else {
            CHECK(rc == 0 && memcmp(out, want, need) == 0 && out[need] == '\0');
            /* and the reference decoder reads it back */
            {
                unsigned char *back = (unsigned char *)malloc(n + 1);
                CHECK(ref_b64_decode((const unsigned char *)out, need, back) == (long)n);
                CHECK(n == 0 || memcmp(back, p, n) == 0);
                free(back);
            }
        }
        free(out);
    }
    free(want);
}

static void check_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0, k, off = 12345;
    int rc = lambda_utf8_valid((const char *)p, n, &off);
    while (i < n && (k = ref_utf8_char(p + i, n - i)) != 0) i += k;
    if (i == n) CHECK(rc == 0 && off == 0);
    else CHECK(rc == LAMBDA_E_UTF8 && off == i);
    CHECK(lambda_utf8_valid((const char *)p, n, NULL) == rc);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    char *s = (char *)malloc(len ? len : 1); /* exactly the input: an over-read is caught */
    static int ready;
    if (!ready) ref_tables(), ready = 1;
    memcpy(s, data, len);
    check_decoder(0, s, len);
    check_decoder(1, s, len);
    check_decoder(2, s, len);
    check_encoder(data, len);
    check_utf8(data, len);
    free(s);
    return 0;
}
