/* Stage 1: peaks. Non-maximum suppression on one heatmap channel at its native
 * resolution, one peak per plateau, sub-pixel refinement by a Gaussian fit. */
#include <math.h>
#include <string.h>

#include "internal.h"

size_t pd_peaks_workspace_size(int height, int width, int max_peaks) {
    (void)max_peaks;
    if (height <= 0 || width <= 0) return 0;
    size_t cells = (size_t)height * (size_t)width;
    /* visited marks, the flood-fill queue, and every local maximum found */
    return pd_round_up(cells) + pd_round_up(cells * sizeof(int32_t)) +
           pd_round_up(cells * sizeof(pd_candidate)) + 3 * PD_ALIGN;
}

#define CELL(map, y, x, sy, sx) pd_finite_or_zero((map)[(ptrdiff_t)(y) * (sy) + (ptrdiff_t)(x) * (sx)])

/* 1 when some cell within `radius` of (x, y) is strictly above v. */
static int pd_has_higher_neighbour(const float *map, int height, int width, ptrdiff_t sy,
                                   ptrdiff_t sx, int x, int y, int radius, float v,
                                   int *has_equal) {
    int y0 = y - radius < 0 ? 0 : y - radius;
    int y1 = y + radius >= height ? height - 1 : y + radius;
    int x0 = x - radius < 0 ? 0 : x - radius;
    int x1 = x + radius >= width ? width - 1 : x + radius;
    int equal = 0;
    for (int yy = y0; yy <= y1; yy++) {
        for (int xx = x0; xx <= x1; xx++) {
            if (yy == y && xx == x) continue;
            float n = CELL(map, yy, xx, sy, sx);
            if (n > v) return 1;
            equal |= (n == v);
        }
    }
    *has_equal = equal;
    return 0;
}

/* Floods the plateau of value v that starts at `start` (its first cell in
 * raster order), marking it visited. Returns 1 when no cell of the plateau has
 * a strictly higher neighbour, i.e. the plateau is a local maximum. */
static int pd_plateau_is_maximum(const float *map, int height, int width, ptrdiff_t sy,
                                 ptrdiff_t sx, int start, int radius, float v,
                                 uint8_t *visited, int32_t *queue, int *queue_len) {
    int head = *queue_len, tail = *queue_len;
    int is_max = 1;
    visited[start] = 1;
    queue[tail++] = start;
    while (head < tail) {
        int cell = queue[head++];
        int y = cell / width, x = cell % width;
        int y0 = y - radius < 0 ? 0 : y - radius;
        int y1 = y + radius >= height ? height - 1 : y + radius;
        int x0 = x - radius < 0 ? 0 : x - radius;
        int x1 = x + radius >= width ? width - 1 : x + radius;
        for (int yy = y0; yy <= y1; yy++) {
            for (int xx = x0; xx <= x1; xx++) {
                float n = CELL(map, yy, xx, sy, sx);
                if (n > v) is_max = 0;
                int idx = yy * width + xx;
                if (n == v && !visited[idx]) {
                    visited[idx] = 1;
                    queue[tail++] = idx;
                }
            }
        }
    }
    *queue_len = tail;
    return is_max;
}

/* Offset of a 1-D maximum from three samples. On positive samples a parabola
 * through their logarithms is exact for a Gaussian (the DARK idea in 1-D);
 * otherwise a parabola through the values. Clamped to half a cell. */
static double pd_fit_offset(float left, float centre, float right) {
    double l = left, c = centre, r = right, num, den;
    if (l > 0.0 && c > 0.0 && r > 0.0) {
        double ll = log(l), lc = log(c), lr = log(r);
        num = ll - lr;
        den = ll - 2.0 * lc + lr;
    } else {
        num = l - r;
        den = l - 2.0 * c + r;
    }
    if (!(den < 0.0)) return 0.0;
    double off = 0.5 * num / den;
    if (off > 0.5) off = 0.5;
    if (off < -0.5) off = -0.5;
    return off;
}

int pd_find_peaks(const float *map, int height, int width, ptrdiff_t sy, ptrdiff_t sx,
                  float threshold, int radius, int max_peaks, float *out_x, float *out_y,
                  float *out_value, void *workspace, size_t workspace_size) {
    if (!map || height <= 0 || width <= 0 || radius < 1 || max_peaks < 0 ||
        (int64_t)height * width > INT32_MAX / 2 || !(threshold == threshold))
        return PD_ERR_ARGUMENT;
    if (workspace_size < pd_peaks_workspace_size(height, width, max_peaks))
        return PD_ERR_WORKSPACE;
    size_t cells = (size_t)height * (size_t)width;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    uint8_t *visited = pd_take(&arena, cells);
    int32_t *queue = pd_take(&arena, cells * sizeof(int32_t));
    pd_candidate *found = pd_take(&arena, cells * sizeof(pd_candidate));
    if (!visited || !queue || !found) return PD_ERR_WORKSPACE;

    /* The workspace arrives dirty; clearing the marks costs a byte a cell. */
    memset(visited, 0, cells);
    int num_found = 0, queue_len = 0;
    for (int y = 0; y < height; y++) {
        const float *row = map + (ptrdiff_t)y * sy;
        for (int x = 0; x < width; x++) {
            float v = row[(ptrdiff_t)x * sx];
            /* NaN fails this test; +Inf passes it and is dropped just below. */
            if (!(v > threshold)) continue;
            if (v - v != 0.0f) continue;
            int has_equal = 0;
            if (pd_has_higher_neighbour(map, height, width, sy, sx, x, y, radius, v, &has_equal))
                continue;
            int idx = y * width + x;
            if (has_equal) {
                /* Raster order reaches a plateau at its first cell, which floods
                 * and marks the rest, so each plateau is judged exactly once. */
                if (visited[idx]) continue;
                if (!pd_plateau_is_maximum(map, height, width, sy, sx, idx, radius, v,
                                           visited, queue, &queue_len))
                    continue;
            }
            found[num_found].a = idx;
            found[num_found].b = 0;
            found[num_found].score = v;
            num_found++;
        }
    }

    pd_sort_candidates(found, num_found);
    int kept = num_found < max_peaks ? num_found : max_peaks;
    for (int i = 0; i < kept; i++) {
        int idx = found[i].a;
        int y = idx / width, x = idx % width;
        float v = found[i].score;
        double dx = 0.0, dy = 0.0;
        if (x > 0 && x < width - 1)
            dx = pd_fit_offset(CELL(map, y, x - 1, sy, sx), v, CELL(map, y, x + 1, sy, sx));
        if (y > 0 && y < height - 1)
            dy = pd_fit_offset(CELL(map, y - 1, x, sy, sx), v, CELL(map, y + 1, x, sy, sx));
        out_x[i] = (float)(x + dx);
        out_y[i] = (float)(y + dy);
        out_value[i] = v;
    }
    return kept;
}
