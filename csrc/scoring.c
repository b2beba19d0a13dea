/* Stage 2: limb scoring. The PAF line integral between candidate endpoints,
 * sampled with bilinear interpolation, with OpenPose's length prior. */
#include <math.h>

#include "internal.h"

/* Pairs closer than this (map pixels) have no direction to test the PAF with. */
#define PD_MIN_LIMB_LENGTH 1e-3f

static inline float pd_bilinear(const float *field, int height, int width, ptrdiff_t sy,
                                ptrdiff_t sx, float x, float y) {
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
    const float *r0 = field + (ptrdiff_t)y0 * sy;
    const float *r1 = field + (ptrdiff_t)y1 * sy;
    float v00 = pd_finite_or_zero(r0[(ptrdiff_t)x0 * sx]);
    float v01 = pd_finite_or_zero(r0[(ptrdiff_t)x1 * sx]);
    float v10 = pd_finite_or_zero(r1[(ptrdiff_t)x0 * sx]);
    float v11 = pd_finite_or_zero(r1[(ptrdiff_t)x1 * sx]);
    float top = v00 + (v01 - v00) * fx;
    float bottom = v10 + (v11 - v10) * fx;
    return top + (bottom - top) * fy;
}

/* The j-th sample index in middle-out order: the middle of a limb tells true
 * limbs from false ones best, so rejections come after few samples. */
static inline int pd_middle_out(int j, int n) {
    int c = (n - 1) / 2;
    if (n % 2 == 0) return (j % 2 == 0) ? c - j / 2 : c + (j + 1) / 2;
    if (j == 0) return c;
    return (j % 2 == 1) ? c - (j + 1) / 2 : c + j / 2;
}

int pd_score_limb(const float *paf_x, const float *paf_y, int height, int width,
                  ptrdiff_t sy, ptrdiff_t sx, const float *ax, const float *ay, int na,
                  const float *bx, const float *by, int nb, const pd_params *params,
                  pd_candidate *out) {
    const int n = params->paf_samples;
    const int max_failures = n - params->min_inliers;
    const float threshold = params->paf_threshold;
    const float max_length = params->max_limb_length;
    const double inv_steps = 1.0 / (double)(n - 1);
    int count = 0;
    for (int i = 0; i < na; i++) {
        for (int j = 0; j < nb; j++) {
            float dx = bx[j] - ax[i], dy = by[j] - ay[i];
            float length = sqrtf(dx * dx + dy * dy);
            if (length < PD_MIN_LIMB_LENGTH) continue;
            if (max_length > 0.0f && length > max_length) continue;
            float ux = dx / length, uy = dy / length;
            int failures = 0;
            double sum = 0.0;
            for (int s = 0; s < n; s++) {
                int k = pd_middle_out(s, n);
                float t = (float)(k * inv_steps);
                float px = ax[i] + dx * t, py = ay[i] + dy * t;
                float vx = pd_bilinear(paf_x, height, width, sy, sx, px, py);
                float vy = pd_bilinear(paf_y, height, width, sy, sx, px, py);
                float dot = vx * ux + vy * uy;
                if (!(dot > threshold) && ++failures > max_failures) break;
                sum += dot;
            }
            if (failures > max_failures) continue;
            /* OpenPose's prior: limbs longer than half the map height lose score. */
            double prior = 0.5 * (double)height / (double)length - 1.0;
            double score = sum / n + (prior < 0.0 ? prior : 0.0);
            if (!(score > 0.0)) continue;
            out[count].a = i;
            out[count].b = j;
            out[count].score = (float)score;
            count++;
        }
    }
    pd_sort_candidates(out, count);
    return count;
}
