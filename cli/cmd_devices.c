/* focusnet devices: what OpenCL can see, and which device runs by default. */
#include <stdio.h>

#include "cli.h"

int cmd_devices(int argc, char **argv)
{
    cli_opt opts[] = {{NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos, rc = cli_parse("devices", "", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    fn_device_info info[64];
    int n = 0;
    if (fn_devices_list(info, 64, &n) != FN_OK) return cli_fail("devices");
    int last_platform = -1;
    for (int i = 0; i < n && i < 64; i++) {
        const fn_device_info *d = &info[i];
        if (d->platform_index != last_platform) {
            printf("platform %d: %s\n", d->platform_index, d->platform_name);
            last_platform = d->platform_index;
        }
        printf("  [%d] %s%s\n", d->global_index, d->name, d->is_default ? "   (default)" : "");
        printf("      type %s, vendor %s\n",
               d->is_gpu   ? "GPU"
               : d->is_cpu ? "CPU"
                           : "other",
               d->vendor);
        printf("      %s, driver %s\n", d->version, d->driver_version);
        printf("      %u compute units, %.1f GiB global memory, %.0f KiB local memory, "
               "max work-group %zu\n",
               d->compute_units, (double)d->global_mem / (1024.0 * 1024.0 * 1024.0),
               (double)d->local_mem / 1024.0, d->max_work_group);
    }
    printf("choose with --device N|NAME or FOCUSNET_DEVICE=N|NAME\n");
    return 0;
}
