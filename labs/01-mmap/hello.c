/* hello.c - Lab 01 demo: greet through a page of shared memory.
 *
 * Usage: ./hello
 * Should print exactly one line and exit with status 0:
 *   Shared memory: Hello from user space
 */
#include "zmap.h"

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    /* TODO (handout §7): map one page with zmap_alloc, write the greeting
     * for "user space" into it with zmap_greet, print it as above, unmap
     * it. If any step fails: perror() and return EXIT_FAILURE. */
    fprintf(stderr, "hello: not implemented yet\n");
    return EXIT_FAILURE;
}
