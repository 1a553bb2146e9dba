/* Temporary folders for tests that write files: made under $TMPDIR and
 * removed with everything in them. */
#ifndef FN_TEST_TMPDIR_H
#define FN_TEST_TMPDIR_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static inline char *tmpdir_make(char *buf, size_t size, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, size, "%s/focusnet-%s-XXXXXX", base && base[0] ? base : "/tmp", tag);
    if (!mkdtemp(buf)) {
        fprintf(stderr, "FAIL: cannot make a temporary folder %s\n", buf);
        exit(1);
    }
    return buf;
}

static inline int tmpdir_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tmpdir_remove(const char *dir)
{
    nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entries in dir whose name contains `part` (e.g. leftover ".tmp-" files). */
static inline int tmpdir_count(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static inline int write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n;
}

#endif
