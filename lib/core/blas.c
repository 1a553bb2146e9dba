/* Checked CLBlast calls: see blas.h. */
#include <string.h>

#include "blas.h"

fn_status fn_blast_fail(CLBlastStatusCode st, const char *routine, const char *file, int line)
{
    fn_status s = (st == CLBlastOpenCLOutOfHostMemory || st == CLBlastTempBufferAllocFailure ||
                   st == CLBlastOpenCLOutOfResources)
                      ? FN_ERR_NOMEM
                      : FN_ERR_CL;
    const char *base = strrchr(file, '/'); /* __FILE__ carries the build's relative path */
    return fn_error(s, "%s failed: status %d (%s:%d)", routine, (int)st, base ? base + 1 : file,
                    line);
}
