/* Random frames through the C core, for a build with AddressSanitizer and
 * UndefinedBehaviorSanitizer: random skeletons, sizes, layouts (CHW and HWC),
 * parameters, NaN, Inf and denormal cells. Every workspace is allocated to the
 * exact size pd_workspace_size asks for, so any overrun is caught. Exits non-zero
 * on a wrong count, a non-finite keypoint, or a too-small workspace accepted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pafdecode.h"

static unsigned long long state = 88172645463325252ULL;

static unsigned next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)state;
}

static float uniform(void) { return (float)(next_random() & 0xFFFFFF) / (float)0x1000000; }

static float with_specials(float v) {
    switch (next_random() % 100) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return 1e-40f;
    default: return v;
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
        int style = (int)(next_random() % 3);
        float *heat = malloc(sizeof(float) * (size_t)C * H * W);
        float *paf = malloc(sizeof(float) * (size_t)(PC > 0 ? PC : 1) * H * W);
        for (size_t i = 0; i < (size_t)C * H * W; i++) {
            float v = style == 0 ? uniform()
                                 : style == 1 ? 0.5f * (float)(next_random() % 3) : 2 * uniform() - 0.5f;
            heat[i] = with_specials(v);
        }
        for (size_t i = 0; i < (size_t)PC * H * W; i++) paf[i] = with_specials(2 * uniform() - 1);
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
        for (int i = 0; i < n * K * 3; i++) {
            if (!isfinite(keypoints[i])) {
                printf("frame %d: non-finite keypoint output\n", f);
                return 1;
            }
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
    printf("%d random frames, %ld people: clean\n", frames, people);
    return 0;
}
