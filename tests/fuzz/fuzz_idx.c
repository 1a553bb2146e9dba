/* libFuzzer target: IDX files (raw or gzipped), alone and as a dataset. */
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_idx x;
    if (fn_idx_read_mem("fuzz.idx", data, size, &x) == FN_OK) {
        /* A partner file of the other kind with as many items, so that the
         * dataset builder sees this one in both roles it can have. */
        uint32_t n = x.dims[0] < 4096 ? x.dims[0] : 0;
        size_t other_size = x.ndims == 3 ? 8 + (size_t)n : 16 + (size_t)n;
        uint8_t *other = n ? calloc(other_size, 1) : NULL;
        if (other) {
            uint8_t *p = other;
            uint32_t hdr[4] = {x.ndims == 3 ? 0x801u : 0x803u, n, 1, 1};
            for (int i = 0; i < (x.ndims == 3 ? 2 : 4); i++, p += 4) {
                p[0] = (uint8_t)(hdr[i] >> 24);
                p[1] = (uint8_t)(hdr[i] >> 16);
                p[2] = (uint8_t)(hdr[i] >> 8);
                p[3] = (uint8_t)hdr[i];
            }
            fn_dataset *d = NULL;
            if (x.ndims == 3)
                fn_dataset_from_idx_mem("fuzz", data, size, other, other_size, 256, &d);
            else
                fn_dataset_from_idx_mem("fuzz", other, other_size, data, size, 10, &d);
            fn_dataset_free(d);
            free(other);
        }
    }
    fn_idx_free(&x);
    return 0;
}
