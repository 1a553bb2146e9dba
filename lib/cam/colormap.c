/* Colormaps for heatmaps and the overlay of a heatmap on an image: plain host
 * code shared by focusnet cam and the viewer.
 *
 * viridis and inferno are matplotlib's (Smith, van der Walt and Firing, CC0),
 * sampled at every 16th of their 256 entries plus the last, and interpolated
 * linearly between samples (within 1/255 of the full tables). jet is
 * matplotlib's piecewise-linear definition. */
#include <math.h>
#include <string.h>

#include "../core/core.h"

typedef struct {
    float r, g, b;
} rgbf;

/* Entries 0, 16, 32, ..., 240 and 255 of matplotlib's 256-entry tables. */
static const rgbf viridis[17] = {
    {0.267004f, 0.004874f, 0.329415f}, {0.282327f, 0.094955f, 0.417331f},
    {0.278826f, 0.175490f, 0.483397f}, {0.258965f, 0.251537f, 0.524736f},
    {0.229739f, 0.322361f, 0.545706f}, {0.199430f, 0.387607f, 0.554642f},
    {0.172719f, 0.448791f, 0.557885f}, {0.149039f, 0.508051f, 0.557250f},
    {0.127568f, 0.566949f, 0.550556f}, {0.120638f, 0.625828f, 0.533488f},
    {0.157851f, 0.683765f, 0.501686f}, {0.246070f, 0.738910f, 0.452024f},
    {0.369214f, 0.788888f, 0.382914f}, {0.515992f, 0.831158f, 0.294279f},
    {0.678489f, 0.863742f, 0.189503f}, {0.845561f, 0.887322f, 0.099702f},
    {0.993248f, 0.906157f, 0.143936f},
};

static const rgbf inferno[17] = {
    {0.001462f, 0.000466f, 0.013866f}, {0.042253f, 0.028139f, 0.141141f},
    {0.129285f, 0.047293f, 0.290788f}, {0.238273f, 0.036621f, 0.396353f},
    {0.341500f, 0.062325f, 0.429425f}, {0.441207f, 0.099338f, 0.431594f},
    {0.540920f, 0.134729f, 0.415123f}, {0.640135f, 0.171438f, 0.381065f},
    {0.735683f, 0.215906f, 0.330245f}, {0.822386f, 0.275197f, 0.266085f},
    {0.894305f, 0.353399f, 0.193584f}, {0.946965f, 0.449191f, 0.115272f},
    {0.978422f, 0.557937f, 0.034931f}, {0.987874f, 0.675267f, 0.065257f},
    {0.974638f, 0.797692f, 0.206332f}, {0.947594f, 0.917399f, 0.410665f},
    {0.988362f, 0.998364f, 0.644924f},
};

static const char *const names[] = {"viridis", "jet", "inferno"};

const char *fn_colormap_name(fn_colormap cm)
{
    return (unsigned)cm < 3 ? names[cm] : "viridis";
}

fn_status fn_colormap_parse(const char *name, fn_colormap *out)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (fn_colormap)i;
            return FN_OK;
        }
    return fn_error(FN_ERR_ARG, "unknown colormap '%s' (colormaps: viridis, jet, inferno)",
                    name ? name : "");
}

static float lerp(float a, float b, float f)
{
    return a + (b - a) * f;
}

static rgbf sampled(const rgbf *table, float t)
{
    float x = t * 255.0f; /* position in the 256-entry table */
    int i = (int)(x / 16.0f);
    if (i > 15) i = 15;
    float lo = 16.0f * i, hi = i == 15 ? 255.0f : 16.0f * (i + 1);
    float f = (x - lo) / (hi - lo);
    rgbf a = table[i], b = table[i + 1];
    return (rgbf){lerp(a.r, b.r, f), lerp(a.g, b.g, f), lerp(a.b, b.b, f)};
}

/* Piecewise-linear through (x, y) points, x increasing from 0 to 1. */
static float segments(const float (*p)[2], int n, float t)
{
    for (int i = 1; i < n; i++)
        if (t <= p[i][0])
            return lerp(p[i - 1][1], p[i][1], (t - p[i - 1][0]) / (p[i][0] - p[i - 1][0]));
    return p[n - 1][1];
}

static rgbf jet(float t)
{
    static const float r[][2] = {{0, 0}, {0.35f, 0}, {0.66f, 1}, {0.89f, 1}, {1, 0.5f}};
    static const float g[][2] = {{0, 0}, {0.125f, 0}, {0.375f, 1}, {0.64f, 1}, {0.91f, 0}, {1, 0}};
    static const float b[][2] = {{0, 0.5f}, {0.11f, 1}, {0.34f, 1}, {0.65f, 0}, {1, 0}};
    return (rgbf){segments(r, 5, t), segments(g, 6, t), segments(b, 5, t)};
}

static uint8_t byte(float v)
{
    return (uint8_t)lrintf(fminf(1.0f, fmaxf(0.0f, v)) * 255.0f);
}

void fn_colormap_rgb(fn_colormap cm, float t, uint8_t rgb[3])
{
    if (!(t >= 0)) t = 0; /* NaN too */
    if (t > 1) t = 1;
    rgbf c = cm == FN_COLORMAP_JET       ? jet(t)
             : cm == FN_COLORMAP_INFERNO ? sampled(inferno, t)
                                         : sampled(viridis, t);
    rgb[0] = byte(c.r);
    rgb[1] = byte(c.g);
    rgb[2] = byte(c.b);
}

void fn_heatmap_range(const float *heatmap, size_t n, float *lo, float *hi)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(heatmap[i])) continue;
        if (heatmap[i] < *lo) *lo = heatmap[i];
        if (heatmap[i] > *hi) *hi = heatmap[i];
    }
}

void fn_cam_overlay(const float *pixels, int c, int h, int w, const float *heatmap, float lo,
                    float hi, fn_colormap cm, float opacity, uint8_t *rgb)
{
    size_t plane = (size_t)h * w;
    float span = hi > lo ? hi - lo : 1.0f;
    if (!(opacity >= 0)) opacity = 0;
    if (opacity > 1) opacity = 1;
    for (size_t i = 0; i < plane; i++) {
        uint8_t heat[3] = {0, 0, 0};
        if (heatmap) fn_colormap_rgb(cm, (heatmap[i] - lo) / span, heat);
        float a = heatmap ? opacity : 0.0f;
        for (int k = 0; k < 3; k++) {
            float v = pixels[(size_t)(c == 3 ? k : 0) * plane + i] * 255.0f;
            rgb[i * 3 + k] = (uint8_t)lrintf(fminf(255.0f, fmaxf(0.0f, (1 - a) * v + a * heat[k])));
        }
    }
}
