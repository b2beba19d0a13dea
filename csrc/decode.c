/* Stage 5: the entry points. Peaks, limb scores, assignment and assembly for
 * one frame or a batch, over one caller-provided workspace. */
#include <math.h>

#include "internal.h"

#define PD_MAX_RADIUS 64
#define PD_MAX_PEAKS_LIMIT 4096
#define PD_MAX_SAMPLES 4096

static int pd_total_peaks(const pd_skeleton *s, const pd_params *p) {
    return s->num_keypoints * p->max_peaks;
}

int pd_check_params(const pd_skeleton *s, const pd_params *p) {
    if (!s || !p || s->num_keypoints < 1 || s->num_keypoints > 4096 || s->num_limbs < 0 ||
        (s->num_limbs > 0 && (!s->limb_keypoints || !s->limb_paf)))
        return PD_ERR_ARGUMENT;
    for (int l = 0; l < s->num_limbs; l++) {
        int a = s->limb_keypoints[2 * l], b = s->limb_keypoints[2 * l + 1];
        if (a < 0 || b < 0 || a >= s->num_keypoints || b >= s->num_keypoints || a == b)
            return PD_ERR_ARGUMENT;
        if (s->limb_paf[2 * l] < 0 || s->limb_paf[2 * l + 1] < 0) return PD_ERR_ARGUMENT;
    }
    if (!(p->peak_threshold == p->peak_threshold) || p->peak_radius < 1 ||
        p->peak_radius > PD_MAX_RADIUS || p->max_peaks < 1 || p->max_peaks > PD_MAX_PEAKS_LIMIT ||
        !(p->split_margin >= 0.0f) || !(p->split_margin < INFINITY) ||
        !(p->peak_support >= 0.0f) || !(p->peak_support < INFINITY))
        return PD_ERR_ARGUMENT;
    if (!(p->paf_threshold == p->paf_threshold) || p->paf_samples < 2 ||
        p->paf_samples > PD_MAX_SAMPLES || p->min_inliers < 0 ||
        p->min_inliers > p->paf_samples || !(p->max_limb_length == p->max_limb_length) ||
        p->max_candidates < 1)
        return PD_ERR_ARGUMENT;
    if ((p->assignment != PD_ASSIGN_GREEDY && p->assignment != PD_ASSIGN_HUNGARIAN) ||
        !(p->shared_peak_score >= 0.0f) || !(p->shared_peak_score < INFINITY) ||
        p->min_keypoints < 0 || !(p->min_person_score == p->min_person_score) ||
        !(p->stride > 0.0f) || p->stride - p->stride != 0.0f ||
        (p->assembly != PD_ASSEMBLE_TREE && p->assembly != PD_ASSEMBLE_GLOBAL) ||
        !(p->repair_score >= 0.0f) || !(p->repair_score < INFINITY) ||
        !(p->redundant_veto >= 0.0f) || !(p->redundant_veto < INFINITY) ||
        !(p->join_fragments >= 0.0f) || !(p->join_fragments <= 1.0f))
        return PD_ERR_ARGUMENT;
    return PD_OK;
}

int pd_max_people(const pd_skeleton *s, const pd_params *p) {
    /* People hold distinct peaks, and a kept person holds at least
     * max(min_keypoints, 2) of them. */
    int per_person = p->min_keypoints > 2 ? p->min_keypoints : 2;
    return pd_total_peaks(s, p) / per_person;
}

/* Limbs beyond the tree that veto merges: all of them when redundant_veto is on. */
static int pd_veto_limbs(const pd_skeleton *s, const pd_params *p) {
    int n = 0;
    if (!(p->redundant_veto > 0.0f) || !s->limb_redundant) return 0;
    for (int l = 0; l < s->num_limbs; l++) n += s->limb_redundant[l] != 0;
    return n;
}

size_t pd_workspace_size(const pd_skeleton *s, const pd_params *p, int height, int width) {
    if (pd_check_params(s, p) != PD_OK || height <= 0 || width <= 0) return 0;
    size_t total = (size_t)pd_total_peaks(s, p);
    size_t mp = (size_t)p->max_peaks;
    size_t capacity = total / 2 + 1;
    return pd_peaks_workspace_size(height, width, p->max_peaks) +
           3 * pd_round_up(total * sizeof(float)) +
           pd_round_up((size_t)s->num_keypoints * sizeof(int32_t)) +
           pd_round_up(mp * mp * sizeof(pd_candidate)) + pd_round_up(mp * sizeof(pd_candidate)) +
           pd_score_workspace_size(height, width, p->paf_samples, p->max_peaks) +
           pd_assign_workspace_size(p->max_peaks) +
           pd_people_workspace_size(s->num_keypoints, (int)total) +
           2 * pd_round_up(capacity * sizeof(pd_candidate)) +
           2 * pd_round_up((size_t)s->num_limbs * mp * sizeof(pd_candidate) + 1) +
           pd_round_up((size_t)s->num_limbs * mp * sizeof(pd_candidate) + 1) +
           3 * pd_round_up((size_t)s->num_limbs * mp * sizeof(int32_t) + 1) +
           pd_round_up((size_t)pd_veto_limbs(s, p) * mp * mp * sizeof(float) + 1) +
           pd_round_up((size_t)s->num_limbs * 2 * sizeof(int32_t) + 1) +
           (p->join_fragments > 0.0f
                ? pd_join_workspace_size(s->num_keypoints, (int)capacity, (int)total)
                : 0) +
           22 * PD_ALIGN;
}

static int pd_check_fields(const pd_skeleton *s, const pd_fields *heatmaps, const pd_fields *pafs) {
    if (!heatmaps || !pafs || !heatmaps->data || heatmaps->height <= 0 || heatmaps->width <= 0 ||
        heatmaps->channels < s->num_keypoints)
        return PD_ERR_ARGUMENT;
    if (pafs->height != heatmaps->height || pafs->width != heatmaps->width)
        return PD_ERR_ARGUMENT;
    for (int l = 0; l < s->num_limbs; l++)
        if (s->limb_paf[2 * l] >= pafs->channels || s->limb_paf[2 * l + 1] >= pafs->channels)
            return PD_ERR_ARGUMENT;
    if (s->num_limbs > 0 && !pafs->data) return PD_ERR_ARGUMENT;
    return PD_OK;
}

/* Limb l's candidates, best first, capped at max_candidates; or a PD_ERR. */
static int pd_limb_candidates(const pd_skeleton *s, const pd_params *p, const pd_fields *paf,
                              int l, const float *peak_x, const float *peak_y,
                              const int32_t *peak_count, pd_candidate *cands, void *score_ws,
                              size_t score_ws_size) {
    int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
    size_t oa = (size_t)ka * p->max_peaks, ob = (size_t)kb * p->max_peaks;
    const float *fx = paf->data + (ptrdiff_t)s->limb_paf[2 * l] * paf->stride_c;
    const float *fy = paf->data + (ptrdiff_t)s->limb_paf[2 * l + 1] * paf->stride_c;
    int nc = pd_score_limb(fx, fy, paf->height, paf->width, paf->stride_y, paf->stride_x,
                           peak_x + oa, peak_y + oa, peak_count[ka], peak_x + ob, peak_y + ob,
                           peak_count[kb], p, cands, score_ws, score_ws_size);
    return nc > p->max_candidates ? p->max_candidates : nc;
}

static int pd_decode_frame_flushed(const pd_skeleton *s, const pd_params *p,
                                   const pd_fields *heat, const pd_fields *paf, void *workspace,
                                   size_t workspace_size, float *out_keypoints, float *out_scores,
                                   pd_stats *stats) {
    const int K = s->num_keypoints, H = heat->height, W = heat->width, mp = p->max_peaks;
    const int total = pd_total_peaks(s, p);
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    size_t peaks_ws_size = pd_peaks_workspace_size(H, W, mp);
    void *peaks_ws = pd_take(&arena, peaks_ws_size);
    float *peak_x = pd_take(&arena, (size_t)total * sizeof(float));
    float *peak_y = pd_take(&arena, (size_t)total * sizeof(float));
    float *peak_v = pd_take(&arena, (size_t)total * sizeof(float));
    int32_t *peak_count = pd_take(&arena, (size_t)K * sizeof(int32_t));
    pd_candidate *cands = pd_take(&arena, (size_t)mp * (size_t)mp * sizeof(pd_candidate));
    pd_candidate *chosen = pd_take(&arena, (size_t)mp * sizeof(pd_candidate));
    size_t assign_ws_size = pd_assign_workspace_size(mp);
    void *assign_ws = pd_take(&arena, assign_ws_size);
    size_t score_ws_size = pd_score_workspace_size(H, W, p->paf_samples, mp);
    void *score_ws = pd_take(&arena, score_ws_size);
    if (!peaks_ws || !peak_x || !peak_y || !peak_v || !peak_count || !cands || !chosen ||
        !assign_ws || !score_ws)
        return PD_ERR_WORKSPACE;
    pd_people people;
    if (pd_people_init(&people, K, total, &arena) != PD_OK) return PD_ERR_WORKSPACE;
    pd_candidate *order = pd_take(&arena, (size_t)people.capacity * sizeof(pd_candidate));
    pd_candidate *order_scratch = pd_take(&arena, (size_t)people.capacity * sizeof(pd_candidate));
    /* Each limb's best candidate per end, kept for the sharing passes; in global
     * order also every limb's connections, sorted once. */
    const size_t per_limbs = (size_t)s->num_limbs * (size_t)mp;
    pd_candidate *best_of_a = pd_take(&arena, per_limbs * sizeof(pd_candidate) + 1);
    pd_candidate *best_of_b = pd_take(&arena, per_limbs * sizeof(pd_candidate) + 1);
    pd_candidate *queue = pd_take(&arena, per_limbs * sizeof(pd_candidate) + 1);
    int32_t *queue_limb = pd_take(&arena, per_limbs * sizeof(int32_t) + 1);
    int32_t *queue_a = pd_take(&arena, per_limbs * sizeof(int32_t) + 1);
    int32_t *queue_b = pd_take(&arena, per_limbs * sizeof(int32_t) + 1);
    if (!order || !order_scratch || !best_of_a || !best_of_b || !queue || !queue_limb ||
        !queue_a || !queue_b)
        return PD_ERR_WORKSPACE;
    const int num_vetoes = pd_veto_limbs(s, p);
    float *veto_scores = pd_take(&arena, (size_t)num_vetoes * mp * mp * sizeof(float) + 1);
    int32_t *veto_kinds = pd_take(&arena, (size_t)s->num_limbs * 2 * sizeof(int32_t) + 1);
    if (!veto_scores || !veto_kinds) return PD_ERR_WORKSPACE;
    const int global = p->assembly == PD_ASSEMBLE_GLOBAL;
    const int sharing = p->shared_peak_score > 0.0f, repairing = p->repair_score > 0.0f;
    int queued = 0;

    pd_stats local = {0, 0, 0, 0};
    for (int k = 0; k < K; k++) {
        size_t off = (size_t)k * mp;
        int n = pd_find_peaks(heat->data + (ptrdiff_t)k * heat->stride_c, H, W, heat->stride_y,
                              heat->stride_x, p->peak_threshold, p->peak_radius, mp,
                              p->split_margin, p->peak_support, peak_x + off, peak_y + off,
                              peak_v + off, peaks_ws, peaks_ws_size);
        if (n < 0) return n;
        peak_count[k] = n;
        local.peaks += n;
    }
    if (num_vetoes > 0) {
        /* The limbs beyond the tree are scored first, so that every merge can ask
         * them; their scores sit in a matrix per limb. */
        int v = 0;
        for (int l = 0; l < s->num_limbs; l++) {
            if (!s->limb_redundant[l]) continue;
            int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
            float *scores = veto_scores + (size_t)v * mp * mp;
            for (size_t i = 0; i < (size_t)mp * mp; i++) scores[i] = -1.0f;
            veto_kinds[2 * v] = ka;
            veto_kinds[2 * v + 1] = kb;
            v++;
            if (peak_count[ka] == 0 || peak_count[kb] == 0) continue;
            int nc = pd_limb_candidates(s, p, paf, l, peak_x, peak_y, peak_count, cands, score_ws,
                                        score_ws_size);
            if (nc < 0) return nc;
            for (int c = 0; c < nc; c++)
                scores[(size_t)cands[c].a * mp + (size_t)cands[c].b] = cands[c].score;
        }
        people.num_vetoes = num_vetoes;
        people.veto_kinds = veto_kinds;
        people.veto_scores = veto_scores;
        people.veto_stride = mp;
        people.veto_min = p->redundant_veto;
    }
    for (int l = 0; l < s->num_limbs; l++) {
        int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
        int na = peak_count[ka], nb = peak_count[kb];
        if (na == 0 || nb == 0) continue;
        size_t oa = (size_t)ka * mp, ob = (size_t)kb * mp;
        int nc = pd_limb_candidates(s, p, paf, l, peak_x, peak_y, peak_count, cands, score_ws,
                                    score_ws_size);
        if (nc < 0) return nc;
        local.candidates += nc;
        int nconn = pd_assign_limb(cands, nc, na, nb, p->assignment, chosen, assign_ws,
                                   assign_ws_size);
        if (nconn < 0) return nconn;
        local.connections += nconn;
        int redundant = s->limb_redundant ? s->limb_redundant[l] : 0;
        pd_candidate *limb_best_a = best_of_a + (size_t)l * mp;
        pd_candidate *limb_best_b = best_of_b + (size_t)l * mp;
        if ((sharing && !redundant) || repairing)
            pd_best_candidates(cands, nc, na, nb, limb_best_a, limb_best_b);
        if (global) {
            /* Queued in limb order; the sequence number breaks score ties. */
            for (int c = 0; c < nconn; c++, queued++) {
                queue[queued].a = queued;
                queue[queued].b = 0;
                queue[queued].score = chosen[c].score;
                queue_limb[queued] = l;
                queue_a[queued] = (int32_t)(oa + chosen[c].a);
                queue_b[queued] = (int32_t)(ob + chosen[c].b);
            }
            continue;
        }
        for (int c = 0; c < nconn; c++) {
            int32_t ga = (int32_t)(oa + chosen[c].a), gb = (int32_t)(ob + chosen[c].b);
            pd_people_connect(&people, ka, kb, ga, gb, peak_v[ga], peak_v[gb], chosen[c].score,
                              redundant);
        }
        if (sharing && !redundant)
            pd_people_share(&people, kb, (int32_t)oa, (int32_t)ob, limb_best_a, na, limb_best_b,
                            nb, peak_v, p->shared_peak_score);
    }
    if (global) {
        /* Every connection of every limb type by score, best first; then the
         * sharing passes, limb types in skeleton order. */
        pd_sort_candidates(queue, queued);
        for (int i = 0; i < queued; i++) {
            int q = queue[i].a, l = queue_limb[q];
            int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
            int redundant = s->limb_redundant ? s->limb_redundant[l] : 0;
            pd_people_connect(&people, ka, kb, queue_a[q], queue_b[q], peak_v[queue_a[q]],
                              peak_v[queue_b[q]], queue[i].score, redundant);
        }
        for (int l = 0; l < s->num_limbs && sharing; l++) {
            int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
            if ((s->limb_redundant && s->limb_redundant[l]) || peak_count[ka] == 0 ||
                peak_count[kb] == 0)
                continue;
            pd_people_share(&people, kb, (int32_t)((size_t)ka * mp), (int32_t)((size_t)kb * mp),
                            best_of_a + (size_t)l * mp, peak_count[ka],
                            best_of_b + (size_t)l * mp, peak_count[kb], peak_v,
                            p->shared_peak_score);
        }
    }
    if (repairing) {
        /* Fragment repair: each end's best candidate, limb types in order, merges
         * the two people holding its ends when they have no keypoint type in
         * common. */
        for (int l = 0; l < s->num_limbs; l++) {
            int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
            int na = peak_count[ka], nb = peak_count[kb];
            if (na == 0 || nb == 0) continue;
            int32_t oa = (int32_t)((size_t)ka * mp), ob = (int32_t)((size_t)kb * mp);
            for (int side = 0; side < 2; side++) {
                const pd_candidate *best = (side == 0 ? best_of_a : best_of_b) + (size_t)l * mp;
                for (int i = 0; i < (side == 0 ? na : nb); i++) {
                    if (!(best[i].score >= p->repair_score)) continue;
                    pd_people_repair(&people, ka, kb, oa + best[i].a, ob + best[i].b,
                                     peak_v[oa + best[i].a], peak_v[ob + best[i].b],
                                     best[i].score);
                }
            }
        }
    }
    if (p->join_fragments > 0.0f) {
        int rc = pd_people_join_fragments(&people, s, peak_x, peak_y, peak_v, peak_count, mp,
                                          p->join_fragments, &arena);
        if (rc != PD_OK) return rc;
    }
    int kept = pd_people_emit(&people, peak_x, peak_y, peak_v, p, order, order_scratch,
                              out_keypoints, out_scores);
    local.people = kept;
    if (stats) *stats = local;
    return kept;
}

int pd_decode_frame(const pd_skeleton *s, const pd_params *p, const pd_fields *heatmaps,
                    const pd_fields *pafs, void *workspace, size_t workspace_size,
                    float *out_keypoints, float *out_scores, pd_stats *stats) {
    if (pd_check_params(s, p) != PD_OK || pd_check_fields(s, heatmaps, pafs) != PD_OK ||
        !out_keypoints || !out_scores)
        return PD_ERR_ARGUMENT;
    if (workspace_size < pd_workspace_size(s, p, heatmaps->height, heatmaps->width))
        return PD_ERR_WORKSPACE;
    unsigned saved = pd_enter_flush_denormals();
    int rc = pd_decode_frame_flushed(s, p, heatmaps, pafs, workspace, workspace_size,
                                     out_keypoints, out_scores, stats);
    pd_leave_flush_denormals(saved);
    return rc;
}

int pd_decode_batch(const pd_skeleton *s, const pd_params *p, const pd_fields *heatmaps,
                    ptrdiff_t heat_frame_stride, const pd_fields *pafs,
                    ptrdiff_t paf_frame_stride, int num_frames, void *workspace,
                    size_t workspace_size, float *out_keypoints, float *out_scores,
                    int32_t *out_counts, pd_stats *stats) {
    if (num_frames < 0 || pd_check_params(s, p) != PD_OK ||
        pd_check_fields(s, heatmaps, pafs) != PD_OK || !out_counts ||
        (num_frames > 0 && (!out_keypoints || !out_scores)))
        return PD_ERR_ARGUMENT;
    if (workspace_size < pd_workspace_size(s, p, heatmaps->height, heatmaps->width))
        return PD_ERR_WORKSPACE;
    const size_t max_people = (size_t)pd_max_people(s, p);
    unsigned saved = pd_enter_flush_denormals();
    int rc = PD_OK;
    for (int f = 0; f < num_frames; f++) {
        pd_fields heat = *heatmaps, paf = *pafs;
        heat.data += (ptrdiff_t)f * heat_frame_stride;
        if (paf.data) paf.data += (ptrdiff_t)f * paf_frame_stride;
        int n = pd_decode_frame_flushed(s, p, &heat, &paf, workspace, workspace_size,
                                        out_keypoints + (size_t)f * max_people * s->num_keypoints * 3,
                                        out_scores + (size_t)f * max_people,
                                        stats ? stats + f : NULL);
        if (n < 0) {
            rc = n;
            break;
        }
        out_counts[f] = n;
    }
    pd_leave_flush_denormals(saved);
    return rc;
}
