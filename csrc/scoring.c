/* Stage 2: limb scoring. The PAF line integral between candidate endpoints,
 * sampled with bilinear interpolation, with OpenPose's length prior. */
#include <float.h>
#include <math.h>

#include "internal.h"

/* Pairs closer than this (map pixels) have no direction to test the PAF with. */
#define PD_MIN_LIMB_LENGTH 1e-3f
/* Peaks a side; the decoder caps max_peaks at this. */
#define PD_SCORE_MAX_SIDE 4096

/* The PAF at (x, y), bilinearly interpolated. Both channels share one set of
 * weights and offsets. */
static inline void pd_paf_at(const float *paf_x, const float *paf_y, int height, int width,
                             ptrdiff_t sy, ptrdiff_t sx, float x, float y, float *vx_out,
                             float *vy_out) {
    /* Endpoints are peaks inside the map, so the segment is too; the clamps
     * only guard against rounding at the far edge. */
    if (x < 0.0f) x = 0.0f;
    if (y < 0.0f) y = 0.0f;
    if (x > (float)(width - 1)) x = (float)(width - 1);
    if (y > (float)(height - 1)) y = (float)(height - 1);
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < width ? x0 + 1 : x0;
    int y1 = y0 + 1 < height ? y0 + 1 : y0;
    float fx = x - (float)x0, fy = y - (float)y0;
    ptrdiff_t o00 = (ptrdiff_t)y0 * sy + (ptrdiff_t)x0 * sx;
    ptrdiff_t o01 = (ptrdiff_t)y0 * sy + (ptrdiff_t)x1 * sx;
    ptrdiff_t o10 = (ptrdiff_t)y1 * sy + (ptrdiff_t)x0 * sx;
    ptrdiff_t o11 = (ptrdiff_t)y1 * sy + (ptrdiff_t)x1 * sx;
    float top = paf_x[o00] + (paf_x[o01] - paf_x[o00]) * fx;
    float bottom = paf_x[o10] + (paf_x[o11] - paf_x[o10]) * fx;
    *vx_out = top + (bottom - top) * fy;
    top = paf_y[o00] + (paf_y[o01] - paf_y[o00]) * fx;
    bottom = paf_y[o10] + (paf_y[o11] - paf_y[o10]) * fx;
    *vy_out = top + (bottom - top) * fy;
}

/* 1 when the four corners of the square at (cx, cy) (steps 0 at the far edges)
 * hold finite values in both channels. */
static int pd_corners_finite(const float *paf_x, const float *paf_y, ptrdiff_t o00,
                             ptrdiff_t step_x, ptrdiff_t step_y) {
    const ptrdiff_t at[4] = {o00, o00 + step_x, o00 + step_y, o00 + step_y + step_x};
    for (int c = 0; c < 4; c++)
        if (!(paf_x[at[c]] - paf_x[at[c]] == 0.0f) || !(paf_y[at[c]] - paf_y[at[c]] == 0.0f))
            return 0;
    return 1;
}

/* A sample whose float arithmetic did not stay finite: 0 when it touches NaN or
 * Inf; otherwise its field was so large that the float interpolation or dot
 * product overflowed, and it is redone in double (no term exceeds 4 FLT_MAX)
 * and saturated to +-FLT_MAX, so a sum of samples stays finite. Ordinary fields
 * never get here but for NaN and Inf, which read as 0 as before. */
static float pd_sample_wide(const float *paf_x, const float *paf_y, ptrdiff_t o00,
                            ptrdiff_t step_x, ptrdiff_t step_y, float fx, float fy, float ux,
                            float uy) {
    if (!pd_corners_finite(paf_x, paf_y, o00, step_x, step_y)) return 0.0f;
    const ptrdiff_t o01 = o00 + step_x, o10 = o00 + step_y, o11 = o10 + step_x;
    const double wx = fx, wy = fy;
    double top = paf_x[o00] + ((double)paf_x[o01] - paf_x[o00]) * wx;
    double bottom = paf_x[o10] + ((double)paf_x[o11] - paf_x[o10]) * wx;
    const double vx = top + (bottom - top) * wy;
    top = paf_y[o00] + ((double)paf_y[o01] - paf_y[o00]) * wx;
    bottom = paf_y[o10] + ((double)paf_y[o11] - paf_y[o10]) * wx;
    const double vy = top + (bottom - top) * wy;
    const double dot = vx * (double)ux + vy * (double)uy;
    return (float)(dot > FLT_MAX ? FLT_MAX : dot < -FLT_MAX ? -FLT_MAX : dot);
}

/* The j-th sample index in middle-out order: the middle of a limb tells true
 * limbs from false ones best, so rejections come after few samples. */
static inline int pd_middle_out(int j, int n) {
    int c = (n - 1) / 2;
    if (n % 2 == 0) return (j % 2 == 0) ? c - j / 2 : c + (j + 1) / 2;
    if (j == 0) return c;
    return (j % 2 == 1) ? c - (j + 1) / 2 : c + j / 2;
}

/* log2 of the smallest power of two >= width. */
static int pd_row_shift(int width) {
    int shift = 0;
    while ((1 << shift) < width) shift++;
    return shift;
}

/* Pairs awaiting their exact score, gathered across several a so that each
 * sample is taken for many pairs at once: the position arithmetic and the
 * interpolation then vectorise and only the field reads stay scalar.
 * Compaction keeps the pairs in the (a, b) order they were added in. */
#define PD_BATCH 256
/* Fewer pairs than this are sampled in one scalar pass: the vector loops'
 * setup costs more than they save. */
#define PD_DENSE_MIN 4
typedef struct {
    int count;
    int32_t *a, *b, *slot, *failures, *cell_x, *cell_y;
    float *x0, *y0, *dx, *dy, *ux, *uy, *frac_x, *frac_y;
    float *corner[8]; /* a sample's corners: x then y channel, at (0,0) (0,1) (1,0) (1,1) */
    float *sampled;   /* a sample's dot products, pair by pair in live order */
    float *dots; /* sample k of the pair first added at slot r: dots[k * PD_BATCH + r] */
    /* The field as (x, y) pairs, (height + 1) x (width + 1) cells with the last row
     * and column repeated (pd_pad_field), or NULL: corners are then read in place. */
    const float *padded;
} pd_batch;

static void pd_batch_layout(pd_batch *batch, int paf_samples, pd_arena *arena) {
    int32_t **ints[] = {&batch->a, &batch->b, &batch->slot, &batch->failures, &batch->cell_x,
                        &batch->cell_y};
    float **floats[] = {&batch->x0, &batch->y0, &batch->dx, &batch->dy,
                        &batch->ux, &batch->uy, &batch->frac_x, &batch->frac_y};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        *ints[k] = pd_take(arena, PD_BATCH * sizeof(int32_t));
    for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++)
        *floats[k] = pd_take(arena, PD_BATCH * sizeof(float));
    for (int k = 0; k < 8; k++) batch->corner[k] = pd_take(arena, PD_BATCH * sizeof(float));
    batch->sampled = pd_take(arena, PD_BATCH * sizeof(float));
    batch->dots = pd_take(arena, (size_t)paf_samples * PD_BATCH * sizeof(float));
    batch->count = 0;
    batch->padded = NULL;
}

/* The cell and the offsets within it of sample t of each pair. */
static void pd_sample_cells(int count, float t, float max_x, float max_y,
                            const float *restrict x0, const float *restrict y0,
                            const float *restrict dx, const float *restrict dy,
                            int32_t *restrict cell_x, int32_t *restrict cell_y,
                            float *restrict frac_x, float *restrict frac_y) {
    for (int q = 0; q < count; q++) {
        /* Endpoints are peaks inside the map, so the segment is too; the clamps
         * only guard against rounding at the far edge. */
        float x = x0[q] + dx[q] * t, y = y0[q] + dy[q] * t;
        x = x < 0.0f ? 0.0f : x;
        y = y < 0.0f ? 0.0f : y;
        x = x > max_x ? max_x : x;
        y = y > max_y ? max_y : y;
        int32_t cx = (int32_t)x, cy = (int32_t)y;
        cell_x[q] = cx;
        cell_y[q] = cy;
        frac_x[q] = x - (float)cx;
        frac_y[q] = y - (float)cy;
    }
}

/* The offsets of the corners (0,0) and (1,0) of the square of cell (cx, cy), and
 * the step to (0,1) and (1,1): 0 at the far edges, as in pd_paf_at. */
static inline void pd_square(int cx, int cy, int height, int width, ptrdiff_t sy, ptrdiff_t sx,
                             ptrdiff_t *o00, ptrdiff_t *o10, ptrdiff_t *step_x) {
    *o00 = (ptrdiff_t)cy * sy + (ptrdiff_t)cx * sx;
    *o10 = cy + 1 < height ? *o00 + sy : *o00;
    *step_x = cx + 1 < width ? sx : 0;
}

/* The field interpolated from a square's corners (x channel, then y), both
 * channels with one set of weights, dotted with u; pd_paf_at's order of
 * operations, so every caller rounds alike. */
static inline float pd_corner_dot(float x00, float x01, float x10, float x11, float y00,
                                  float y01, float y10, float y11, float fx, float fy, float ux,
                                  float uy) {
    float top = x00 + (x01 - x00) * fx;
    float bottom = x10 + (x11 - x10) * fx;
    const float vx = top + (bottom - top) * fy;
    top = y00 + (y01 - y00) * fx;
    bottom = y10 + (y11 - y10) * fx;
    const float vy = top + (bottom - top) * fy;
    return vx * ux + vy * uy;
}

/* The four corners of each pair's sample square, both channels, into corner[0..3]
 * (x) and corner[4..7] (y): only these reads stay scalar. At the far edges the
 * square's second corner is its first, as in pd_paf_at. */
static void pd_gather_corners(const float *paf_x, const float *paf_y, int height, int width,
                              ptrdiff_t sy, ptrdiff_t sx, int count,
                              const int32_t *restrict cell_x, const int32_t *restrict cell_y,
                              float *const *corner) {
    float *restrict x00 = corner[0], *restrict x01 = corner[1], *restrict x10 = corner[2],
                    *restrict x11 = corner[3], *restrict y00 = corner[4], *restrict y01 = corner[5],
                    *restrict y10 = corner[6], *restrict y11 = corner[7];
    for (int q = 0; q < count; q++) {
        ptrdiff_t a, b, step;
        pd_square(cell_x[q], cell_y[q], height, width, sy, sx, &a, &b, &step);
        x00[q] = paf_x[a];
        x01[q] = paf_x[a + step];
        x10[q] = paf_x[b];
        x11[q] = paf_x[b + step];
        y00[q] = paf_y[a];
        y01[q] = paf_y[a + step];
        y10[q] = paf_y[b];
        y11[q] = paf_y[b + step];
    }
}

/* pd_gather_corners from the padded field: a square's corners are two runs of
 * four floats, one row apart, with no edge tests (the repeated last row and
 * column hold what pd_square's zero steps would read). (padded_width = width + 1.) */
static void pd_gather_padded(const float *restrict padded, int padded_width, int count,
                             const int32_t *restrict cell_x, const int32_t *restrict cell_y,
                             float *const *corner) {
    float *restrict x00 = corner[0], *restrict x01 = corner[1], *restrict x10 = corner[2],
                    *restrict x11 = corner[3], *restrict y00 = corner[4], *restrict y01 = corner[5],
                    *restrict y10 = corner[6], *restrict y11 = corner[7];
    const ptrdiff_t row = 2 * (ptrdiff_t)padded_width;
    for (int q = 0; q < count; q++) {
        const float *top = padded + 2 * ((ptrdiff_t)cell_y[q] * padded_width + cell_x[q]);
        const float *bottom = top + row;
        x00[q] = top[0];
        y00[q] = top[1];
        x01[q] = top[2];
        y01[q] = top[3];
        x10[q] = bottom[0];
        y10[q] = bottom[1];
        x11[q] = bottom[2];
        y11[q] = bottom[3];
    }
}

/* Each pair's sample dotted with the limb's direction (pd_corner_dot), from
 * dense arrays, so the arithmetic vectorises. */
static void pd_sample_dots(int count, float *const *corner, const float *restrict frac_x,
                           const float *restrict frac_y, const float *restrict ux,
                           const float *restrict uy, float *restrict dots) {
    const float *restrict x00 = corner[0], *restrict x01 = corner[1], *restrict x10 = corner[2],
                          *restrict x11 = corner[3], *restrict y00 = corner[4],
                          *restrict y01 = corner[5], *restrict y10 = corner[6],
                          *restrict y11 = corner[7];
    for (int q = 0; q < count; q++)
        dots[q] = pd_corner_dot(x00[q], x01[q], x10[q], x11[q], y00[q], y01[q], y10[q], y11[q],
                                frac_x[q], frac_y[q], ux[q], uy[q]);
}

/* Scores every pair of the batch from all n samples, as the PAF line integral
 * defines it, and appends the candidates to `out`; returns how many. A pair is
 * dropped once more than max_failures samples fail; the survivors' dot
 * products are summed in sample order, whatever order they were taken in. */
static int pd_score_batch(const float *paf_x, const float *paf_y, int height, int width,
                          ptrdiff_t sy, ptrdiff_t sx, pd_batch *batch, const int32_t *order,
                          const float *t, int n, int max_failures, float threshold,
                          pd_candidate *out) {
    int live = batch->count;
    int32_t *restrict a = batch->a, *restrict b = batch->b, *restrict slot = batch->slot;
    int32_t *restrict failures = batch->failures;
    int32_t *restrict cell_x = batch->cell_x, *restrict cell_y = batch->cell_y;
    float *restrict x0 = batch->x0, *restrict y0 = batch->y0;
    float *restrict dx = batch->dx, *restrict dy = batch->dy;
    float *restrict ux = batch->ux, *restrict uy = batch->uy;
    float *restrict frac_x = batch->frac_x, *restrict frac_y = batch->frac_y;
    float *restrict dots = batch->dots, *restrict sampled = batch->sampled;
    for (int q = 0; q < live; q++) {
        float length = sqrtf(dx[q] * dx[q] + dy[q] * dy[q]);
        ux[q] = dx[q] / length;
        uy[q] = dy[q] / length;
        slot[q] = q;
        failures[q] = 0;
    }
    const float max_x = (float)(width - 1), max_y = (float)(height - 1);
    for (int s0 = 0; s0 < n && live > 0; s0 += 3) {
        const int s1 = s0 + 3 < n ? s0 + 3 : n;
        for (int s = s0; s < s1; s++) {
            const int k = order[s];
            const float tk = t[k];
            float *restrict dots_k = dots + (size_t)k * PD_BATCH;
            pd_sample_cells(live, tk, max_x, max_y, x0, y0, dx, dy, cell_x, cell_y, frac_x, frac_y);
            if (live >= PD_DENSE_MIN) {
                if (batch->padded)
                    pd_gather_padded(batch->padded, width + 1, live, cell_x, cell_y,
                                     batch->corner);
                else
                    pd_gather_corners(paf_x, paf_y, height, width, sy, sx, live, cell_x,
                                      cell_y, batch->corner);
                pd_sample_dots(live, batch->corner, frac_x, frac_y, ux, uy, sampled);
            } else {
                for (int q = 0; q < live; q++) {
                    ptrdiff_t o00, o10, step;
                    pd_square(cell_x[q], cell_y[q], height, width, sy, sx, &o00, &o10, &step);
                    sampled[q] = pd_corner_dot(paf_x[o00], paf_x[o00 + step], paf_x[o10],
                                               paf_x[o10 + step], paf_y[o00], paf_y[o00 + step],
                                               paf_y[o10], paf_y[o10 + step], frac_x[q],
                                               frac_y[q], ux[q], uy[q]);
                }
            }
            int wide = 0;
            for (int q = 0; q < live; q++) {
                failures[q] += !(sampled[q] > threshold);
                wide |= !(sampled[q] - sampled[q] == 0.0f);
            }
            /* Non-finite dots are replaced, and counted again. */
            for (int q = 0; q < live && wide; q++) {
                if (sampled[q] - sampled[q] == 0.0f) continue;
                const int counted = !(sampled[q] > threshold);
                ptrdiff_t o00, o10, step;
                pd_square(cell_x[q], cell_y[q], height, width, sy, sx, &o00, &o10, &step);
                sampled[q] = pd_sample_wide(paf_x, paf_y, o00, step, o10 - o00, frac_x[q],
                                            frac_y[q], ux[q], uy[q]);
                failures[q] += !(sampled[q] > threshold) - counted;
            }
            for (int q = 0; q < live; q++) dots_k[slot[q]] = sampled[q];
        }
        int kept = 0;
        for (int q = 0; q < live; q++) {
            a[kept] = a[q];
            b[kept] = b[q];
            slot[kept] = slot[q];
            failures[kept] = failures[q];
            x0[kept] = x0[q];
            y0[kept] = y0[q];
            dx[kept] = dx[q];
            dy[kept] = dy[q];
            ux[kept] = ux[q];
            uy[kept] = uy[q];
            kept += failures[q] <= max_failures;
        }
        live = kept;
    }
    int count = 0;
    for (int q = 0; q < live; q++) {
        double sum = 0.0;
        for (int k = 0; k < n; k++) sum += dots[(size_t)k * PD_BATCH + slot[q]];
        /* OpenPose's prior: limbs longer than half the map height lose score. */
        float length = sqrtf(dx[q] * dx[q] + dy[q] * dy[q]);
        double prior = 0.5 * (double)height / (double)length - 1.0;
        double score = sum / n + (prior < 0.0 ? prior : 0.0);
        if (!(score > 0.0)) continue;
        out[count].a = a[q];
        out[count].b = b[q];
        out[count].score = (float)score;
        count++;
    }
    batch->count = 0;
    return count;
}

/* The workspace of one limb type: the support mask (rows a power of two apart),
 * the sample order and positions, the per-b arrays of the prefilter, the batch
 * and a sort's scratch for side x side candidates. */
typedef struct {
    uint8_t *mask;
    int32_t *order, *misses, *alive, *cell;
    float *t, *rel_x, *rel_y, *vb_x, *vb_y, *vb_slack2, *padded;
    pd_candidate *sort_scratch;
    pd_batch batch;
} pd_score_ws;

static void pd_score_layout(pd_score_ws *w, int height, int width, int n, int side,
                            pd_arena *arena) {
    /* Bytes: a quarter of the cache lines of int32, beside the padded field. */
    w->mask = pd_take(arena, (size_t)height << pd_row_shift(width));
    w->order = pd_take(arena, (size_t)n * sizeof(int32_t));
    w->t = pd_take(arena, (size_t)n * sizeof(float));
    w->misses = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(int32_t));
    w->alive = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(int32_t));
    w->rel_x = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(float));
    w->rel_y = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(float));
    w->cell = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(int32_t));
    w->vb_x = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(float));
    w->vb_y = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(float));
    w->vb_slack2 = pd_take(arena, PD_SCORE_MAX_SIDE * sizeof(float));
    w->sort_scratch = pd_take(arena, (size_t)side * (size_t)side * sizeof(pd_candidate));
    w->padded = pd_take(arena, 2 * (size_t)(height + 1) * (size_t)(width + 1) * sizeof(float));
    pd_batch_layout(&w->batch, n, arena);
}

size_t pd_score_workspace_size(int height, int width, int paf_samples, int max_peaks) {
    pd_score_ws w;
    pd_arena arena;
    pd_arena_measuring(&arena);
    pd_score_layout(&w, height > 0 ? height : 0, width > 0 ? width : 1,
                    paf_samples > 0 ? paf_samples : 0, max_peaks > 0 ? max_peaks : 0, &arena);
    return pd_arena_size(&arena);
}

/* Marks the cells (x, y) whose bilinear square [x, x+1] x [y, y+1] has a corner
 * with |PAF| above the threshold. A sample in an unmarked square interpolates
 * vectors no longer than the threshold, so its dot product with any unit
 * vector cannot exceed it: it fails without being interpolated. */
static void pd_support_mask(const float *paf_x, const float *paf_y, int height, int width,
                            ptrdiff_t sy, ptrdiff_t sx, float threshold, uint8_t *mask,
                            int shift) {
    /* A hair below the threshold, so rounding in the interpolation can never
     * let an unmarked sample pass. */
    const float limit = threshold * threshold * (1.0f - 1e-5f);
    for (int y = 0; y < height; y++) {
        const float *rx = paf_x + (ptrdiff_t)y * sy, *ry = paf_y + (ptrdiff_t)y * sy;
        uint8_t *restrict row = mask + ((size_t)y << shift);
        /* NaN fails the magnitude test and Inf passes it; both are marked, and
         * then read as 0 when interpolated, as on the unmasked path. */
        if (sx == 1) {
            for (int x = 0; x < width; x++) {
                float vx = rx[x], vy = ry[x], m = vx * vx + vy * vy;
                row[x] = (m > limit) | (m != m);
            }
        } else {
            for (int x = 0; x < width; x++) {
                float vx = rx[(ptrdiff_t)x * sx], vy = ry[(ptrdiff_t)x * sx];
                float m = vx * vx + vy * vy;
                row[x] = (m > limit) | (m != m);
            }
        }
    }
    /* Spread each mark to the squares that have the cell as a corner. */
    for (int y = 0; y < height; y++) {
        uint8_t *restrict row = mask + ((size_t)y << shift);
        const uint8_t *below = y + 1 < height ? row + ((size_t)1 << shift) : row;
        uint8_t last = row[width - 1] | below[width - 1];
        for (int x = 0; x + 1 < width; x++)
            row[x] = row[x] | row[x + 1] | below[x] | below[x + 1];
        row[width - 1] = last;
    }
}

/* The squared slack below the threshold that a sample's dot product must
 * stay under to fail for sure, or -1 when no such slack is known. */
static inline float pd_sure_slack2(float threshold, float margin) {
    float slack = threshold - margin;
    return slack > 0.0f ? slack * slack * (1.0f - 1e-5f) : -1.0f;
}

/* For every pair from a = (x0, y0): the offset to b, how many of its two end
 * samples fail for sure, and whether its length is in range. The end samples
 * sit on a and b (up to rounding), whose fields va and vb were read once; a
 * dot product v.d below slack * |d| fails whatever the rounding of the exact
 * path, and squaring keeps square roots and divisions out of the loop. */
static void pd_endpoint_misses(int nb, const float *restrict bx, const float *restrict by,
                               float x0, float y0, float va_x, float va_y, float slack2_a,
                               const float *restrict vb_x, const float *restrict vb_y,
                               const float *restrict slack2_b, float min_length2,
                               float max_length2, float *restrict rel_x, float *restrict rel_y,
                               int32_t *restrict misses, int32_t *restrict in_range) {
    for (int j = 0; j < nb; j++) {
        float dx = bx[j] - x0, dy = by[j] - y0, length2 = dx * dx + dy * dy;
        float pa = va_x * dx + va_y * dy, pb = vb_x[j] * dx + vb_y[j] * dy;
        /* Bitwise, not short-circuit, so the loop vectorises. */
        int32_t fail_a = (slack2_a >= 0.0f) & ((pa <= 0.0f) | (pa * pa <= slack2_a * length2));
        int32_t fail_b =
            (slack2_b[j] >= 0.0f) & ((pb <= 0.0f) | (pb * pb <= slack2_b[j] * length2));
        rel_x[j] = dx;
        rel_y[j] = dy;
        misses[j] = fail_a + fail_b;
        in_range[j] = (length2 >= min_length2) & (length2 <= max_length2);
    }
}

/* The inliers a candidate needs, from their share: computed in double with a
 * tolerance that keeps 0.8 * 10 at 8 despite binary rounding. */
static int pd_min_inliers(const pd_params *params) {
    const int n = params->paf_samples;
    int need = (int)ceil(params->min_inlier_ratio * (double)n - 1e-9);
    return need < n ? need : n;
}

/* The longest pair scored, in map pixels; 0 when unlimited. The division runs in
 * double and rounds once, to float. */
static float pd_max_length(const pd_params *params) {
    if (!(params->max_limb_length > 0.0)) return 0.0f;
    return (float)(params->max_limb_length / (double)params->stride);
}

/* One limb type's field and the rules its candidates meet. */
typedef struct {
    const float *paf_x, *paf_y;
    int height, width, shift, n, max_failures;
    ptrdiff_t sy, sx;
    float threshold, min_length2, max_length2;
} pd_limb_field;

/* For each b: the field there, and the slack below the threshold that its end
 * sample's dot product must stay under to fail for sure. */
static void pd_end_slacks(const pd_limb_field *f, const float *bx, const float *by, int nb,
                          pd_score_ws *w) {
    const float *paf_x = f->paf_x, *paf_y = f->paf_y;
    const int height = f->height, width = f->width;
    const ptrdiff_t sy = f->sy, sx = f->sx;
    /* The last sample lands on b up to the rounding of a + (b - a): within
     * a couple of ulps of the larger coordinate. */
    const float reach = 2.5e-7f * (float)(height > width ? height : width);
    for (int j = 0; j < nb; j++) {
        pd_paf_at(paf_x, paf_y, height, width, sy, sx, bx[j], by[j], &w->vb_x[j], &w->vb_y[j]);
        /* While the sample stays in b's square, the largest |vx| + |vy|
         * of its corners bounds how far the interpolated field moves. */
        float fx = bx[j] - floorf(bx[j]), fy = by[j] - floorf(by[j]);
        int cx = (int)bx[j], cy = (int)by[j];
        int nx = cx + 1 < width ? cx + 1 : cx, ny = cy + 1 < height ? cy + 1 : cy;
        ptrdiff_t o00 = (ptrdiff_t)cy * sy + (ptrdiff_t)cx * sx;
        ptrdiff_t o01 = (ptrdiff_t)cy * sy + (ptrdiff_t)nx * sx;
        ptrdiff_t o10 = (ptrdiff_t)ny * sy + (ptrdiff_t)cx * sx;
        ptrdiff_t o11 = (ptrdiff_t)ny * sy + (ptrdiff_t)nx * sx;
        /* A sum rather than a max: no smaller, and NaN stays NaN. */
        float bound = fabsf(paf_x[o00]) + fabsf(paf_y[o00]) + fabsf(paf_x[o01]) +
                      fabsf(paf_y[o01]) + fabsf(paf_x[o10]) + fabsf(paf_y[o10]) +
                      fabsf(paf_x[o11]) + fabsf(paf_y[o11]);
        int inside = fx > reach && fx < 1.0f - reach && fy > reach && fy < 1.0f - reach;
        if (!inside || !(bound < INFINITY)) bound = INFINITY;
        /* NaN and Inf leave no slack: the end sample is never counted. */
        w->vb_slack2[j] = pd_sure_slack2(f->threshold, bound * (8.0f * reach + 1e-4f));
    }
}

/* 1 when the bilinear square holding (x, y) has finite corners. */
static int pd_square_finite(const pd_limb_field *f, float x, float y) {
    int cx = (int)x, cy = (int)y;
    ptrdiff_t step_x = cx + 1 < f->width ? f->sx : 0, step_y = cy + 1 < f->height ? f->sy : 0;
    return pd_corners_finite(f->paf_x, f->paf_y, (ptrdiff_t)cy * f->sy + (ptrdiff_t)cx * f->sx,
                             step_x, step_y);
}

/* Drops, from the pairs (x0, y0) -> b that are in range, the ones that fail for
 * sure by counting their samples that certainly fail: the two end samples,
 * tested against the fields at a and b, and the others, which land in
 * unsupported squares. A pair with too many is dropped without interpolating
 * anything. The first samples are counted over dense arrays of all pairs, so
 * their cell indices come from loops the compiler vectorises; the few pairs
 * left then move on as indices into those arrays, compacted every few samples.
 * Returns how many are left, their b in w->alive in increasing order. */
static int pd_prefilter_pairs(const pd_limb_field *f, pd_score_ws *w, float x0, float y0,
                              const float *bx, const float *by, int nb) {
    int32_t *restrict misses = w->misses, *restrict alive = w->alive, *restrict cell = w->cell;
    float *restrict rel_x = w->rel_x, *restrict rel_y = w->rel_y;
    const uint8_t *mask = w->mask;
    const int32_t *order = w->order;
    const int n = f->n, shift = f->shift;
    float va_x, va_y;
    pd_paf_at(f->paf_x, f->paf_y, f->height, f->width, f->sy, f->sx, x0, y0, &va_x, &va_y);
    /* The first sample is a itself: only the rounding of the dot product needs a
     * margin. Non-finite fields read as 0 there, which always fails. */
    float slack2_a = pd_sure_slack2(f->threshold, 1e-4f * (fabsf(va_x) + fabsf(va_y)));
    if (!(fabsf(va_x) + fabsf(va_y) < INFINITY)) {
        va_x = va_y = 0.0f;
        /* A finite field too large for float arithmetic is scored exactly, in
         * double: nothing is known about its end sample here. */
        slack2_a = pd_square_finite(f, x0, y0) ? -1.0f : 0.0f;
    }
    /* alive holds whether each pair is in range until the compaction below. */
    pd_endpoint_misses(nb, bx, by, x0, y0, va_x, va_y, slack2_a, w->vb_x, w->vb_y, w->vb_slack2,
                       f->min_length2, f->max_length2, rel_x, rel_y, misses, alive);
    /* The first four samples are counted for every pair, dense, and the pairs
     * out of range or with too many misses go in the one compaction after: the
     * same pairs survive as when out-of-range pairs go first, with a pass less.
     * (Any pair's samples lie in the map, in range or not.) Four: three leave
     * more pairs to the sparse rounds, five cost every pair more (measured). */
    const int first = n < 4 ? n : 4;
    for (int s = 0; s < first; s++) {
        if (order[s] == 0 || order[s] == n - 1) continue; /* counted above */
        const float tk = w->t[order[s]];
        for (int j = 0; j < nb; j++)
            cell[j] = ((int32_t)(y0 + rel_y[j] * tk) << shift) | (int32_t)(x0 + rel_x[j] * tk);
        for (int j = 0; j < nb; j++) misses[j] += mask[cell[j]] == 0;
    }
    /* Few pairs survive the first samples: only their indices move on, and the
     * later samples read their offsets and misses through them. */
    int live = 0;
    for (int j = 0; j < nb; j++) {
        int32_t keep = alive[j] & (misses[j] <= f->max_failures);
        alive[live] = j;
        live += keep;
    }
    for (int s0 = first; s0 < n && live > 0; s0 += 3) {
        const int s1 = s0 + 3 < n ? s0 + 3 : n;
        for (int s = s0; s < s1; s++) {
            if (order[s] == 0 || order[s] == n - 1) continue; /* counted above */
            const float tk = w->t[order[s]];
            /* Endpoints are peaks inside the map and t is in [0, 1], so
             * truncation lands in the map: no clamping needed. */
            for (int q = 0; q < live; q++) {
                const int j = alive[q];
                cell[q] = ((int32_t)(y0 + rel_y[j] * tk) << shift) | (int32_t)(x0 + rel_x[j] * tk);
            }
            for (int q = 0; q < live; q++) misses[alive[q]] += mask[cell[q]] == 0;
        }
        int kept = 0;
        for (int q = 0; q < live; q++) {
            const int j = alive[q];
            alive[kept] = j;
            kept += misses[j] <= f->max_failures;
        }
        live = kept;
    }
    return live;
}

/* Scores the batch's pairs and empties it; returns the candidates appended. */
static int pd_flush_batch(const pd_limb_field *f, pd_score_ws *w, pd_candidate *out) {
    return pd_score_batch(f->paf_x, f->paf_y, f->height, f->width, f->sy, f->sx, &w->batch,
                          w->order, w->t, f->n, f->max_failures, f->threshold, out);
}

/* The field of a limb type copied as (x, y) pairs into (height + 1) x (width + 1)
 * cells, the last row and column repeated, for pd_gather_padded. Values are copied
 * as they are, NaN and Inf included. */
static void pd_pad_field(const float *paf_x, const float *paf_y, int height, int width,
                         ptrdiff_t sy, ptrdiff_t sx, float *restrict padded) {
    for (int y = 0; y <= height; y++) {
        const ptrdiff_t row = (ptrdiff_t)(y < height ? y : height - 1) * sy;
        float *out = padded + 2 * (ptrdiff_t)y * (width + 1);
        for (int x = 0; x < width; x++) {
            out[2 * x] = paf_x[row + (ptrdiff_t)x * sx];
            out[2 * x + 1] = paf_y[row + (ptrdiff_t)x * sx];
        }
        out[2 * width] = out[2 * width - 2];
        out[2 * width + 1] = out[2 * width - 1];
    }
}

/* The mask pays for itself once there are more pairs than a few rows of cells;
 * below that, interpolating every sample is cheaper. It changes only the work
 * done, never the result. Within these bounds the squared threshold and
 * magnitudes neither overflow nor flush to zero where it matters, so the mask is
 * exact; outside, do without. */
static int pd_use_mask(float threshold, int na, int nb, int height, int width) {
    return threshold >= 1e-15f && threshold <= 1e15f &&
           (int64_t)na * nb * 32 > (int64_t)height * width;
}

int pd_score_limb(const float *paf_x, const float *paf_y, int height, int width,
                  ptrdiff_t sy, ptrdiff_t sx, const float *ax, const float *ay, int na,
                  const float *bx, const float *by, int nb, const pd_params *params,
                  pd_candidate *out, void *workspace, size_t workspace_size) {
    const int n = params->paf_samples;
    if (n < 2 || nb > PD_SCORE_MAX_SIDE || na > PD_SCORE_MAX_SIDE) return PD_ERR_WORKSPACE;
    pd_score_ws w;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    pd_score_layout(&w, height, width, n, na > nb ? na : nb, &arena);
    if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
    const float max_length = pd_max_length(params);
    const pd_limb_field f = {paf_x, paf_y, height, width, pd_row_shift(width), n,
                             n - pd_min_inliers(params), sy, sx, params->paf_threshold,
                             PD_MIN_LIMB_LENGTH * PD_MIN_LIMB_LENGTH,
                             max_length > 0.0f ? max_length * max_length : INFINITY};
    for (int k = 0; k < n; k++) {
        w.order[k] = pd_middle_out(k, n);
        w.t[k] = (float)((double)k / (double)(n - 1));
    }
    const int use_mask = pd_use_mask(f.threshold, na, nb, height, width);
    if (use_mask) {
        pd_support_mask(paf_x, paf_y, height, width, sy, sx, f.threshold, w.mask, f.shift);
        pd_end_slacks(&f, bx, by, nb, &w);
    }
    int count = 0;
    for (int i = 0; i < na; i++) {
        const float x0 = ax[i], y0 = ay[i];
        const int live = use_mask ? pd_prefilter_pairs(&f, &w, x0, y0, bx, by, nb) : nb;
        for (int q = 0; q < live; q++) {
            int j = use_mask ? w.alive[q] : q;
            float dx = bx[j] - x0, dy = by[j] - y0;
            float length2 = dx * dx + dy * dy;
            if (length2 < f.min_length2 || length2 > f.max_length2) continue;
            if (w.batch.count == PD_BATCH) {
                /* A limb type that fills batches has pairs enough for the copy to pay. */
                if (!w.batch.padded) {
                    pd_pad_field(paf_x, paf_y, height, width, sy, sx, w.padded);
                    w.batch.padded = w.padded;
                }
                count += pd_flush_batch(&f, &w, out + count);
            }
            int r = w.batch.count++;
            w.batch.a[r] = i;
            w.batch.b[r] = j;
            w.batch.x0[r] = x0;
            w.batch.y0[r] = y0;
            w.batch.dx[r] = dx;
            w.batch.dy[r] = dy;
        }
    }
    count += pd_flush_batch(&f, &w, out + count);
    /* Pairs were written in (a, b) order: a stable sort on the score completes it. */
    pd_sort_candidates_stable(out, count, w.sort_scratch);
    return count;
}

int pd_stage_candidates(const pd_params *params, const pd_skeleton *s, const pd_fields *paf,
                        int l, const pd_peak_set *peaks, pd_candidate *out, void *workspace,
                        size_t workspace_size) {
    const int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
    const int na = peaks->count[ka], nb = peaks->count[kb];
    if (na == 0 || nb == 0) return 0;
    const size_t oa = (size_t)ka * peaks->max_peaks, ob = (size_t)kb * peaks->max_peaks;
    const float *fx = paf->data + (ptrdiff_t)s->limb_paf[2 * l] * paf->stride_c;
    const float *fy = paf->data + (ptrdiff_t)s->limb_paf[2 * l + 1] * paf->stride_c;
    int nc = pd_score_limb(fx, fy, paf->height, paf->width, paf->stride_y, paf->stride_x,
                           peaks->x + oa, peaks->y + oa, na, peaks->x + ob, peaks->y + ob, nb,
                           params, out, workspace, workspace_size);
    return nc > params->max_candidates ? params->max_candidates : nc;
}
