/* Stage 1: peaks. Non-maximum suppression on one heatmap channel at its native
 * resolution, one peak per plateau, sub-pixel refinement by a Gaussian fit. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The workspace of one channel: the sanitised plane, its row and window maxima
 * with how many cells reach them (row_count, count), the same counts over window
 * maxima only (masked, count_max), marks, every local maximum found and a sort's
 * scratch; for plateaus, the doubled grid and its union-find (4 cells each) and
 * the lines of the van Herk passes. */
typedef struct {
    float *plane, *row_max, *window, *masked, *line_v;
    int32_t *row_count, *count, *count_max, *grid, *parent, *line_c;
    uint8_t *visited;
    pd_candidate *found, *sort_scratch;
} pd_peaks_ws;

static void pd_peaks_layout(pd_peaks_ws *w, int height, int width, pd_arena *arena) {
    const size_t cells = (size_t)height * (size_t)width;
    const size_t doubled = (size_t)(2 * height - 1) * (size_t)(2 * width - 1);
    const size_t line = (size_t)(height > width ? height : width);
    w->plane = pd_take(arena, cells * sizeof(float));
    w->row_max = pd_take(arena, cells * sizeof(float));
    w->visited = pd_take(arena, cells);
    w->found = pd_take(arena, cells * sizeof(pd_candidate));
    w->sort_scratch = pd_take(arena, cells * sizeof(pd_candidate));
    w->window = pd_take(arena, cells * sizeof(float));
    w->masked = pd_take(arena, cells * sizeof(float));
    w->row_count = pd_take(arena, cells * sizeof(int32_t));
    w->count = pd_take(arena, cells * sizeof(int32_t));
    w->count_max = pd_take(arena, cells * sizeof(int32_t));
    w->grid = pd_take(arena, doubled * sizeof(int32_t));
    w->parent = pd_take(arena, doubled * sizeof(int32_t));
    w->line_v = pd_take(arena, 2 * line * sizeof(float));
    w->line_c = pd_take(arena, 2 * line * sizeof(int32_t));
}

size_t pd_peaks_workspace_size(int height, int width, int max_peaks) {
    (void)max_peaks;
    if (height <= 0 || width <= 0) return 0;
    pd_peaks_ws w;
    pd_arena arena;
    pd_arena_measuring(&arena);
    pd_peaks_layout(&w, height, width, &arena);
    return pd_arena_size(&arena);
}

/* The cells within `radius` of (x, y), clipped to the map, inclusive. */
static inline void pd_window_bounds(int x, int y, int radius, int height, int width, int *x0,
                                    int *x1, int *y0, int *y1) {
    *x0 = x - radius < 0 ? 0 : x - radius;
    *x1 = x + radius >= width ? width - 1 : x + radius;
    *y0 = y - radius < 0 ? 0 : y - radius;
    *y1 = y + radius >= height ? height - 1 : y + radius;
}

/* A maximum and how many cells reach it. */
static inline void pd_max_count(float *m, int32_t *c, float v, int32_t n) {
    if (v > *m) {
        *m = v;
        *c = n;
    } else if (v == *m) {
        *c += n;
    }
}

/* The maximum over the cells within `radius` of each item of one line (count
 * items `step` apart, clamped to the line) and how many cells reach it (in_c
 * NULL: each cell counts 1), by van Herk / Gil-Werman: in blocks of 2r + 1
 * items, a running maximum from each block's start (g) and one from its end (h);
 * a window spans at most two blocks, so it is h at its first item combined with
 * g at its last (the two parts are disjoint, so counts add). Three comparisons
 * an item whatever the radius. `lv`, `lc` hold 2 * count items. */
static void pd_line_max(const float *in, const int32_t *in_c, ptrdiff_t step, int count,
                        int radius, float *out, int32_t *out_c, float *lv, int32_t *lc) {
    const int k = 2 * radius + 1;
    float *gv = lv, *hv = lv + count;
    int32_t *gc = lc, *hc = lc + count;
    for (int b0 = 0; b0 < count; b0 += k) {
        const int b1 = b0 + k < count ? b0 + k : count; /* block [b0, b1) */
        for (int i = b0; i < b1; i++) {
            float v = in[i * step];
            int32_t n = in_c ? in_c[i * step] : 1;
            gv[i] = v;
            gc[i] = n;
            if (i > b0) {
                gv[i] = gv[i - 1];
                gc[i] = gc[i - 1];
                pd_max_count(&gv[i], &gc[i], v, n);
            }
        }
        for (int i = b1 - 1; i >= b0; i--) {
            float v = in[i * step];
            int32_t n = in_c ? in_c[i * step] : 1;
            hv[i] = v;
            hc[i] = n;
            if (i < b1 - 1) {
                hv[i] = hv[i + 1];
                hc[i] = hc[i + 1];
                pd_max_count(&hv[i], &hc[i], v, n);
            }
        }
    }
    for (int i = 0; i < count; i++) {
        const int lo = i - radius < 0 ? 0 : i - radius;
        const int hi = i + radius >= count ? count - 1 : i + radius;
        float m;
        int32_t c;
        if (lo / k != hi / k) {
            m = hv[lo];
            c = hc[lo];
            pd_max_count(&m, &c, gv[hi], gc[hi]);
        } else if (lo % k == 0) {
            m = gv[hi];
            c = gc[hi];
        } else {
            m = hv[lo]; /* clamped at the line's end: [lo, count) */
            c = hc[lo];
        }
        out[i * step] = m;
        out_c[i * step] = c;
    }
}

/* The (2r+1) x (2r+1) window maximum of every cell and how many of its cells
 * reach it, as a row pass and a column pass of pd_line_max: O(cells) for any r. */
static void pd_window_max_count(const float *plane, int height, int width, int radius,
                                pd_peaks_ws *w, float *window, int32_t *count) {
    for (int y = 0; y < height; y++)
        pd_line_max(plane + (size_t)y * width, NULL, 1, width, radius,
                    w->row_max + (size_t)y * width, w->row_count + (size_t)y * width,
                    w->line_v, w->line_c);
    for (int x = 0; x < width; x++)
        pd_line_max(w->row_max + x, w->row_count + x, width, height, radius, window + x,
                    count + x, w->line_v, w->line_c);
}

/* The (2r+1) x (2r+1) window maximum of every cell, as two separable passes.
 * For r = 1 each pass runs as one long loop over the whole plane (the rows'
 * ends are fixed after), which the compiler vectorises without the overhead
 * of a short loop per row; larger radii take pd_window_max_count, whose
 * counts (w->count) then tell plateaus apart at no extra cost. */
static void pd_window_max(pd_peaks_ws *w, int height, int width, int radius) {
    const float *restrict plane = w->plane;
    float *restrict row_max = w->row_max, *restrict window = w->window;
    const size_t cells = (size_t)height * width;
    if (radius == 1 && width >= 3 && height >= 3) {
        for (size_t i = 1; i + 1 < cells; i++) {
            float m = plane[i - 1] > plane[i] ? plane[i - 1] : plane[i];
            row_max[i] = plane[i + 1] > m ? plane[i + 1] : m;
        }
        for (int y = 0; y < height; y++) {
            const float *line = plane + (size_t)y * width;
            row_max[(size_t)y * width] = line[0] > line[1] ? line[0] : line[1];
            row_max[(size_t)y * width + width - 1] =
                line[width - 1] > line[width - 2] ? line[width - 1] : line[width - 2];
        }
        for (size_t i = (size_t)width; i + width < cells; i++) {
            float m = row_max[i - width] > row_max[i] ? row_max[i - width] : row_max[i];
            window[i] = row_max[i + width] > m ? row_max[i + width] : m;
        }
        for (int x = 0; x < width; x++) {
            size_t top = (size_t)x, bottom = (size_t)(height - 1) * width + x;
            window[top] = row_max[top] > row_max[top + width] ? row_max[top] : row_max[top + width];
            window[bottom] = row_max[bottom] > row_max[bottom - width] ? row_max[bottom]
                                                                       : row_max[bottom - width];
        }
        return;
    }
    pd_window_max_count(plane, height, width, radius, w, window, w->count);
}

/* The value parabola of pd_fit_offset in double, where the float sums overflow
 * (samples beyond about FLT_MAX / 4): no term exceeds 4 FLT_MAX, so nothing
 * overflows, and with the centre the highest |num| <= -den, so the offset lies
 * within half a cell before the clamp. */
static float pd_fit_offset_wide(float left, float centre, float right) {
    double num = (double)left - (double)right;
    double den = (double)left - 2.0 * (double)centre + (double)right;
    if (!(den < 0.0)) return 0.0f;
    double off = 0.5 * num / den;
    return (float)(off > 0.5 ? 0.5 : off < -0.5 ? -0.5 : off);
}

/* Offset of a 1-D maximum from three samples. On positive samples a parabola
 * through their logarithms is exact for a Gaussian (the DARK idea in 1-D);
 * otherwise a parabola through the values. Clamped to half a cell. Logarithms
 * of the ratios to the centre keep both in (0, 1]: no overflow, two logs. */
static float pd_fit_offset(float left, float centre, float right) {
    float num, den;
    float ratio_l = left / centre, ratio_r = right / centre;
    if (centre > 0.0f && ratio_l > 0.0f && ratio_r > 0.0f) {
        float ll = logf(ratio_l), lr = logf(ratio_r);
        num = ll - lr;
        den = ll + lr;
    } else {
        num = left - right;
        den = left - 2.0f * centre + right;
        /* An overflow anywhere leaves num or den infinite (or NaN): only then is
         * the fit redone in double, so ordinary values keep their float result. */
        if (!(fabsf(num) <= FLT_MAX) || !(fabsf(den) <= FLT_MAX))
            return pd_fit_offset_wide(left, centre, right);
    }
    if (!(den < 0.0f)) return 0.0f;
    float off = 0.5f * num / den;
    if (off > 0.5f) off = 0.5f;
    if (off < -0.5f) off = -0.5f;
    return off;
}

/* 1 when the mean of the 3x3 cells around (x, y), weighted 1-2-1 along each
 * axis and renormalised where the window leaves the map, exceeds `support`.
 * White noise makes local maxima everywhere a channel is near zero, but a lone
 * spike has little mass around it, while a keypoint's Gaussian keeps about
 * 0.65 of its height under these weights. The weights are small integers and
 * the sum runs in a fixed order, so the twins agree to the bit. */
/* pd_is_supported's test in double. */
static int pd_is_supported_wide(const float *plane, int height, int width, int x, int y,
                                float support) {
    double sum = 0.0, weight = 0.0;
    for (int dy = -1; dy <= 1; dy++) {
        int yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (int dx = -1; dx <= 1; dx++) {
            int xx = x + dx;
            if (xx < 0 || xx >= width) continue;
            double w = (double)((2 - abs(dy)) * (2 - abs(dx)));
            sum += w * (double)plane[yy * width + xx];
            weight += w;
        }
    }
    return sum > (double)support * weight;
}

static int pd_is_supported(const float *plane, int height, int width, int x, int y,
                           float support) {
    static const float weight_of[3] = {1.0f, 2.0f, 1.0f};
    float sum = 0.0f, weight = 0.0f;
    for (int dy = -1; dy <= 1; dy++) {
        int yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (int dx = -1; dx <= 1; dx++) {
            int xx = x + dx;
            if (xx < 0 || xx >= width) continue;
            float w = weight_of[dy + 1] * weight_of[dx + 1];
            sum += w * plane[yy * width + xx];
            weight += w;
        }
    }
    const float limit = support * weight;
    /* Terms beyond FLT_MAX / 4 overflow the float sum (Inf, or NaN from Inf - Inf)
     * and a support beyond FLT_MAX / 16 its limit: only then is the test redone
     * in double, which cannot overflow, so ordinary values keep their float one. */
    if (fabsf(sum) <= FLT_MAX && limit <= FLT_MAX) return sum > limit;
    return pd_is_supported_wide(plane, height, width, x, y, support);
}

/* Directions to a cell's 8 neighbours, in the order they are tried. */
static const int pd_dir_x[8] = {1, -1, 0, 0, 1, -1, 1, -1};
static const int pd_dir_y[8] = {0, 0, 1, -1, 1, -1, -1, 1};

/* The squared width of the channel's Gaussians: from the median curvature of
 * log values along each axis across its peaks (found[0..n), cells by index);
 * 0 when no peak has a curvature to measure. `curvature` has room for 2n items. */
static int pd_channel_width(const float *plane, int height, int width, const pd_candidate *found,
                            int n, pd_candidate *curvature, float *sigma2) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        int idx = found[i].a, y = idx / width, x = idx % width;
        float v = plane[idx];
        if (!(v > 0.0f)) continue;
        const float log_v = logf(v);
        if (x > 0 && x < width - 1 && plane[idx - 1] > 0.0f && plane[idx + 1] > 0.0f) {
            float c = logf(plane[idx - 1]) - 2.0f * log_v + logf(plane[idx + 1]);
            if (c < 0.0f) curvature[m++].score = c;
        }
        if (y > 0 && y < height - 1 && plane[idx - width] > 0.0f && plane[idx + width] > 0.0f) {
            float c = logf(plane[idx - width]) - 2.0f * log_v + logf(plane[idx + width]);
            if (c < 0.0f) curvature[m++].score = c;
        }
    }
    if (m == 0) return 0;
    for (int j = 0; j < m; j++) curvature[j].a = curvature[j].b = 0;
    pd_sort_candidates(curvature, m); /* descending */
    *sigma2 = -1.0f / curvature[m / 2].score;
    return 1;
}

/* 1 when (x, y) is inside the map. */
static inline int pd_inside(int x, int y, int height, int width) {
    return x >= 0 && x < width && y >= 0 && y < height;
}

/* 1 when no neighbour of (nx, ny) but the peak (cx, cy) is higher than hn: a
 * cell on the slope up to some other centre is no centre. */
static int pd_tops_neighbours(const float *plane, int height, int width, int nx, int ny, int cx,
                              int cy, float hn) {
    for (int e = 0; e < 8; e++) {
        int qx = nx + pd_dir_x[e], qy = ny + pd_dir_y[e];
        if (!pd_inside(qx, qy, height, width) || (qx == cx && qy == cy)) continue;
        if (plane[qy * width + qx] > hn) return 0;
    }
    return 1;
}

/* 1 unless the Gaussian explaining split cell (nx, ny) from its far side, the
 * cell beyond it in direction d, is centred over half a step back toward the
 * peak. That fit is pd_fit_far_side's, unclamped and in steps of d:
 * log hn - log hf = step2 (1 - 2t) / (2 sigma2). A second keypoint's centre lies
 * within half a step of its cell (t >= -1/2); a lone Gaussian wider or more
 * elongated along d than the channel's width raises the peak's neighbour above
 * the curvature test too, but falls from it toward the far side as from a
 * centre behind it (t < -1/2): that cell is no centre of its own. With no far
 * cell to fit (the map's edge, a zero there) the split stands. */
static int pd_centred_at_split(const float *plane, int height, int width, int nx, int ny, int d,
                               float log_hn, float step2, float sigma2) {
    const int fx = nx + pd_dir_x[d], fy = ny + pd_dir_y[d];
    if (!pd_inside(fx, fy, height, width)) return 1;
    const float hf = plane[fy * width + fx];
    if (!(hf > 0.0f)) return 1;
    float t = 0.5f - sigma2 * (log_hn - logf(hf)) / step2;
    return !(t < -0.5f);
}

/* The neighbour of peak idx (log value log_peak) in direction d when it is a
 * second keypoint's centre (see pd_split_merged), else -1. Logarithms are taken
 * once each and passed on: logf is the costly step here. */
static int pd_split_cell(const float *plane, int height, int width, int idx, float log_peak,
                         int d, float threshold, float margin, float sigma2,
                         const uint8_t *marks) {
    const int cy = idx / width, cx = idx % width;
    const int nx = cx + pd_dir_x[d], ny = cy + pd_dir_y[d];
    const int ox = cx - pd_dir_x[d], oy = cy - pd_dir_y[d];
    if (!pd_inside(nx, ny, height, width) || !pd_inside(ox, oy, height, width)) return -1;
    const int n = ny * width + nx;
    const float hn = plane[n], ho = plane[oy * width + ox];
    /* Only the higher of two opposite neighbours can be split (tested first: it
     * spares half the logarithms). */
    if (marks[n] || !(hn > threshold) || !(ho > 0.0f) || !(hn >= ho)) return -1;
    /* Along a line through one Gaussian's peak, log values have the curvature
     * -step^2 / sigma^2 wherever its centre lies; the raised side of a flatter
     * line holds a second centre. */
    float step2 = (float)(pd_dir_x[d] * pd_dir_x[d] + pd_dir_y[d] * pd_dir_y[d]);
    const float log_hn = logf(hn);
    float excess = log_hn + logf(ho) - 2.0f * log_peak + step2 / sigma2;
    if (!(excess >= margin)) return -1;
    if (!pd_centred_at_split(plane, height, width, nx, ny, d, log_hn, step2, sigma2)) return -1;
    return pd_tops_neighbours(plane, height, width, nx, ny, cx, cy, hn) ? n : -1;
}

/* The sides of a peak that direction d from it points into, as the bits a peak
 * others were split from keeps in -b (pd_split_merged): 1 +x, 2 -x, 4 +y, 8 -y. */
static int pd_side_bits(int d) {
    const int dx = pd_dir_x[d], dy = pd_dir_y[d];
    return (dx > 0 ? 1 : dx < 0 ? 2 : 0) | (dy > 0 ? 4 : dy < 0 ? 8 : 0);
}

/* Peaks hidden by a neighbour's: where two keypoints of one type fall within a
 * cell or two, NMS keeps one peak. Through a lone Gaussian's peak, the log
 * values of two opposite neighbours sum to twice the peak's minus step^2 /
 * sigma^2 (sigma the channel's typical width, from the median curvature of log
 * values across its peaks); where they sum to more than that by `margin` or
 * more, the higher of the two, if no lower than any of its own neighbours but
 * the peak, is a second keypoint's centre.
 * Appends those cells to `found`, with b = 1 + the direction from their peak,
 * and returns the new count; a peak they were split from gets b = -(the sides
 * holding them, pd_side_bits), so that its fit avoids them (pd_refine_peak).
 * *sigma2 gets the channel's squared width. `marks`
 * holds a byte per cell, `curvature` room for 2 * num_found items. */
static int pd_split_merged(const float *plane, int height, int width, float threshold,
                           float margin, pd_candidate *found, int num_found, uint8_t *marks,
                           pd_candidate *curvature, float *sigma2_out) {
    float sigma2;
    if (!pd_channel_width(plane, height, width, found, num_found, curvature, &sigma2))
        return num_found;
    *sigma2_out = sigma2;
    memset(marks, 0, (size_t)height * (size_t)width);
    for (int i = 0; i < num_found; i++) marks[found[i].a] = 1;
    const int primaries = num_found;
    for (int i = 0; i < primaries; i++) {
        int idx = found[i].a;
        if (!(plane[idx] > 0.0f)) continue;
        const float log_peak = logf(plane[idx]);
        for (int d = 0; d < 8; d++) {
            int n = pd_split_cell(plane, height, width, idx, log_peak, d, threshold, margin, sigma2,
                                  marks);
            if (n < 0) continue;
            marks[n] = 1;
            found[num_found].a = n;
            found[num_found].b = 1 + d;
            found[num_found].score = plane[n];
            num_found++;
            found[i].b = -(-found[i].b | pd_side_bits(d));
        }
    }
    return num_found;
}

/* Offset of a Gaussian of squared width sigma2 peaking near `idx` (value v),
 * from its neighbour one step (`step` cells, sign included) away alone:
 * log v - log far = (1 - 2t) / (2 sigma2), t the offset toward it, clamped. */
static float pd_fit_far_side(const float *plane, int idx, int step, int inside, float v,
                             float sigma2) {
    if (!inside || !(v > 0.0f) || !(plane[idx + step] > 0.0f)) return 0.0f;
    float t = 0.5f - sigma2 * (logf(v) - logf(plane[idx + step]));
    if (t > 0.5f) t = 0.5f;
    if (t < -0.5f) t = -0.5f;
    return step > 0 ? t : -t;
}

/* One strided read into a clean contiguous plane: every later pass is
 * unit-stride, and NaN and Inf are zeros from here on. */
static void pd_read_plane(const float *map, int height, int width, ptrdiff_t sy, ptrdiff_t sx,
                          float *plane) {
    const size_t cells = (size_t)height * (size_t)width;
    if (sx == 1 && sy == width) {
        for (size_t i = 0; i < cells; i++) plane[i] = pd_finite_or_zero(map[i]);
        return;
    }
    for (int y = 0; y < height; y++) {
        const float *src = map + (ptrdiff_t)y * sy;
        float *dst = plane + (size_t)y * width;
        for (int x = 0; x < width; x++) dst[x] = pd_finite_or_zero(src[(ptrdiff_t)x * sx]);
    }
}

/* 1 when a cell of the plane exceeds `threshold` (every peak does), 0 when the
 * plane can hold no peak. */
static int pd_any_above(const float *plane, size_t cells, float threshold) {
    int above = 0;
    for (size_t i = 0; i < cells; i++) above |= plane[i] > threshold;
    return above;
}

/* Maps up to this many cells test for an empty channel before the suppression,
 * which then costs more than the test (a tiny map's setup); on larger maps the
 * test would cost a frame with peaks about as much as it saves an empty one. */
#define PD_SMALL_MAP 1024

/* What the search for local maxima reads. */
typedef struct {
    int height, width, radius;
    float threshold, support;
} pd_nms;

static int32_t pd_find_root(int32_t *uf, int32_t p) {
    while (uf[p] != p) {
        uf[p] = uf[uf[p]];
        p = uf[p];
    }
    return p;
}

static void pd_union(int32_t *uf, int32_t a, int32_t b) {
    a = pd_find_root(uf, a);
    b = pd_find_root(uf, b);
    if (a < b) uf[b] = a;
    if (b < a) uf[a] = b;
}

/* 1 when cell i is a window maximum above the threshold. */
static inline int pd_is_candidate(const pd_nms *q, const pd_peaks_ws *w, size_t i) {
    return (w->plane[i] > q->threshold) & (w->plane[i] >= w->window[i]);
}

/* How many cells of candidate idx's window hold its value, itself included. */
static int32_t pd_equal_count(const pd_nms *q, const pd_peaks_ws *w, int idx, int counted) {
    if (counted) return w->count[idx];
    const float v = w->plane[idx];
    const int y = idx / q->width, x = idx % q->width;
    int x0, x1, y0, y1, n = 0;
    pd_window_bounds(x, y, q->radius, q->height, q->width, &x0, &x1, &y0, &y1);
    for (int yy = y0; yy <= y1; yy++)
        for (int xx = x0; xx <= x1; xx++) n += w->plane[yy * q->width + xx] == v;
    return n;
}

/* Squares [2c, 2c + 2r] (both axes, clipped) around the doubled position of every
 * candidate with another candidate in its window, as `grid` (Hd x Wd): 1 where
 * some square covers the point, else 0. Two candidates within r of each other
 * hold the same value (each tops the other's window), and their squares then
 * overlap; doubling makes squares that do not overlap never 4-adjacent, so the
 * 4-connected parts of the cover are the candidates' plateaus. Two running
 * window sums, O(cells) for any r. */
static void pd_plateau_cover(const pd_nms *q, pd_peaks_ws *w, int32_t *sums, int32_t *cover) {
    const int H = q->height, W = q->width, Hd = 2 * H - 1, Wd = 2 * W - 1, span = 2 * q->radius;
    for (int py = 0; py < Hd; py++) {
        int32_t *row = sums + (size_t)py * Wd;
        int running = 0;
        for (int px = 0; px < Wd; px++) {
            const int out = px - span - 1;
            if ((py & 1) == 0 && (px & 1) == 0)
                running += w->count_max[(size_t)(py / 2) * W + px / 2] > 1;
            if ((py & 1) == 0 && out >= 0 && (out & 1) == 0)
                running -= w->count_max[(size_t)(py / 2) * W + out / 2] > 1;
            row[px] = running;
        }
    }
    for (int px = 0; px < Wd; px++) {
        int running = 0;
        for (int py = 0; py < Hd; py++) {
            running += sums[(size_t)py * Wd + px] > 0;
            if (py - span - 1 >= 0) running -= sums[(size_t)(py - span - 1) * Wd + px] > 0;
            cover[(size_t)py * Wd + px] = running > 0;
        }
    }
}

/* Labels the plateaus of a channel that has some (a candidate with an equal cell
 * in its window), without a flood per window: count holds, per cell, the cells of
 * its window at its window maximum, and count_max those among candidates. A
 * plateau is a maximum when every cell of it is a candidate, i.e. when no
 * candidate of it has a cell of its value in its window that is not one
 * (count != count_max). Per plateau root, grid then holds 2 * (its first cell)
 * + (1 when it is no maximum); count_max > 1 says which cells have one. */
static void pd_label_plateaus(const pd_nms *q, pd_peaks_ws *w, int counted) {
    const int H = q->height, W = q->width, Wd = 2 * W - 1;
    const size_t cells = (size_t)H * W, doubled = (size_t)(2 * H - 1) * Wd;
    if (!counted) pd_window_max_count(w->plane, H, W, q->radius, w, w->window, w->count);
    for (size_t i = 0; i < cells; i++)
        w->masked[i] = pd_is_candidate(q, w, i) ? w->plane[i] : -INFINITY;
    /* The row pass is done with `masked` before the column pass writes it. */
    pd_window_max_count(w->masked, H, W, q->radius, w, w->masked, w->count_max);
    for (size_t i = 0; i < cells; i++)
        if (!pd_is_candidate(q, w, i)) w->count_max[i] = 0;
    pd_plateau_cover(q, w, w->parent, w->grid);
    int32_t *uf = w->parent;
    for (size_t p = 0; p < doubled; p++) uf[p] = w->grid[p] ? (int32_t)p : -1;
    for (size_t p = 0; p < doubled; p++) {
        if (uf[p] < 0) continue;
        if (p % Wd && uf[p - 1] >= 0) pd_union(uf, (int32_t)p, (int32_t)(p - 1));
        if (p >= (size_t)Wd && uf[p - Wd] >= 0) pd_union(uf, (int32_t)p, (int32_t)(p - Wd));
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cells; i++) {
            if (w->count_max[i] <= 1) continue;
            const int32_t root = pd_find_root(uf, (int32_t)(2 * (i / W) * Wd + 2 * (i % W)));
            const int32_t bad = w->count[i] != w->count_max[i];
            if (pass == 0) w->grid[root] = -1;
            else if (w->grid[root] < 0) w->grid[root] = 2 * (int32_t)i + bad;
            else w->grid[root] |= bad;
        }
    }
}

/* 1 when candidate idx is a peak: a plateau of one, or the first cell of a
 * plateau that is a maximum, with the support peak_support asks for. Before the
 * plateaus are labelled (labelled = 0), a candidate of a plateau sets *plateaus
 * and is no peak: the caller labels them and collects again. */
static int pd_is_peak(const pd_nms *q, pd_peaks_ws *w, int idx, int labelled, int *plateaus) {
    const int y = idx / q->width, x = idx % q->width;
    if (pd_equal_count(q, w, idx, labelled || q->radius > 1) > 1) {
        if (!labelled) {
            *plateaus = 1;
            return 0;
        }
        if (w->count_max[idx] <= 1) return 0; /* an equal cell that is no candidate */
        const int32_t at = (int32_t)(2 * y * (2 * q->width - 1) + 2 * x);
        const int32_t label = w->grid[pd_find_root(w->parent, at)];
        if ((label & 1) || label / 2 != idx) return 0;
    }
    return !(q->support > 0.0f) ||
           pd_is_supported(w->plane, q->height, q->width, x, y, q->support);
}

/* Every peak of the plane into w->found, in raster order; returns how many. */
static int pd_collect_peaks_pass(const pd_nms *q, pd_peaks_ws *w, int labelled, int *plateaus) {
    const size_t cells = (size_t)q->height * (size_t)q->width;
    const float *plane = w->plane, *window = w->window;
    const float threshold = q->threshold;
    /* Blocks of cells are first tested without branches; only the few blocks
     * holding a local maximum above the threshold are walked cell by cell. */
    enum { BLOCK = 32 };
    int num_found = 0;
    for (size_t base = 0; base < cells; base += BLOCK) {
        size_t end = base + BLOCK < cells ? base + BLOCK : cells;
        int any = 0;
        for (size_t i = base; i < end; i++) any |= (plane[i] > threshold) & (plane[i] >= window[i]);
        if (!any) continue;
        for (size_t i = base; i < end; i++) {
            float v = plane[i];
            if (!((v > threshold) & (v >= window[i]))) continue;
            if (!pd_is_peak(q, w, (int)i, labelled, plateaus)) continue;
            w->found[num_found].a = (int)i;
            w->found[num_found].b = 0;
            w->found[num_found].score = v;
            num_found++;
        }
    }
    return num_found;
}

/* Every peak into w->found, in raster order: a plane without plateaus among its
 * candidates in one pass; otherwise the plateaus are labelled and it runs again.
 * O(cells) whatever the radius. */
static int pd_collect_peaks(const pd_nms *q, pd_peaks_ws *w) {
    int plateaus = 0;
    int n = pd_collect_peaks_pass(q, w, 0, &plateaus);
    if (!plateaus) return n;
    pd_label_plateaus(q, w, q->radius > 1);
    return pd_collect_peaks_pass(q, w, 1, &plateaus);
}

/* Along one axis (dir its direction steps, plus_bit its + side's bit in
 * pd_side_bits), the step toward the one neighbour a found peak with b is
 * fitted from, or 0 to fit it from both. Between a split peak and its peak,
 * and its peak and it, the neighbours mix the two Gaussians: a split peak
 * (b > 0) is fitted from beyond itself, away from its peak, and a peak others
 * were split from (b < 0) from the side opposite them. With splits on both
 * sides of the axis neither side is clean: a one-sided fit would read a raised
 * side as the Gaussian's own, while the two-sided fit sees both raised and
 * their pulls partly cancel, so it is kept there. */
static int pd_fit_step(int b, const int *dir, int plus_bit) {
    if (b > 0) return dir[b - 1];
    const int sides = (-b / plus_bit) & 3;
    return sides == 1 ? -1 : sides == 2 ? 1 : 0;
}

/* Sub-pixel position of found peak `peak` (cell idx = peak->a, value v): along
 * an axis pd_fit_step names a side for, fitted from that side alone. */
static void pd_refine_peak(const float *plane, int height, int width, const pd_candidate *peak,
                           float sigma2, float *out_x, float *out_y) {
    const int idx = peak->a, y = idx / width, x = idx % width;
    const float v = peak->score;
    const int away_x = pd_fit_step(peak->b, pd_dir_x, 1);
    const int away_y = pd_fit_step(peak->b, pd_dir_y, 4);
    float dx = 0.0f, dy = 0.0f;
    if (away_x)
        dx = pd_fit_far_side(plane, idx, away_x, x + away_x >= 0 && x + away_x < width, v, sigma2);
    else if (x > 0 && x < width - 1)
        dx = pd_fit_offset(plane[idx - 1], v, plane[idx + 1]);
    if (away_y)
        dy = pd_fit_far_side(plane, idx, away_y * width, y + away_y >= 0 && y + away_y < height, v,
                             sigma2);
    else if (y > 0 && y < height - 1)
        dy = pd_fit_offset(plane[idx - width], v, plane[idx + width]);
    *out_x = (float)x + dx;
    *out_y = (float)y + dy;
}

static int pd_peaks_args_ok(const float *map, int height, int width, float threshold, int radius,
                            int max_peaks, float peak_support) {
    return map && height > 0 && width > 0 && radius >= 1 && max_peaks >= 0 &&
           (int64_t)height * width <= INT32_MAX / 2 && threshold == threshold &&
           peak_support >= 0.0f && peak_support < INFINITY;
}

int pd_find_peaks(const float *map, int height, int width, ptrdiff_t sy, ptrdiff_t sx,
                  float threshold, int radius, int max_peaks, float split_margin,
                  float peak_support, float *out_x, float *out_y, float *out_value,
                  void *workspace, size_t workspace_size) {
    if (!pd_peaks_args_ok(map, height, width, threshold, radius, max_peaks, peak_support))
        return PD_ERR_ARGUMENT;
    pd_peaks_ws w;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    pd_peaks_layout(&w, height, width, &arena);
    if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
    /* No cell above the threshold (an empty channel): no peak, and nothing to
     * suppress. */
    pd_read_plane(map, height, width, sy, sx, w.plane);
    const size_t cells = (size_t)height * (size_t)width;
    if (cells <= PD_SMALL_MAP && !pd_any_above(w.plane, cells, threshold)) return 0;
    pd_window_max(&w, height, width, radius);
    const pd_nms q = {height, width, radius, threshold, peak_support};
    int num_found = pd_collect_peaks(&q, &w);
    float sigma2 = 0.0f;
    if (split_margin > 0.0f && num_found > 0) {
        num_found = pd_split_merged(w.plane, height, width, threshold, split_margin, w.found,
                                    num_found, w.visited, w.sort_scratch, &sigma2);
        /* Split peaks came after the others: ties go by cell, as below. */
        pd_sort_candidates(w.found, num_found);
    } else {
        /* Found in raster order, so a stable sort on the value gives raster-order
         * ties. */
        pd_sort_candidates_stable(w.found, num_found, w.sort_scratch);
    }
    const int kept = num_found < max_peaks ? num_found : max_peaks;
    for (int i = 0; i < kept; i++) {
        pd_refine_peak(w.plane, height, width, &w.found[i], sigma2, &out_x[i], &out_y[i]);
        out_value[i] = w.found[i].score;
    }
    return kept;
}

int pd_stage_peaks(const pd_params *params, const pd_fields *heat, int num_keypoints,
                   const pd_peak_set *peaks, void *workspace, size_t workspace_size) {
    int total = 0;
    /* The peak set may be sized below max_peaks to what the map can yield (see
     * decode.c); it is never written past. */
    const int cap = params->max_peaks < peaks->max_peaks ? params->max_peaks : peaks->max_peaks;
    for (int k = 0; k < num_keypoints; k++) {
        size_t off = (size_t)k * peaks->max_peaks;
        int n = pd_find_peaks(heat->data + (ptrdiff_t)k * heat->stride_c, heat->height,
                              heat->width, heat->stride_y, heat->stride_x,
                              params->peak_threshold, params->peak_radius, cap,
                              params->split_merged_peaks, params->peak_support, peaks->x + off,
                              peaks->y + off, peaks->value + off, workspace, workspace_size);
        if (n < 0) return n;
        peaks->count[k] = n;
        total += n;
    }
    return total;
}
