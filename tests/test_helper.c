/* A helper for the shell tests (not a test itself):
 *   test_helper mnist DIR        writes the tiny dataset of tiny_mnist.h (240 train, 90 test)
 *   test_helper same A B         exit 0 when two safetensors files hold the same tensors, bit
 *                                for bit (metadata aside), else 1 naming the first difference
 *   test_helper finite A         exit 0 when every tensor of A converts to finite floats
 *   test_helper tensors A        prints the tensor count of A (exit 1 if unreadable)
 *   test_helper close A B TOL    exit 0 when A and B hold the same tensors and every value
 *                                differs by at most TOL x the largest magnitude of its
 *                                tensor in A; prints the largest such ratio
 *   test_helper close A B TOL ONLY [BUT]  the same over the tensors whose names contain one
 *                                of the comma-separated parts of ONLY ("": all) and none
 *                                of BUT's (at least one must be compared) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "tiny_mnist.h"

static int same(const char *a, const char *b)
{
    fn_st_file *fa = NULL, *fb = NULL;
    if (fn_st_open(a, &fa) != FN_OK || fn_st_open(b, &fb) != FN_OK) {
        fprintf(stderr, "%s\n", fn_last_error());
        return 2;
    }
    int rc = 0;
    if (fn_st_count(fa) != fn_st_count(fb)) {
        fprintf(stderr, "%d tensors against %d\n", fn_st_count(fa), fn_st_count(fb));
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < fn_st_count(fa); i++) {
        const fn_st_tensor *t = fn_st_tensor_at(fa, i), *u = fn_st_find(fb, t->name);
        if (!u || u->nbytes != t->nbytes || memcmp(u->data, t->data, t->nbytes) != 0) {
            fprintf(stderr, "tensor %s differs\n", t->name);
            rc = 1;
        }
    }
    fn_st_close(fa);
    fn_st_close(fb);
    return rc;
}

static int all_finite(const char *a)
{
    fn_st_file *f = NULL;
    if (fn_st_open(a, &f) != FN_OK) {
        fprintf(stderr, "%s\n", fn_last_error());
        return 2;
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < fn_st_count(f); i++) {
        const fn_st_tensor *t = fn_st_tensor_at(f, i);
        size_t n = fn_st_numel(t);
        float *v = malloc(sizeof(float) * (n ? n : 1));
        if (!v || fn_st_get_f32(f, t->name, v, n) != FN_OK) rc = 2;
        for (size_t j = 0; rc == 0 && j < n; j++)
            if (!isfinite(v[j])) {
                fprintf(stderr, "%s[%zu] is not finite\n", t->name, j);
                rc = 1;
            }
        free(v);
    }
    fn_st_close(f);
    return rc;
}

/* Whether name contains one of list's comma-separated parts. */
static int name_has(const char *name, const char *list)
{
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        for (const char *s = name; n && *s; s++)
            if (strncmp(s, p, n) == 0) return 1;
        p += n + (e != NULL);
    }
    return 0;
}

static int close_to(const char *a, const char *b, double tol, const char *only, const char *but)
{
    fn_st_file *fa = NULL, *fb = NULL;
    if (fn_st_open(a, &fa) != FN_OK || fn_st_open(b, &fb) != FN_OK) {
        fprintf(stderr, "%s\n", fn_last_error());
        return 2;
    }
    int rc = fn_st_count(fa) == fn_st_count(fb) ? 0 : 1;
    double worst = 0;
    const char *where = "";
    int compared = 0;
    for (int i = 0; rc == 0 && i < fn_st_count(fa); i++) {
        const fn_st_tensor *t = fn_st_tensor_at(fa, i);
        if ((*only && !name_has(t->name, only)) || name_has(t->name, but)) continue;
        compared++;
        size_t n = fn_st_numel(t);
        float *u = malloc(sizeof(float) * (n ? n : 1)), *v = malloc(sizeof(float) * (n ? n : 1));
        if (!u || !v || fn_st_get_f32(fa, t->name, u, n) != FN_OK ||
            fn_st_get_f32(fb, t->name, v, n) != FN_OK) {
            fprintf(stderr, "tensor %s: missing or another shape in %s\n", t->name, b);
            rc = 1;
        }
        double big = 0, diff = 0;
        for (size_t j = 0; rc == 0 && j < n; j++) {
            if (fabs(u[j]) > big) big = fabs(u[j]);
            if (fabs((double)u[j] - v[j]) > diff || isnan(v[j])) diff = fabs((double)u[j] - v[j]);
        }
        double ratio = big > 0 ? diff / big : diff;
        if (rc == 0 && (ratio > worst || isnan(ratio))) {
            worst = ratio;
            where = t->name;
        }
        free(u);
        free(v);
    }
    printf("largest difference %.3g of the tensor's magnitude (%s) in %d tensors\n", worst, where,
           compared);
    if (rc == 0 && (!(worst <= tol) || compared == 0)) rc = 1;
    fn_st_close(fa);
    fn_st_close(fb);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "mnist") == 0) {
        tiny_write_split(argv[2], "train", 240, 1);
        tiny_write_split(argv[2], "t10k", 90, 2);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "same") == 0) return same(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "finite") == 0) return all_finite(argv[2]);
    if (argc >= 5 && argc <= 7 && strcmp(argv[1], "close") == 0)
        return close_to(argv[2], argv[3], atof(argv[4]), argc > 5 ? argv[5] : "",
                        argc > 6 ? argv[6] : "");
    if (argc == 3 && strcmp(argv[1], "tensors") == 0) {
        fn_st_file *f = NULL;
        if (fn_st_open(argv[2], &f) != FN_OK) return 1;
        printf("%d\n", fn_st_count(f));
        fn_st_close(f);
        return 0;
    }
    fprintf(stderr,
            "usage: test_helper mnist DIR | same A B | close A B TOL [ONLY [BUT]] | finite A | "
            "tensors A\n");
    return 2;
}
