/* libFuzzer target: PNG, JPEG and BMP files, and turning them into network
 * inputs of a few shapes (resampling, channel conversion). */
#include <stdlib.h>

#include "data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_image img;
    if (fn_image_load_mem("fuzz.img", data, size, &img) == FN_OK) {
        static const int shapes[3][3] = {{3, 5, 5}, {1, 28, 28}, {3, 32, 17}};
        static float out[3 * 32 * 32];
        for (int i = 0; i < 3; i++)
            fn_image_to_input(&img, shapes[i][0], shapes[i][1], shapes[i][2], NULL, NULL, out);
    }
    fn_image_free(&img);
    return 0;
}
