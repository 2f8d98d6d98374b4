/* hello.c - Lab 01 demo: greet through a page of shared memory.
 *
 * Usage: ./hello
 * Maps one page from /dev/zero, writes a greeting into it, prints it:
 *   Shared memory: Hello from user space
 */
#include "zmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    size_t size = zmap_round(1);
    char *page = zmap_alloc(size);

    if (page == NULL) {
        perror("zmap_alloc");
        return EXIT_FAILURE;
    }
    if (zmap_greet(page, size, "user space") == -1) {
        perror("zmap_greet");
        zmap_free(page, size);
        return EXIT_FAILURE;
    }
    /* printf only fills stdout's buffer: a failed write shows at fflush */
    if (printf("Shared memory: %s\n", page) < 0 || fflush(stdout) == EOF) {
        perror("stdout");
        zmap_free(page, size);
        return EXIT_FAILURE;
    }
    if (zmap_free(page, size) == -1) {
        perror("zmap_free");
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
