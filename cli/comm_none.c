/* A focusnet built without MPI: one process. Started by mpirun anyway, N
 * copies would each train alone and write the same run directory, so that
 * is refused. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const fn_comm *cli_comm_open(void)
{
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (n && atoi(n) > 1) {
        fprintf(stderr,
                "focusnet: started by mpirun with %s ranks, but this focusnet was built "
                "without MPI (install libopenmpi-dev and rebuild with -Dmpi=enabled)\n",
                n);
        exit(EXIT_USAGE);
    }
    return NULL;
}

void cli_comm_close(const fn_comm *c, int failed_running)
{
    (void)c, (void)failed_running;
}

int cli_comm_local_rank(void)
{
    return 0;
}
