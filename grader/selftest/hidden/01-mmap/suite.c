/* suite.c - hidden tests for Lab 01: an example of an instructor-only
 * suite (make grade HIDDEN=grader/selftest/hidden). Students do not see
 * these tests; Gradescope shows them after the grades are published. Like
 * the public suite, it is a checker (grader/checker/cx.h): it asks a
 * subject running the handin code to make the calls (grader/suites/
 * 01-mmap/ops.h) and judges the replies.
 */
#define _DEFAULT_SOURCE
#include "cx.h"
#include "hx.h"
#include "ops.h"

#include <stdint.h>

TEST(round_many_pages, 1, "§3")
{
    struct cx_subject s;
    struct sx_req q = { .op = SX01_ROUND, .a = { 1000 * cx_page() - 1 } };
    struct sx_rep r;

    cx_start(&s, NULL);
    cx_call(&s, "zmap_round(1000 pages - 1)", &q, &r);
    EXPECT_SIZE("zmap_round(1000 pages - 1)", (size_t)r.ret, 1000 * cx_page());
    cx_end(&s);
}

TEST(greet_empty_name, 2, "§7")
{
    struct cx_subject s;
    struct sx_req q = { .op = SX01_GREET, .a = { 32 } };
    struct sx_rep r;

    cx_start(&s, NULL);
    cx_call(&s, "zmap_greet(buf, 32, \"\")", &q, &r);
    EXPECT_INT("zmap_greet(buf, 32, \"\")", r.ret, 11);
    EXPECT_STR("the greeting for \"\"", r.data, "Hello from ");
    cx_end(&s);
}

const struct hx_part hx_parts[] = {
    { "extra checks", { &round_many_pages, &greet_empty_name } },
    { NULL, { NULL } },
};
