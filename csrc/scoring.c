/* Stage 2: limb scoring. The PAF line integral between candidate endpoints,
 * sampled with bilinear interpolation, with OpenPose's length prior. */
#include <math.h>

#include "internal.h"

/* Pairs closer than this (map pixels) have no direction to test the PAF with. */
#define PD_MIN_LIMB_LENGTH 1e-3f
/* Peaks a side; the decoder caps max_peaks at this. */
#define PD_SCORE_MAX_SIDE 4096

/* The PAF at (x, y), bilinearly interpolated, dotted with (ux, uy). Both
 * channels share one set of weights and offsets. */
static inline float pd_paf_dot(const float *paf_x, const float *paf_y, int height, int width,
                               ptrdiff_t sy, ptrdiff_t sx, float x, float y, float ux, float uy) {
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
    float vx = top + (bottom - top) * fy;
    top = paf_y[o00] + (paf_y[o01] - paf_y[o00]) * fx;
    bottom = paf_y[o10] + (paf_y[o11] - paf_y[o10]) * fx;
    float vy = top + (bottom - top) * fy;
    return vx * ux + vy * uy;
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

size_t pd_score_workspace_size(int height, int width, int paf_samples, int max_peaks) {
    size_t cells = (size_t)(height > 0 ? height : 0) << pd_row_shift(width > 0 ? width : 1);
    size_t n = (size_t)(paf_samples > 0 ? paf_samples : 0);
    size_t side = (size_t)(max_peaks > 0 ? max_peaks : 0);
    return pd_round_up(cells * sizeof(int32_t)) + pd_round_up(n * sizeof(int32_t)) +
           pd_round_up(n * sizeof(float)) + pd_round_up(n * sizeof(double)) +
           5 * pd_round_up(PD_SCORE_MAX_SIDE * sizeof(int32_t)) +
           pd_round_up(side * side * sizeof(pd_candidate)) + 10 * PD_ALIGN;
}

/* Marks the cells (x, y) whose bilinear square [x, x+1] x [y, y+1] has a corner
 * with |PAF| above the threshold. A sample in an unmarked square interpolates
 * vectors no longer than the threshold, so its dot product with any unit
 * vector cannot exceed it: it fails without being interpolated. */
static void pd_support_mask(const float *paf_x, const float *paf_y, int height, int width,
                            ptrdiff_t sy, ptrdiff_t sx, float threshold, int32_t *mask,
                            int shift) {
    /* A hair below the threshold, so rounding in the interpolation can never
     * let an unmarked sample pass. */
    const float limit = threshold * threshold * (1.0f - 1e-5f);
    for (int y = 0; y < height; y++) {
        const float *rx = paf_x + (ptrdiff_t)y * sy, *ry = paf_y + (ptrdiff_t)y * sy;
        int32_t *restrict row = mask + ((size_t)y << shift);
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
        int32_t *restrict row = mask + ((size_t)y << shift);
        const int32_t *below = y + 1 < height ? row + ((size_t)1 << shift) : row;
        int32_t last = row[width - 1] | below[width - 1];
        for (int x = 0; x + 1 < width; x++)
            row[x] = row[x] | row[x + 1] | below[x] | below[x + 1];
        row[width - 1] = last;
    }
}

/* The exact score of the pair (a, b) from all n samples, or a negative value
 * when it is no candidate. `order` is the middle-out sample order. */
static double pd_score_pair(const float *paf_x, const float *paf_y, int height, int width,
                            ptrdiff_t sy, ptrdiff_t sx, float ax, float ay, float dx, float dy,
                            float length2, const int32_t *order, const float *t, int n,
                            int max_failures, float threshold, double *dots) {
    float length = sqrtf(length2);
    float ux = dx / length, uy = dy / length;
    int failures = 0;
    for (int s = 0; s < n; s++) {
        int k = order[s];
        float px = ax + dx * t[k], py = ay + dy * t[k];
        float dot = pd_paf_dot(paf_x, paf_y, height, width, sy, sx, px, py, ux, uy);
        /* A sample that touches NaN or Inf reads as 0. */
        dot = pd_finite_or_zero(dot);
        dots[k] = dot;
        if (!(dot > threshold) && ++failures > max_failures) return -1.0;
    }
    /* Summed in sample order, whatever order the samples were taken in. */
    double sum = 0.0;
    for (int k = 0; k < n; k++) sum += dots[k];
    /* OpenPose's prior: limbs longer than half the map height lose score. */
    double prior = 0.5 * (double)height / (double)length - 1.0;
    double score = sum / n + (prior < 0.0 ? prior : 0.0);
    return score > 0.0 ? score : -1.0;
}

int pd_score_limb(const float *paf_x, const float *paf_y, int height, int width,
                  ptrdiff_t sy, ptrdiff_t sx, const float *ax, const float *ay, int na,
                  const float *bx, const float *by, int nb, const pd_params *params,
                  pd_candidate *out, void *workspace, size_t workspace_size) {
    const int n = params->paf_samples;
    if (n < 2 || nb > PD_SCORE_MAX_SIDE ||
        workspace_size < pd_score_workspace_size(height, width, n, na > nb ? na : nb))
        return PD_ERR_WORKSPACE;
    const int max_failures = n - params->min_inliers;
    const float threshold = params->paf_threshold;
    const float max_length = params->max_limb_length;
    const float min_length2 = PD_MIN_LIMB_LENGTH * PD_MIN_LIMB_LENGTH;
    const float max_length2 = max_length > 0.0f ? max_length * max_length : INFINITY;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    /* int32 rather than bytes: the marking loops vectorise without packing. Rows
     * are a power of two apart, so a cell's index is a shift and an or. */
    const int shift = pd_row_shift(width);
    int32_t *mask = pd_take(&arena, ((size_t)height << shift) * sizeof(int32_t));
    int32_t *order = pd_take(&arena, (size_t)n * sizeof(int32_t));
    float *t = pd_take(&arena, (size_t)n * sizeof(float));
    double *dots = pd_take(&arena, (size_t)n * sizeof(double));
    int32_t *misses = pd_take(&arena, PD_SCORE_MAX_SIDE * sizeof(int32_t));
    int32_t *alive = pd_take(&arena, PD_SCORE_MAX_SIDE * sizeof(int32_t));
    float *rel_x = pd_take(&arena, PD_SCORE_MAX_SIDE * sizeof(float));
    float *rel_y = pd_take(&arena, PD_SCORE_MAX_SIDE * sizeof(float));
    int32_t *cell = pd_take(&arena, PD_SCORE_MAX_SIDE * sizeof(int32_t));
    pd_candidate *sort_scratch = pd_take(&arena, (size_t)na * (size_t)nb * sizeof(pd_candidate));
    if (!mask || !order || !t || !dots || !misses || !alive || !rel_x || !rel_y || !cell ||
        (na > 0 && nb > 0 && !sort_scratch))
        return PD_ERR_WORKSPACE;
    for (int k = 0; k < n; k++) {
        order[k] = pd_middle_out(k, n);
        t[k] = (float)((double)k / (double)(n - 1));
    }
    /* The mask pays for itself once there are more pairs than a few rows of
     * cells; below that, interpolating every sample is cheaper. It changes
     * only the work done, never the result. */
    /* Within these bounds the squared threshold and magnitudes neither overflow nor
     * flush to zero where it matters, so the mask is exact; outside, do without. */
    const int use_mask = threshold >= 1e-15f && threshold <= 1e15f &&
                         (int64_t)na * nb * 32 > (int64_t)height * width;
    if (use_mask) pd_support_mask(paf_x, paf_y, height, width, sy, sx, threshold, mask, shift);

    int count = 0;
    for (int i = 0; i < na; i++) {
        const float x0 = ax[i], y0 = ay[i];
        int live = nb;
        if (use_mask) {
            /* Count the samples of every pair from this a that land in
             * unsupported squares: those fail for sure, so a pair with too many
             * is dropped without interpolating anything. The pairs still alive
             * are compacted every few samples, so most pairs of a crowd cost a
             * handful of cheap, branch-free lookups. */
            /* The live pairs' data sit in dense arrays in live order, so the
             * cell indices of a sample are computed by a loop the compiler
             * vectorises; only the mask reads stay scalar. */
            live = 0;
            for (int j = 0; j < nb; j++) {
                float dx = bx[j] - x0, dy = by[j] - y0, length2 = dx * dx + dy * dy;
                rel_x[live] = dx;
                rel_y[live] = dy;
                misses[live] = 0;
                /* Pairs too short or too long are dropped before any sampling. */
                alive[live] = j;
                live += (length2 >= min_length2) & (length2 <= max_length2);
            }
            for (int s0 = 0; s0 < n && live > 0; s0 += 3) {
                const int s1 = s0 + 3 < n ? s0 + 3 : n;
                for (int s = s0; s < s1; s++) {
                    const float tk = t[order[s]];
                    /* Endpoints are peaks inside the map and t is in [0, 1], so
                     * truncation lands in the map: no clamping needed. */
                    for (int q = 0; q < live; q++)
                        cell[q] = ((int32_t)(y0 + rel_y[q] * tk) << shift) |
                                  (int32_t)(x0 + rel_x[q] * tk);
                    for (int q = 0; q < live; q++) misses[q] += mask[cell[q]] == 0;
                }
                int kept = 0;
                for (int q = 0; q < live; q++) {
                    alive[kept] = alive[q];
                    rel_x[kept] = rel_x[q];
                    rel_y[kept] = rel_y[q];
                    misses[kept] = misses[q];
                    kept += misses[q] <= max_failures;
                }
                live = kept;
            }
        }
        for (int q = 0; q < live; q++) {
            int j = use_mask ? alive[q] : q;
            float dx = bx[j] - x0, dy = by[j] - y0;
            float length2 = dx * dx + dy * dy;
            if (length2 < min_length2 || length2 > max_length2) continue;
            double score = pd_score_pair(paf_x, paf_y, height, width, sy, sx, x0, y0, dx, dy,
                                         length2, order, t, n, max_failures, threshold, dots);
            if (score < 0.0) continue;
            out[count].a = i;
            out[count].b = j;
            out[count].score = (float)score;
            count++;
        }
    }
    /* Pairs were written in (a, b) order: a stable sort on the score completes it. */
    pd_sort_candidates_stable(out, count, sort_scratch);
    return count;
}
