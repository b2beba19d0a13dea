/* Random frames through the C core, for a build with AddressSanitizer and
 * UndefinedBehaviorSanitizer: random skeletons, sizes, layouts (CHW and HWC),
 * parameters (now and then every option at an end of its table range), NaN, Inf,
 * denormal and extreme finite cells (+-FLT_MAX, values near it, +-3e38 side by
 * side). Every workspace is allocated to the exact size pd_workspace_size asks
 * for, so any overrun is caught. Each frame also pushes one option past its range
 * and checks that pd_params_check names it and the decode refuses it. Exits
 * non-zero on a wrong count, a non-finite output, a keypoint off the image, or a
 * too-small workspace accepted. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "pafdecode.h"

static unsigned long long state = 88172645463325252ULL;
static long past_limit_checks;

static unsigned next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)state;
}

static float uniform(void) { return (float)(next_random() & 0xFFFFFF) / (float)0x1000000; }

/* Finite values at the top of float32: FLT_MAX, just below it, and the values of
 * issue 13, either sign. */
static float extreme(void) {
    static const float top[] = {FLT_MAX, 3e38f, 2e38f, 1e38f, 3.4028232e38f, 1.7e38f};
    float v = top[next_random() % (sizeof top / sizeof top[0])];
    return (next_random() % 2) ? v : -v;
}

static float with_specials(float v) {
    switch (next_random() % 100) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return 1e-40f;
    case 4: case 5: return extreme();
    default: return v;
    }
}

/* The table's ranges, expanded from pd_params.def as params.c does. */
#define PD_UNBOUNDED INFINITY
#define PD_OPEN_MIN 1
#define PD_OFF_ZERO 2
enum { KIND_float, KIND_double, KIND_int, KIND_enum };
typedef struct {
    const char *name;
    size_t offset;
    int kind;
    double minimum, maximum;
    int flags;
} range_row;
static const range_row ranges[] = {
#define PD_PARAM(name, type, fallback, minimum, maximum, flags, choices, stage, doc) \
    {#name, offsetof(pd_params, name), KIND_##type, minimum, maximum, flags},
#include "pd_params.def"
#undef PD_PARAM
};
enum { NUM_RANGES = (int)(sizeof ranges / sizeof ranges[0]) };

static void set_option(pd_params *p, const range_row *row, double v) {
    char *at = (char *)p + row->offset;
    if (row->kind == KIND_float) *(float *)at = (float)v;
    else if (row->kind == KIND_double) *(double *)at = v;
    else *(int32_t *)at = (int32_t)v;
}

/* Option i at an end of its range: its minimum (the next value up when the
 * minimum is open) or its maximum (the type's largest finite one when unbounded).
 * The radius, samples and peaks caps stay low at their top ends only now and then,
 * so that the small frames stay fast. */
static void option_at_limit(pd_params *p, int i) {
    const range_row *row = &ranges[i];
    double lo = row->minimum, hi = row->maximum;
    if (row->flags & PD_OPEN_MIN)
        lo = row->kind == KIND_float ? (double)nextafterf((float)lo, INFINITY)
             : row->kind == KIND_double ? nextafter(lo, INFINITY) : lo + 1;
    if (row->kind == KIND_float && lo > 0.0 && lo < FLT_MIN) lo = FLT_MIN;
    if (isinf(hi)) hi = row->kind == KIND_float ? FLT_MAX : DBL_MAX;
    set_option(p, row, (next_random() % 2) ? lo : hi);
}

/* Option i just past its range (below the minimum, at an open minimum, above the
 * maximum, or NaN for floating-point ones); 0 when it has no such value. */
static int option_past_limit(pd_params *p, int i) {
    const range_row *row = &ranges[i];
    const int fp = row->kind == KIND_float || row->kind == KIND_double;
    switch (next_random() % 4) {
    case 0:
        if (fp) {
            set_option(p, row, NAN);
            return 1;
        }
        /* fall through */
    case 1:
        if (isinf(row->maximum)) {
            if (!fp) return 0;
            set_option(p, row, row->kind == KIND_float ? INFINITY : INFINITY);
            return 1;
        }
        set_option(p, row, fp ? row->maximum * (1.0 + 1e-6) + 1e-6 : row->maximum + 1);
        return 1;
    default: {
        double below = row->flags & PD_OPEN_MIN ? row->minimum
                       : fp ? row->minimum - (fabs(row->minimum) * 1e-6 + 1e-6) : row->minimum - 1;
        /* 0 turns an option off: not past its range. */
        if ((row->flags & PD_OFF_ZERO) && below == 0.0) below = -1.0;
        set_option(p, row, below);
        return 1;
    }
    }
}

/* 0 (off) half the time, else v. */
static float maybe_off(float v) { return (next_random() % 2) ? 0.0f : v; }

/* Every option of pd_params.def, by name: the defaults, then each drawn in a range
 * that keeps the small frames fast. */
static pd_params random_params(void) {
    pd_params p;
    pd_params_default(&p);
    /* Now and then a stride at either end of its range. */
    unsigned edge = next_random() % 40;
    p.stride = edge == 0 ? 0.001f : edge == 1 ? 4096.0f : 1.0f + (float)(next_random() % 8);
    p.peak_threshold = 0.5f * uniform();
    p.peak_radius = 1 + (int)(next_random() % 3);
    p.max_peaks = 1 + (int)(next_random() % 20);
    p.peak_support = maybe_off(0.001f + 0.5f * uniform());
    p.split_merged_peaks = maybe_off(0.001f + uniform());
    p.paf_threshold = 0.3f * uniform();
    p.paf_samples = 2 + (int)(next_random() % 12);
    p.min_inlier_ratio = (double)(next_random() % 11) / 10.0;
    p.max_limb_length = (next_random() % 2) ? 0.0 : 0.001 + 80.0 * uniform();
    p.max_candidates = 1 + (int)(next_random() % 50);
    p.assignment = (int)(next_random() % 2);
    p.shared_peak_score = maybe_off(0.001f + uniform());
    p.join_fragments = maybe_off(0.05f + 0.95f * uniform());
    p.min_keypoints = 1 + (int)(next_random() % 4);
    p.min_person_score = 0.5f * uniform();
    /* Now and then options at the ends of their ranges; a huge threshold or
     * support only means no peaks, so those are drawn often. */
    if (next_random() % 8 == 0) {
        for (int i = 0; i < NUM_RANGES; i++) {
            if (next_random() % 3) continue;
            const char *name = ranges[i].name;
            int heavy = !strcmp(name, "peak_radius") || !strcmp(name, "paf_samples") ||
                        !strcmp(name, "max_peaks") || !strcmp(name, "max_candidates");
            if (heavy && next_random() % 8) continue;
            option_at_limit(&p, i);
        }
    }
    return p;
}

/* The index of the option called `name`, or -1. */
static int param_index(const char *name) {
    for (int i = 0; i < pd_param_count(); i++)
        if (strcmp(pd_param_name(i), name) == 0) return i;
    return -1;
}

/* The table's defaults pass their own checks, and an option pushed out of its
 * range is reported by its index. */
static int check_param_table(void) {
    pd_params p, q;
    pd_params_default(&p);
    if (pd_params_check(&p) != -1 || pd_param_name(pd_param_count()) != NULL) return 0;
    for (int i = 0; i < pd_param_count(); i++)
        if (!pd_param_name(i) || pd_param_offset(i) >= sizeof(pd_params)) return 0;
    q = p;
    q.peak_radius = 0;
    if (pd_params_check(&q) != param_index("peak_radius")) return 0;
    q = p;
    q.stride = 1e-40f; /* a denormal: the decode would read it as 0 */
    if (pd_params_check(&q) != param_index("stride")) return 0;
    q = p;
    q.min_inlier_ratio = NAN;
    if (pd_params_check(&q) != param_index("min_inlier_ratio")) return 0;
    q = p;
    q.join_fragments = 1.0000001f;
    return pd_params_check(&q) == param_index("join_fragments");
}

/* Every score finite, every keypoint exactly (0, 0, 0) or finite and within the
 * image: x in [-0.5, W * stride - 0.5], the same for y (a hair of float slack). */
static int outputs_sane(const float *keypoints, const float *scores, int n, int K, int H, int W,
                        float stride) {
    const double slack = 1e-4 * stride * (H > W ? H : W) + 1e-4;
    for (int i = 0; i < n; i++) {
        if (!isfinite(scores[i])) return 0;
        for (int k = 0; k < K; k++) {
            const float *kp = keypoints + ((size_t)i * K + k) * 3;
            if (kp[0] == 0.0f && kp[1] == 0.0f && kp[2] == 0.0f) continue;
            if (!isfinite(kp[0]) || !isfinite(kp[1]) || !isfinite(kp[2])) return 0;
            if (kp[0] < -0.5 - slack || kp[0] > (double)W * stride - 0.5 + slack) return 0;
            if (kp[1] < -0.5 - slack || kp[1] > (double)H * stride - 0.5 + slack) return 0;
        }
    }
    return 1;
}

/* One option pushed past its range: pd_params_check reports its index, and both
 * pd_check_params and the decode refuse it. */
static int refuses_past_limit(const pd_skeleton *s, const pd_params *params, const pd_fields *hf,
                              const pd_fields *pf, void *ws, size_t ws_size, float *kp, float *sc) {
    pd_params q = *params;
    int i = (int)(next_random() % NUM_RANGES);
    if (!option_past_limit(&q, i)) return 1;
    past_limit_checks++;
    if (pd_params_check(&q) != i || pd_check_params(s, &q) != PD_ERR_ARGUMENT) return 0;
    return pd_decode_frame(s, &q, hf, pf, ws, ws_size, kp, sc, NULL) == PD_ERR_ARGUMENT;
}

int main(int argc, char **argv) {
    int frames = argc > 1 ? atoi(argv[1]) : 2000;
    long people = 0;
    if (!check_param_table()) {
        printf("the parameter table's defaults, names or checks are wrong\n");
        return 1;
    }
    for (int f = 0; f < frames; f++) {
        int K = 1 + (int)(next_random() % 6), H = 1 + (int)(next_random() % 20);
        int W = 1 + (int)(next_random() % 20), L = 0;
        int32_t limb_kp[16], limb_paf[16];
        uint8_t redundant[8];
        for (int tries = (int)(next_random() % 8); tries > 0 && K > 1; tries--) {
            int a = (int)(next_random() % K), b = (int)(next_random() % K);
            if (a == b) continue;
            limb_kp[2 * L] = a;
            limb_kp[2 * L + 1] = b;
            limb_paf[2 * L] = 2 * L;
            limb_paf[2 * L + 1] = 2 * L + 1;
            redundant[L] = (uint8_t)(next_random() % 2);
            L++;
        }
        int C = K + (int)(next_random() % 2), PC = 2 * L, hwc = (int)(next_random() % 2);
        int style = (int)(next_random() % 4);
        float *heat = malloc(sizeof(float) * (size_t)C * H * W);
        float *paf = malloc(sizeof(float) * (size_t)(PC > 0 ? PC : 1) * H * W);
        for (size_t i = 0; i < (size_t)C * H * W; i++) {
            float v = style == 0   ? uniform()
                      : style == 1 ? 0.5f * (float)(next_random() % 3)
                      : style == 2 ? 2 * uniform() - 0.5f
                                   : (next_random() % 3 ? extreme() : uniform());
            heat[i] = with_specials(v);
        }
        for (size_t i = 0; i < (size_t)PC * H * W; i++)
            paf[i] = with_specials(style == 3 && next_random() % 2 ? extreme() : 2 * uniform() - 1);
        pd_skeleton skeleton = {K, L, limb_kp, limb_paf, redundant};
        pd_params params = random_params();
        pd_fields hf, pf;
        if (hwc) {
            hf = (pd_fields){heat, C, H, W, 1, (ptrdiff_t)W * C, C};
            pf = (pd_fields){paf, PC, H, W, 1, (ptrdiff_t)W * PC, PC};
        } else {
            hf = (pd_fields){heat, C, H, W, (ptrdiff_t)H * W, W, 1};
            pf = (pd_fields){paf, PC, H, W, (ptrdiff_t)H * W, W, 1};
        }
        if (PC == 0) pf.data = NULL;
        if (pd_params_check(&params) != -1) {
            printf("frame %d: option %s drawn out of range\n", f,
                   pd_param_name(pd_params_check(&params)));
            return 1;
        }
        size_t ws_size = pd_workspace_size(&skeleton, &params, H, W);
        int max_people = pd_max_people(&skeleton, &params);
        void *ws = malloc(ws_size);
        float *keypoints = malloc(sizeof(float) * (size_t)max_people * K * 3 + 1);
        float *scores = malloc(sizeof(float) * (size_t)max_people + 1);
        pd_stats stats;
        int n = pd_decode_frame(&skeleton, &params, &hf, &pf, ws, ws_size, keypoints, scores, &stats);
        if (ws_size == 0 || n < 0 || n > max_people) {
            printf("frame %d: %d people (at most %d), workspace %zu\n", f, n, max_people, ws_size);
            return 1;
        }
        if (!outputs_sane(keypoints, scores, n, K, H, W, params.stride)) {
            printf("frame %d: a non-finite output or a keypoint off the image\n", f);
            return 1;
        }
        if (!refuses_past_limit(&skeleton, &params, &hf, &pf, ws, ws_size, keypoints, scores)) {
            printf("frame %d: an option past its range was not reported by its index\n", f);
            return 1;
        }
        if (pd_decode_frame(&skeleton, &params, &hf, &pf, ws, ws_size - 1, keypoints, scores,
                            &stats) != PD_ERR_WORKSPACE) {
            printf("frame %d: a workspace one byte short was accepted\n", f);
            return 1;
        }
        people += n;
        free(ws);
        free(keypoints);
        free(scores);
        free(heat);
        free(paf);
    }
    printf("%d random frames, %ld people, %ld options past their range refused: clean\n",
           frames, people, past_limit_checks);
    return 0;
}
