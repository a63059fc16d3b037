/* tests/guard_page.h - copies an input so that its last byte is the last readable byte
   before a PROT_NONE page: a parser that reads one byte too far crashes at once.
   Needs _DEFAULT_SOURCE (MAP_ANONYMOUS) before the first system header. */
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static char *guard_base;
static size_t guard_page;

/* Returns the copy, or NULL if len is over 4 pages or mmap failed. */
static char *guarded(const char *src, size_t len)
{
    if (guard_base == NULL) {
        guard_page = (size_t)sysconf(_SC_PAGESIZE);
        guard_base = (char *)mmap(NULL, guard_page * 5, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (guard_base == MAP_FAILED) {
            guard_base = NULL;
            return NULL;
        }
        mprotect(guard_base + guard_page * 4, guard_page, PROT_NONE);
    }
    if (len > guard_page * 4) return NULL;
    memcpy(guard_base + guard_page * 4 - len, src, len);
    return guard_base + guard_page * 4 - len;
}
