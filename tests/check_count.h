/* The counting CHECK and the summary line of tests/check.h, without its
 * device helpers: for tests that link no OpenCL (the viewer's drawing and
 * widgets) as well as for check.h itself. */
#ifndef FN_CHECK_COUNT_H
#define FN_CHECK_COUNT_H

#include <stdio.h>

static int check_count, check_failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* "NAME: N checks, N failed"; non-zero when a check failed or none ran. */
static inline int check_summary(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failed);
    return check_failed ? 1 : (check_count ? 0 : 1);
}

#endif
