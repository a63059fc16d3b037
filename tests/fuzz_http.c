/* libFuzzer target: the HTTP response head parser and the chunked decoder.
   The first byte picks a split step so that the decoder also sees the input in pieces;
   whole-input and split decoding must agree. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static int decode(const unsigned char *data, size_t len, size_t step, char *buf, size_t *out_len, size_t *used)
{
    lambda__chunked d;
    size_t r = 0, w = 0, have = 0;
    int rc = LAMBDA__INCOMPLETE;
    memset(&d, 0, sizeof d);
    while (rc == LAMBDA__INCOMPLETE && have < len) {
        size_t n = len - have < step ? len - have : step;
        memcpy(buf + w + (have - r), data + have, n); /* raw bytes follow the undecoded rest */
        have += n;
        {
            size_t rr = w, end = w + (have - r);
            rc = lambda__chunked_decode(&d, buf, &rr, end, &w, 0, 1u << 20);
            r = have - (end - rr);
        }
    }
    *out_len = w;
    *used = r;
    return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    size_t step, end;
    char *buf;
    if (len < 1) return 0;
    step = 1 + data[0] % 17;
    data++;
    len--;
    buf = (char *)malloc(len + 1);
    /* head parser on the whole input and on the found head */
    memcpy(buf, data, len);
    end = lambda__head_end(buf, len, 0);
    if (end) {
        lambda__head h;
        if (lambda__parse_head(buf, end, &h) == 0) {
            int k;
            for (k = 0; k < LAMBDA__H_COUNT; k++)
                if (h.present & (1u << k))
                    if (h.off[k] + h.len[k] >= end || buf[h.off[k] + h.len[k]] != '\0') __builtin_trap();
            if (h.status < 100 || h.status > 999) __builtin_trap();
        }
    }
    /* chunked decoder: whole vs split must agree */
    {
        char *a = (char *)malloc(len + 1), *b = (char *)malloc(len + 1);
        size_t la = 0, lb = 0, ua = 0, ub = 0;
        int ra = decode(data, len, len ? len : 1, a, &la, &ua);
        int rb = decode(data, len, step, b, &lb, &ub);
        if (ra != rb) __builtin_trap();
        if ((ra == 0 || ra == LAMBDA__INCOMPLETE) && (la != lb || memcmp(a, b, la) != 0)) __builtin_trap();
        if (ra == 0 && ua != ub) __builtin_trap();
        free(a);
        free(b);
    }
    free(buf);
    return 0;
}
