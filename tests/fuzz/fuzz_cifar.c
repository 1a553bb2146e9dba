/* libFuzzer target: CIFAR-10 and CIFAR-100 binary batches, then what a
 * dataset does with them (limit, normalization). */
#include "data/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int hundred = 0; hundred < 2; hundred++) {
        fn_dataset *d = NULL;
        if (fn_dataset_from_cifar_mem("fuzz.bin", data, size, hundred, &d) == FN_OK) {
            float mean[3], std[3];
            fn_dataset_default_norm(d, mean, std);
            fn_dataset_apply_limit(d, 1 + (int)(size % 7));
        }
        fn_dataset_free(d);
    }
    return 0;
}
