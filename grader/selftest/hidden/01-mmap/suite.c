/* suite.c - hidden tests for Lab 01: an example of an instructor-only
 * suite (make grade HIDDEN=grader/selftest/hidden). Students do not see
 * these tests; Gradescope shows them after the grades are published.
 */
#define _DEFAULT_SOURCE
#include "hx.h"
#include "zmap.h"

#include <stdint.h>
#include <sys/mman.h>

TEST(round_many_pages, 1, "§3")
{
    size_t pg = hx_page();

    EXPECT_SIZE("zmap_round(1000 pages - 1)", zmap_round(1000 * pg - 1), 1000 * pg);
}

TEST(greet_empty_name, 2, "§7")
{
    char buf[32];

    EXPECT_INT("zmap_greet(buf, 32, \"\")", zmap_greet(buf, sizeof buf, ""), 11);
    EXPECT_STR("the greeting for \"\"", buf, "Hello from ");
}

const struct hx_part hx_parts[] = {
    { "extra checks", { &round_many_pages, &greet_empty_name } },
    { NULL, { NULL } },
};
