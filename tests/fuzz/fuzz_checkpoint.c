/* libFuzzer target: focusnet's reading of checkpoints (model description,
 * class names, normalization, history, tensors against the model) and of
 * training states (configuration, position, momentum), without a device. */
#include "train/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_model_config cfg;
    fn_checkpoint_read_config_mem("fuzz.safetensors", data, size, &cfg);
    fn_train_state_read_mem("fuzz-state.safetensors", data, size);
    return 0;
}
