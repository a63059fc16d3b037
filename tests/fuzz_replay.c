/* tests/fuzz_replay.c - runs a libFuzzer target without libFuzzer, for a platform that has
   no libFuzzer runtime (make arm64 runs fuzz_json this way under qemu, so that its checks
   see the NEON scanner): every file of the given corpus directories as it is, then N inputs
   made from them by random mutations (a fixed seed: every run is the same), each handed to
   LLVMFuzzerTestOneInput. A failed check in the target aborts or traps: the process dies
   without its summary line, and tests/run.sh counts a failure.
   cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -o fuzz_json_replay tests/fuzz_replay.c tests/fuzz_json.c
   Usage: fuzz_json_replay [-n MUTATED] [-s SEED] [-l MAXLEN] DIR... */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct unit { unsigned char *p; size_t n; } unit;
static unit *units;
static size_t nunits, capunits;
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int load(const char *path, size_t maxlen)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    size_t n;
    if (!f) return 0;
    p = (unsigned char *)malloc(maxlen ? maxlen : 1);
    if (!p) { fclose(f); return -1; }
    n = fread(p, 1, maxlen, f);
    fclose(f);
    if (nunits == capunits) {
        unit *u = (unit *)realloc(units, (capunits ? capunits * 2 : 256) * sizeof *u);
        if (!u) { free(p); return -1; }
        units = u;
        capunits = capunits ? capunits * 2 : 256;
    }
    units[nunits].p = p;
    units[nunits].n = n;
    nunits++;
    return 1;
}

/* one to four edits of a copy of a random unit into buf (room for maxlen bytes) */
static size_t mutate(unsigned char *buf, size_t maxlen)
{
    static const char dict[] = "{}[],:\"\\/0123456789eE+-. \t\r\nabfnrtu"
                               "truefalsenull\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80";
    const unit *u = &units[next() % nunits];
    size_t n = u->n, i, k, edits = 1 + next() % 4;
    memcpy(buf, u->p, n);
    for (k = 0; k < edits; k++) {
        size_t at = n ? (size_t)(next() % (n + 1)) : 0, len = 1 + (size_t)(next() % 16);
        switch (next() % 7) {
        case 0: /* flip a bit */
            if (at < n) buf[at] ^= (unsigned char)(1u << (next() % 8));
            break;
        case 1: /* a byte from the dictionary, or any byte */
            if (at < n) buf[at] = next() % 4 ? (unsigned char)dict[next() % (sizeof dict - 1)]
                                             : (unsigned char)next();
            break;
        case 2: /* insert dictionary bytes */
            if (len > maxlen - n) len = maxlen - n;
            memmove(buf + at + len, buf + at, n - at);
            for (i = 0; i < len; i++) buf[at + i] = (unsigned char)dict[next() % (sizeof dict - 1)];
            n += len;
            break;
        case 3: /* delete a range */
            if (len > n - at) len = n - at;
            memmove(buf + at, buf + at + len, n - at - len);
            n -= len;
            break;
        case 4: /* repeat a range (deeper nesting, longer runs) */
            if (at < n) {
                size_t from = next() % n;
                len = 1 + (size_t)(next() % 64);
                if (len > n - from) len = n - from;
                if (len > maxlen - n) len = maxlen - n;
                memmove(buf + at + len, buf + at, n - at);
                memmove(buf + at, buf + (from >= at ? from + len : from), len);
                n += len;
            }
            break;
        case 5: { /* splice: the tail of another unit */
            const unit *v = &units[next() % nunits];
            size_t from = v->n ? (size_t)(next() % v->n) : 0, take = v->n - from;
            if (take > maxlen - at) take = maxlen - at;
            memcpy(buf + at, v->p + from, take);
            n = at + take;
            break;
        }
        default: /* cut: every length matters at a 16/32/64-byte block edge */
            n = at;
            break;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    long mutated = 10000, i;
    size_t maxlen = 4096, files = 0;
    unsigned char *buf;
    int a;
    for (a = 1; a < argc && argv[a][0] == '-' && a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "-n") == 0) mutated = atol(argv[a + 1]);
        else if (strcmp(argv[a], "-s") == 0) rng = strtoull(argv[a + 1], NULL, 0) | 1;
        else if (strcmp(argv[a], "-l") == 0) maxlen = (size_t)atol(argv[a + 1]);
        else break;
    }
    if (a >= argc || maxlen == 0) {
        fprintf(stderr, "usage: %s [-n MUTATED] [-s SEED] [-l MAXLEN] DIR...\n", argv[0]);
        return 2;
    }
    for (; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        struct dirent *e;
        char path[4096];
        if (!d) { fprintf(stderr, "%s: cannot open\n", argv[a]); return 2; }
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (load(path, maxlen) < 0) { fprintf(stderr, "out of memory\n"); return 2; }
        }
        closedir(d);
    }
    if (nunits == 0) { fprintf(stderr, "no inputs\n"); return 2; }
    for (files = 0; files < nunits; files++) LLVMFuzzerTestOneInput(units[files].p, units[files].n);
    buf = (unsigned char *)malloc(maxlen);
    if (!buf) return 2;
    for (i = 0; i < mutated; i++) {
        size_t n = mutate(buf, maxlen);
        unsigned char *exact = (unsigned char *)malloc(n ? n : 1); /* no slack after the input */
        if (!exact) return 2;
        memcpy(exact, buf, n);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    printf("%zu files, %ld mutated inputs\n", files, mutated);
    printf("1 passed, 0 failed\n");
    return 0;
}
