/* The CIFAR-10 JPEG folder in the shared data area, opened as a folder
 * dataset with a small limit: skipped (77) when the folder is absent. */
#include <unistd.h>

#include "check.h"
#include "data/data.h"

#define ROOT "/work/shared/data/cifar10"

int main(void)
{
    if (access(ROOT "/train", R_OK) != 0 || access(ROOT "/test", R_OK) != 0) {
        printf("skip: %s is not there\n", ROOT);
        return 77;
    }
    static const char *const names[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                          "dog",      "frog",       "horse", "ship", "truck"};
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_open("folder:" ROOT, "train", 200, &d));
    if (!d) return check_summary("dataset_cifar10");
    CHECK(fn_dataset_count(d) == 200, "200 images, got %d", fn_dataset_count(d));
    CHECK(fn_dataset_channels(d) == 3 && fn_dataset_height(d) == 32 && fn_dataset_width(d) == 32,
          "32x32 RGB");
    CHECK(fn_dataset_classes(d) == 10, "10 classes");
    for (int k = 0; k < 10 && k < fn_dataset_classes(d); k++)
        CHECK(strcmp(fn_dataset_class_name(d, k), names[k]) == 0, "class %d is %s", k, names[k]);
    int hist[10] = {0};
    for (int i = 0; i < fn_dataset_count(d); i++)
        hist[fn_dataset_label(d, i)]++;
    for (int k = 0; k < 10; k++)
        CHECK(hist[k] == 20, "20 of class %d, got %d", k, hist[k]);
    CHECK(strcmp(fn_dataset_name(d), "cifar10") == 0, "named after the folder");
    float m[3], s[3];
    fn_dataset_default_norm(d, m, s);
    for (int k = 0; k < 3; k++)
        CHECK(m[k] > 0.35f && m[k] < 0.6f && s[k] > 0.15f && s[k] < 0.35f,
              "channel %d statistics look like CIFAR-10: mean %g std %g", k, m[k], s[k]);

    /* A loader over it, one augmented epoch. */
    fn_loader_opts o = {.batch = 64, .shuffle = 1, .augment = 1, .seed = 7};
    fn_loader *l = NULL;
    CHECK_OK(fn_loader_create(d, &o, &l));
    if (l) {
        CHECK_OK(fn_loader_start(l, 0, 0));
        int total = 0, count;
        const float *x;
        const int32_t *y;
        do {
            CHECK_OK(fn_loader_next(l, &x, &y, &count));
            total += count;
        } while (count > 0);
        CHECK(total == 200, "one epoch sees 200 images");
        fn_loader_free(l);
    }
    fn_dataset_free(d);

    CHECK_OK(fn_dataset_open("folder:" ROOT, "test", 100, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 100 && fn_dataset_classes(d) == 10, "test split, 100");
        fn_dataset_free(d);
    }
    return check_summary("dataset_cifar10");
}
