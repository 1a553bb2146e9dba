/* CIFAR-10 and CIFAR-100 binary batches. A record is the label byte(s) and
 * 3072 bytes of pixels (3, 32, 32); CIFAR-100 records carry a coarse and a
 * fine label, and the fine one is used. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/core.h"
#include "../io/file.h"
#include "internal.h"

#define CIFAR_PIXELS 3072
#define CIFAR_MAX_FILE ((size_t)1 << 30)

static const char *const cifar10_names[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};

static const char *const cifar100_names[100] = {
    "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
    "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
    "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
    "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
    "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
    "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
    "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
    "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
    "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
    "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
    "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
    "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
    "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
    "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
    "table",       "tank",          "telephone", "television", "tiger",        "tractor",
    "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
    "willow_tree", "wolf",          "woman",     "worm"};

/* Names from the dataset's own text file when it is there and sane. */
static fn_status load_names(fn_dataset *d, const char *dir, const char *file,
                            const char *const *builtin)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    uint8_t *text = NULL;
    size_t size = 0;
    char **names = NULL;
    int n = 0;
    if (access(path, F_OK) == 0 && fn_file_read(path, (size_t)1 << 20, &text, &size) == FN_OK &&
        (names = calloc((size_t)d->classes, sizeof *names)) != NULL) {
        char *save = NULL;
        for (char *line = strtok_r((char *)text, "\r\n", &save); line && n < d->classes;
             line = strtok_r(NULL, "\r\n", &save)) {
            while (*line == ' ' || *line == '\t')
                line++;
            size_t len = strlen(line);
            while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                line[--len] = 0;
            if (len) names[n++] = line;
        }
    }
    fn_status st =
        fn_dataset_set_class_names(d, n == d->classes ? (const char *const *)names : builtin);
    free(names);
    free(text);
    return st;
}

/* Checks a batch of records: a whole, non-zero number of them, every label
 * below the class count. name is what messages call the buffer. */
static fn_status check_records(const char *name, const uint8_t *data, size_t size, int hundred)
{
    int classes = hundred ? 100 : 10;
    size_t label_bytes = hundred ? 2 : 1, record = label_bytes + CIFAR_PIXELS;
    if (size == 0 || size % record != 0)
        return fn_error(FN_ERR_FORMAT,
                        "%s: %zu bytes is not a whole number of %zu-byte CIFAR-%d records", name,
                        size, record, classes);
    for (size_t r = 0; r < size / record; r++) {
        const uint8_t *rec = data + r * record;
        /* CIFAR-100 records are (coarse, fine); the coarse label has 20 classes. */
        if (hundred && rec[0] >= 20)
            return fn_error(FN_ERR_FORMAT, "%s: record %zu has coarse label %d, not below 20", name,
                            r, rec[0]);
        if (rec[label_bytes - 1] >= classes)
            return fn_error(FN_ERR_FORMAT, "%s: record %zu has label %d, not below %d", name, r,
                            rec[label_bytes - 1], classes);
    }
    return FN_OK;
}

/* Copies checked records into d starting at image *i. */
static void copy_records(fn_dataset *d, const uint8_t *data, size_t size, int hundred, size_t *i)
{
    size_t label_bytes = hundred ? 2 : 1, record = label_bytes + CIFAR_PIXELS;
    for (size_t r = 0; r < size / record; r++, (*i)++) {
        const uint8_t *rec = data + r * record;
        d->labels[*i] = rec[label_bytes - 1];
        memcpy(d->images + *i * CIFAR_PIXELS, rec + label_bytes, CIFAR_PIXELS);
    }
}

static void set_norm(fn_dataset *d, int hundred)
{
    static const float m10[3] = {0.4914f, 0.4822f, 0.4465f}, s10[3] = {0.2470f, 0.2435f, 0.2616f};
    static const float m100[3] = {0.5071f, 0.4865f, 0.4409f}, s100[3] = {0.2673f, 0.2564f, 0.2762f};
    d->has_norm = 1;
    memcpy(d->mean, hundred ? m100 : m10, sizeof d->mean);
    memcpy(d->std, hundred ? s100 : s10, sizeof d->std);
}

fn_status fn_dataset_from_cifar_mem(const char *name, const void *data, size_t size, int hundred,
                                    fn_dataset **out)
{
    *out = NULL;
    if (!name || (!data && size))
        return fn_error(FN_ERR_ARG, "fn_dataset_from_cifar_mem: bad argument");
    FN_TRY(check_records(name, data, size, hundred));
    size_t record = (hundred ? 2 : 1) + CIFAR_PIXELS, i = 0;
    if (size / record > (size_t)1 << 30)
        return fn_error(FN_ERR_FORMAT, "%s: too many records", name);
    fn_dataset *d;
    FN_TRY(fn_dataset_alloc(hundred ? "cifar100" : "cifar10", (int)(size / record), 3, 32, 32,
                            hundred ? 100 : 10, &d));
    copy_records(d, data, size, hundred, &i);
    fn_status st = fn_dataset_set_class_names(d, hundred ? cifar100_names : cifar10_names);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    set_norm(d, hundred);
    *out = d;
    return FN_OK;
}

fn_status fn_dataset_open_cifar(const char *dir_in, int hundred, const char *split, int limit,
                                fn_dataset **out)
{
    *out = NULL;
    int train = strcmp(split, "train") == 0;
    const char *files[5];
    int n_files = 0;
    if (hundred) {
        files[n_files++] = train ? "train.bin" : "test.bin";
    } else if (train) {
        static const char *const batches[5] = {"data_batch_1.bin", "data_batch_2.bin",
                                               "data_batch_3.bin", "data_batch_4.bin",
                                               "data_batch_5.bin"};
        for (int i = 0; i < 5; i++)
            files[n_files++] = batches[i];
    } else {
        files[n_files++] = "test_batch.bin";
    }
    /* The archives unpack into a subfolder; accept either. */
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", dir_in);
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    if (access(path, F_OK) != 0) {
        snprintf(dir, sizeof dir, "%s/%s", dir_in,
                 hundred ? "cifar-100-binary" : "cifar-10-batches-bin");
        snprintf(path, sizeof path, "%s/%s", dir, files[0]);
        if (access(path, F_OK) != 0)
            return fn_error(FN_ERR_IO, "%s: no %s there (nor in %s)", dir_in, files[0], dir);
    }
    int classes = hundred ? 100 : 10;
    size_t record = (hundred ? 2 : 1) + CIFAR_PIXELS;
    uint8_t *data[5] = {0};
    size_t sizes[5] = {0}, total = 0;
    fn_status st = FN_OK;
    for (int f = 0; f < n_files && st == FN_OK; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        st = fn_file_read(path, CIFAR_MAX_FILE, &data[f], &sizes[f]);
        if (st == FN_OK) st = check_records(path, data[f], sizes[f], hundred);
        total += sizes[f] / record;
    }
    fn_dataset *d = NULL;
    if (st == FN_OK && total > (size_t)1 << 30)
        st = fn_error(FN_ERR_FORMAT, "%s: too many records", dir);
    if (st == FN_OK)
        st = fn_dataset_alloc(hundred ? "cifar100" : "cifar10", (int)total, 3, 32, 32, classes, &d);
    size_t i = 0;
    for (int f = 0; f < n_files && st == FN_OK; f++)
        copy_records(d, data[f], sizes[f], hundred, &i);
    for (int f = 0; f < n_files; f++)
        free(data[f]);
    if (st == FN_OK)
        st = load_names(d, dir, hundred ? "fine_label_names.txt" : "batches.meta.txt",
                        hundred ? cifar100_names : cifar10_names);
    if (st == FN_OK) st = fn_dataset_apply_limit(d, limit);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    set_norm(d, hundred);
    *out = d;
    return FN_OK;
}
