/* Debian's real Fashion-MNIST files (package fashion-mnist): skipped (77)
 * when they are not installed. */
#include <unistd.h>

#include "check.h"
#include "data/data.h"

int main(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (access(dir, R_OK) != 0) {
        printf("skip: %s is not installed\n", dir);
        return 77;
    }
    unsetenv("FOCUSNET_FASHION_MNIST_DIR");
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_open("fashion-mnist", "test", 0, &d));
    if (!d) return check_summary("dataset_fashion");
    CHECK(fn_dataset_count(d) == 10000, "10000 test images, got %d", fn_dataset_count(d));
    CHECK(fn_dataset_channels(d) == 1 && fn_dataset_height(d) == 28 && fn_dataset_width(d) == 28,
          "28x28 gray");
    CHECK(fn_dataset_classes(d) == 10, "10 classes");
    int hist[10] = {0};
    for (int i = 0; i < fn_dataset_count(d); i++) {
        int y = fn_dataset_label(d, i);
        if (y >= 0 && y < 10) hist[y]++;
    }
    for (int k = 0; k < 10; k++)
        CHECK(hist[k] == 1000, "class %d (%s): %d images, 1000 expected", k,
              fn_dataset_class_name(d, k), hist[k]);
    CHECK(strcmp(fn_dataset_class_name(d, 0), "T-shirt/top") == 0 &&
              strcmp(fn_dataset_class_name(d, 9), "Ankle boot") == 0,
          "class names");
    /* The first test image is an ankle boot (label 9). */
    CHECK(fn_dataset_label(d, 0) == 9, "first test label is 9, got %d", fn_dataset_label(d, 0));
    double sum = 0;
    for (int i = 0; i < fn_dataset_count(d); i++) {
        const uint8_t *im = fn_dataset_image(d, i);
        for (int k = 0; k < 28 * 28; k++)
            sum += im[k];
    }
    double mean = sum / (10000.0 * 784 * 255);
    CHECK(fabs(mean - 0.2860) < 0.01, "pixel mean %g is near the customary 0.2860", mean);
    fn_dataset_free(d);

    /* The training split, limited: 100 of each class. */
    CHECK_OK(fn_dataset_open("fashion-mnist", "train", 1000, &d));
    if (d) {
        int h[10] = {0};
        for (int i = 0; i < fn_dataset_count(d); i++)
            h[fn_dataset_label(d, i)]++;
        int even = fn_dataset_count(d) == 1000;
        for (int k = 0; k < 10; k++)
            even &= h[k] == 100;
        CHECK(even, "limit 1000 takes 100 per class");
        fn_dataset_free(d);
    }
    return check_summary("dataset_fashion");
}
