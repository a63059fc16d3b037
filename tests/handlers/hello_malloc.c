/* hello_malloc.c - examples/hello with the C library's allocator linked in, as most real
   handlers have it: the second case of the size budget in tests/test_features.c. */
#define main hello_main /* malloc/free: stdlib.h comes with the runtime header */
#include "../../examples/hello/main.c"
#undef main

int main(void)
{
    void *volatile p = malloc(64); /* volatile: the call must stay */
    free(p);
    return hello_main();
}
