/* Whole-file reads and atomic writes, shared by every loader and saver. */
#ifndef FN_FILE_H
#define FN_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../focusnet.h"

/* Reads a whole file. Files larger than max bytes fail with FN_ERR_FORMAT, a
 * missing or unreadable one with FN_ERR_IO; messages name the path. The
 * buffer gets one extra zero byte past *size (handy for text) and is freed
 * with free(). */
fn_status fn_file_read(const char *path, size_t max, uint8_t **data, size_t *size);

/* Writes path atomically: write() fills "path.tmp-PID", which is flushed,
 * fsync'ed and renamed over path. On any failure the temporary file is
 * removed and an existing file at path is left untouched. write() returns
 * FN_OK or a status it has already described with fn_error. */
typedef fn_status (*fn_write_fn)(FILE *f, void *ctx);
fn_status fn_file_write_atomic(const char *path, fn_write_fn write, void *ctx);

#endif
