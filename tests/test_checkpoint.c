/* A checkpoint written by PyTorch (tests/fixtures/make_torch_checkpoint.py)
 * loads, and predicts what PyTorch predicted for the same inputs. */
#include "check.h"
#include "io/file.h"

int main(void)
{
    const char *src = getenv("FOCUSNET_SOURCE_DIR");
    char ckpt[1024], expect[1024];
    snprintf(ckpt, sizeof ckpt, "%s/tests/fixtures/torch_lenet5.safetensors", src ? src : ".");
    snprintf(expect, sizeof expect, "%s/tests/fixtures/torch_lenet5.expect", src ? src : ".");
    uint8_t *bytes = NULL;
    size_t size = 0;
    CHECK_OK(fn_file_read(expect, 1 << 20, &bytes, &size));
    const size_t nx = 2 * 28 * 28, nz = 2 * 10;
    CHECK(size == (nx + nz) * sizeof(float), "%s holds inputs and logits", expect);
    if (size != (nx + nz) * sizeof(float))
        return check_summary("test_checkpoint");
    const float *x = (const float *)bytes, *want = x + nx;
    fn_device *dev = test_device();
    fn_model *m = NULL;
    CHECK_OK(fn_checkpoint_load(dev, ckpt, NULL, 2, 0, &m));
    if (m) {
        float got[20];
        CHECK_OK(fn_model_predict(m, x, 2, got));
        check_close("torch logits", got, want, nz, 1e-5f, 1e-4f);
        CHECK(strcmp(fn_model_class_name(m, 9), "Ankle boot") == 0, "class names from metadata");
        CHECK(strcmp(fn_model_dataset(m), "fashion-mnist") == 0, "dataset from metadata");
        float mean[3], std[3];
        fn_model_normalization(m, mean, std);
        CHECK(fabsf(mean[0] - 0.286f) < 1e-6f && fabsf(std[2] - 0.353f) < 1e-6f, "normalization");
        fn_model_free(m);
    }
    free(bytes);
    fn_device_free(dev);
    return check_summary("test_checkpoint");
}
