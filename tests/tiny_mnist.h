/* A tiny MNIST-like dataset for trainer tests: 28x28 images of K classes,
 * class k a bright horizontal bar in band k plus noise, written as raw IDX
 * files (DIR/PREFIX-images-idx3-ubyte, DIR/PREFIX-labels-idx1-ubyte). */
#ifndef TINY_MNIST_H
#define TINY_MNIST_H

#include <stdio.h>

#include "core/core.h"

#define TINY_H 28
#define TINY_K 3

static void tiny_put_be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    fwrite(b, 1, 4, f);
}

static void tiny_write_split(const char *dir, const char *prefix, int n, uint64_t seed)
{
    char path[512];
    fn_rng r;
    fn_rng_seed(&r, seed);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *fi = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    FILE *fl = fopen(path, "wb");
    if (!fi || !fl) {
        fprintf(stderr, "cannot write the tiny dataset in %s\n", dir);
        exit(1);
    }
    tiny_put_be32(fi, 0x803);
    tiny_put_be32(fi, (uint32_t)n);
    tiny_put_be32(fi, TINY_H);
    tiny_put_be32(fi, TINY_H);
    tiny_put_be32(fl, 0x801);
    tiny_put_be32(fl, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        unsigned char label = (unsigned char)(i % TINY_K), img[TINY_H * TINY_H];
        int row = 4 + label * 8 + (int)fn_rng_below(&r, 4);
        for (int p = 0; p < TINY_H * TINY_H; p++)
            img[p] = (unsigned char)fn_rng_below(&r, 60);
        for (int x = 2; x < TINY_H - 2; x++)
            img[row * TINY_H + x] = (unsigned char)(180 + fn_rng_below(&r, 70));
        fwrite(img, 1, sizeof img, fi);
        fwrite(&label, 1, 1, fl);
    }
    fclose(fi);
    fclose(fl);
}

#endif
