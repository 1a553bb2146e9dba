/* Writes the seed corpus for fuzzing the readers: tests/corpus/{idx,safetensors,image,cifar}/
 * (tests/corpus/checkpoint/ comes from gen_checkpoint_corpus.c). Inputs that once broke a
 * reader are kept by hand beside these: image/bad-chunk-length.png (a PNG chunk length that
 * made stb_image reserve 1.3 GB, found by tests/fuzz) and image/bad-size-claim.jpg (a 722-byte
 * JPEG whose header claims 1500x1500, which stb_image decodes into 6.75 MB of nothing).
 * Files named ok-* must load, bad-* must fail with FN_ERR_FORMAT (tests/test_corpus.c
 * checks both). Not part of the build; regenerate with
 *   cc -O1 tests/corpus/gen_corpus.c -I/usr/include/stb -lstb -lz -o /tmp/gen_corpus
 *   /tmp/gen_corpus tests/corpus */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>
#include <zlib.h>

static const char *root;

static void put(const char *sub, const char *name, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", root, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static size_t gz(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t out = z.total_out;
    deflateEnd(&z);
    return out;
}

static size_t be(uint8_t *p, const uint32_t *v, int n)
{
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 4; b++)
            p[4 * i + b] = (uint8_t)(v[i] >> (24 - 8 * b));
    return 4 * (size_t)n;
}

static void idx(void)
{
    uint8_t img[256], lab[64], z[512];
    uint32_t hi[4] = {0x803, 3, 4, 4}, hl[2] = {0x801, 3};
    size_t ni = be(img, hi, 4), nl = be(lab, hl, 2);
    for (int i = 0; i < 48; i++)
        img[ni + i] = (uint8_t)(i * 5);
    ni += 48;
    lab[nl++] = 0;
    lab[nl++] = 9;
    lab[nl++] = 4;
    put("idx", "ok-images.idx", img, ni);
    put("idx", "ok-labels.idx", lab, nl);
    size_t nz = gz(img, ni, z, sizeof z);
    put("idx", "ok-images.idx.gz", z, nz);
    put("idx", "ok-labels.idx.gz", z, gz(lab, nl, z, sizeof z));
    nz = gz(img, ni, z, sizeof z);
    put("idx", "bad-truncated.idx", img, ni - 7);
    put("idx", "bad-truncated.idx.gz", z, nz - 9);
    z[nz / 2] ^= 0x5a;
    put("idx", "bad-corrupt.idx.gz", z, nz);
    put("idx", "bad-trailing.idx", img, ni + 1);
    put("idx", "bad-header-only.idx", img, 10);
    uint8_t t[64];
    uint32_t magic[4] = {0x802, 3, 4, 4};
    memcpy(t, img, 64);
    be(t, magic, 1);
    put("idx", "bad-magic.idx", t, 64);
    uint32_t liar[4] = {0x803, 0x7fffffff, 28, 28};
    be(t, liar, 4);
    put("idx", "bad-liar.idx", t, 64);
    uint32_t absurd[4] = {0x803, 0xffffffff, 0xffffffff, 0xffffffff};
    be(t, absurd, 4);
    put("idx", "bad-absurd.idx", t, 16);
}

static size_t st(uint8_t *out, const char *header, const void *data, size_t n)
{
    size_t h = strlen(header), padded = (h + 7) / 8 * 8;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(out + 8, header, h);
    memset(out + 8 + h, ' ', padded - h);
    memcpy(out + 8 + padded, data, n);
    return 8 + padded + n;
}

static void safetensors(void)
{
    uint8_t b[1024], d[64];
    for (int i = 0; i < 64; i++)
        d[i] = (uint8_t)(i * 3);
    float w[4] = {1, 2, 3, 4};
    size_t n = st(b,
                  "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                  "\"data_offsets\":[0,16]}}",
                  w, 16);
    put("safetensors", "ok-pytorch.safetensors", b, n);
    put("safetensors", "bad-truncated.safetensors", b, n - 3);
    n = st(b,
           "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
           "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[6,8]},"
           "\"c\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16]},"
           "\"d\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]},"
           "\"e\":{\"dtype\":\"I32\",\"shape\":[0,5],\"data_offsets\":[32,32]},"
           "\"__metadata__\":{\"epoch\":\"3\",\"arch\":\"resnet8\"}}",
           d, 32);
    put("safetensors", "ok-dtypes.safetensors", b, n);
    n = st(b, "{}", NULL, 0);
    put("safetensors", "ok-empty.safetensors", b, n);
    memset(b, 0xff, 8);
    put("safetensors", "bad-header-length.safetensors", b, n);
    static const struct {
        const char *name, *header;
        size_t data;
    } bad[] = {
        {"bad-json.safetensors", "{\"w\":{\"dtype\":", 0},
        {"bad-offsets.safetensors",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8},
        {"bad-size.safetensors",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 16},
        {"bad-dtype.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
         2},
        {"bad-duplicate.safetensors",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8},
        {"bad-shape-overflow.safetensors",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
         "\"data_offsets\":[0,0]}}",
         0},
        {"bad-negative-shape.safetensors",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8},
        {"bad-overlap.safetensors",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         12},
        {"bad-metadata.safetensors", "{\"__metadata__\":{\"epoch\":3}}", 0},
        {"bad-root.safetensors", "[]", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = st(b, bad[i].header, d, bad[i].data);
        put("safetensors", bad[i].name, b, n);
    }
}

static void collect(void *ctx, void *data, int size)
{
    uint8_t **cur = ctx;
    memcpy(*cur, data, (size_t)size);
    *cur += size;
}

static uint8_t *mem_png(const uint8_t *p, int w, int h, int c, int *len)
{
    uint8_t *buf = malloc(4096), *cur = buf;
    stbi_write_png_to_func(collect, &cur, w, h, c, p, w * c);
    *len = (int)(cur - buf);
    return buf;
}

static void image(void)
{
    uint8_t rgb[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    uint8_t rgba[2 * 2 * 4] = {255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 9, 9, 9};
    uint8_t gray[3 * 2] = {0, 50, 100, 150, 200, 250};
    int len;
    uint8_t *png = mem_png(rgb, 2, 2, 3, &len);
    put("image", "ok-2x2.png", png, (size_t)len);
    put("image", "bad-truncated.png", png, (size_t)len / 2);
    put("image", "bad-signature-only.png", png, 8);
    /* The same PNG announcing 20000x20000 (CRC fixed up). */
    uint8_t big[512];
    memcpy(big, png, (size_t)len);
    uint32_t dims[2] = {20000, 20000};
    be(big + 16, dims, 2);
    uint32_t crc = (uint32_t)crc32(0, big + 12, 17);
    be(big + 29, &crc, 1);
    put("image", "bad-bomb.png", big, (size_t)len);
    free(png);
    png = mem_png(rgba, 2, 2, 4, &len);
    put("image", "ok-rgba.png", png, (size_t)len);
    free(png);
    png = mem_png(gray, 3, 2, 1, &len);
    put("image", "ok-gray.png", png, (size_t)len);
    free(png);
    uint8_t buf[4096], *cur = buf;
    stbi_write_bmp_to_func(collect, &cur, 2, 2, 3, rgb);
    put("image", "ok-2x2.bmp", buf, (size_t)(cur - buf));
    put("image", "bad-truncated.bmp", buf, 30); /* stb fills missing pixels, so cut the header */
    cur = buf;
    stbi_write_jpg_to_func(collect, &cur, 2, 2, 3, rgb, 90);
    put("image", "ok-2x2.jpg", buf, (size_t)(cur - buf));
    put("image", "bad-truncated.jpg", buf, 40);
    put("image", "bad-text.txt", "just some text\n", 15);
}

/* CIFAR binary batches: ok-c10-* parse as CIFAR-10, ok-c100-* as CIFAR-100. */
static void cifar(void)
{
    static uint8_t b[3 * 3074];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(i * 7);
    b[0] = 3;
    b[3073] = 9;
    put("cifar", "ok-c10-two.bin", b, 2 * 3073);
    b[0] = 19; /* CIFAR-100: coarse, fine */
    b[1] = 99;
    b[3074] = 0;
    b[3075] = 42;
    put("cifar", "ok-c100-two.bin", b, 2 * 3074);
    put("cifar", "ok-c100-one.bin", b, 3074);
    put("cifar", "bad-c10-empty.bin", b, 0);
    put("cifar", "bad-c10-partial.bin", b, 3073 + 100);
    b[0] = 10;
    put("cifar", "bad-c10-label.bin", b, 3073);
    b[0] = 20; /* a coarse label past 19 */
    b[1] = 5;
    put("cifar", "bad-c100-coarse.bin", b, 3074);
    b[0] = 1;
    b[1] = 100;
    put("cifar", "bad-c100-label.bin", b, 3074);
}

int main(int argc, char **argv)
{
    root = argc > 1 ? argv[1] : "tests/corpus";
    idx();
    safetensors();
    image();
    cifar();
    return 0;
}
