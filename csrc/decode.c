/* The entry points: the five stages over one frame or a batch, in one
 * caller-provided workspace laid out by pd_frame_layout. */
#include <math.h>

#include "internal.h"

static int pd_total_peaks(const pd_skeleton *s, const pd_params *p) {
    return s->num_keypoints * p->max_peaks;
}

/* The most peaks one channel of an H x W map can yield, capped at max_peaks: two
 * peaks within peak_radius of each other would top each other's window, so hold
 * one value and form one plateau, which yields one peak; so there is at most one
 * per (r+1) x (r+1) block. Splitting adds at most 8 neighbours to each, and never
 * more peaks than cells. The frame's workspace is sized by this, not by the cap. */
static int pd_frame_max_peaks(const pd_params *p, int height, int width) {
    const int64_t r1 = (int64_t)p->peak_radius + 1;
    int64_t n = ((height + r1 - 1) / r1) * ((width + r1 - 1) / r1);
    if (p->split_merged_peaks > 0.0f) {
        n *= 9;
        if (n > (int64_t)height * width) n = (int64_t)height * width;
    }
    return n < p->max_peaks ? (int)n : p->max_peaks;
}

static int pd_check_skeleton(const pd_skeleton *s) {
    if (s->num_keypoints < 1 || s->num_keypoints > 4096 || s->num_limbs < 0 ||
        (s->num_limbs > 0 && (!s->limb_keypoints || !s->limb_paf)))
        return PD_ERR_ARGUMENT;
    for (int l = 0; l < s->num_limbs; l++) {
        int a = s->limb_keypoints[2 * l], b = s->limb_keypoints[2 * l + 1];
        if (a < 0 || b < 0 || a >= s->num_keypoints || b >= s->num_keypoints || a == b)
            return PD_ERR_ARGUMENT;
        if (s->limb_paf[2 * l] < 0 || s->limb_paf[2 * l + 1] < 0) return PD_ERR_ARGUMENT;
    }
    return PD_OK;
}

int pd_check_params(const pd_skeleton *s, const pd_params *p) {
    if (!s || !p || pd_params_check(p) >= 0) return PD_ERR_ARGUMENT;
    return pd_check_skeleton(s);
}

int pd_max_people(const pd_skeleton *s, const pd_params *p) {
    /* People hold distinct peaks, and a kept person holds at least
     * max(min_keypoints, 2) of them. */
    int per_person = p->min_keypoints > 2 ? p->min_keypoints : 2;
    return pd_total_peaks(s, p) / per_person;
}

/* Everything one frame's decode works in. */
typedef struct {
    pd_peak_set peaks;
    pd_block peaks_ws, score_ws, assign_ws, join_ws;
    pd_candidate *candidates; /* one limb's, max_peaks^2                        */
    pd_candidate *chosen;     /* its connections, max_peaks                     */
    pd_candidate *best_of_a, *best_of_b; /* each end's best candidate           */
    pd_people people;
    pd_candidate *order, *order_scratch; /* the output ranking, per person      */
    double *person_scale; /* per person, with limb_length_prior             */
    pd_candidate *penalised; /* max_peaks^2, with limb_length_prior             */
    int32_t *grown; /* the people's growth record, with limb_length_prior          */
} pd_frame;

/* The one layout of the workspace, measured by pd_workspace_size and followed by
 * the decode. */
static void pd_frame_layout(pd_frame *f, const pd_skeleton *s, const pd_params *p, int height,
                            int width, pd_arena *arena) {
    const int K = s->num_keypoints, mp = pd_frame_max_peaks(p, height, width), total = K * mp;
    f->peaks.max_peaks = mp;
    f->peaks.x = pd_take(arena, (size_t)total * sizeof(float));
    f->peaks.y = pd_take(arena, (size_t)total * sizeof(float));
    f->peaks.value = pd_take(arena, (size_t)total * sizeof(float));
    f->peaks.count = pd_take(arena, (size_t)K * sizeof(int32_t));
    f->peaks_ws = pd_take_block(arena, pd_peaks_workspace_size(height, width, mp));
    f->candidates = pd_take(arena, (size_t)mp * (size_t)mp * sizeof(pd_candidate));
    f->chosen = pd_take(arena, (size_t)mp * sizeof(pd_candidate));
    f->best_of_a = pd_take(arena, (size_t)mp * sizeof(pd_candidate));
    f->best_of_b = pd_take(arena, (size_t)mp * sizeof(pd_candidate));
    f->score_ws = pd_take_block(arena, pd_score_workspace_size(height, width, p->paf_samples, mp));
    f->assign_ws = pd_take_block(arena, pd_assign_workspace_size(mp));
    pd_people_layout(&f->people, K, total, arena);
    f->order = pd_take(arena, (size_t)f->people.capacity * sizeof(pd_candidate));
    f->order_scratch = pd_take(arena, (size_t)f->people.capacity * sizeof(pd_candidate));
    f->join_ws = pd_take_block(arena, p->join_fragments > 0.0f
                                          ? pd_join_workspace_size(K, f->people.capacity, total)
                                          : 0);
    const int prior = p->limb_length_prior > 0.0f;
    f->person_scale = pd_take(arena, prior ? (size_t)f->people.capacity * sizeof(double) : 0);
    f->penalised = pd_take(arena, prior ? (size_t)mp * (size_t)mp * sizeof(pd_candidate) : 0);
    f->grown = pd_take(arena, prior ? 2 * pd_people_growth_capacity(&f->people) * sizeof(int32_t)
                                    : 0);
}

/* pd_workspace_size for a skeleton and params already checked. */
static size_t pd_frame_workspace_size(const pd_skeleton *s, const pd_params *p, int height,
                                      int width) {
    pd_frame frame;
    pd_arena arena;
    pd_arena_measuring(&arena);
    pd_frame_layout(&frame, s, p, height, width, &arena);
    return pd_arena_size(&arena);
}

size_t pd_workspace_size(const pd_skeleton *s, const pd_params *p, int height, int width) {
    if (pd_check_params(s, p) != PD_OK || height <= 0 || width <= 0) return 0;
    return pd_frame_workspace_size(s, p, height, width);
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

/* Stages 2 to 4 for limb l: scoring, assignment, assembly. */
static int pd_decode_limb(const pd_skeleton *s, const pd_params *p, const pd_fields *paf, int l,
                          pd_frame *f, pd_stats *stats) {
    const int na = f->peaks.count[s->limb_keypoints[2 * l]];
    const int nb = f->peaks.count[s->limb_keypoints[2 * l + 1]];
    if (na == 0 || nb == 0) return PD_OK;
    int nc = pd_stage_candidates(p, s, paf, l, &f->peaks, f->candidates, f->score_ws.base,
                                 f->score_ws.size);
    if (nc < 0) return nc;
    stats->candidates += nc;
    if (p->limb_length_prior > 0.0f)
        pd_stage_limb_prior(p, &f->people, s, l, &f->peaks, f->candidates, nc, f->person_scale,
                            f->penalised);
    int nconn = pd_stage_connections(p, f->candidates, nc, na, nb, f->chosen, f->assign_ws.base,
                                     f->assign_ws.size);
    if (nconn < 0) return nconn;
    stats->connections += nconn;
    pd_stage_assemble_limb(p, &f->people, s, l, &f->peaks, f->candidates, nc, f->chosen, nconn,
                           f->best_of_a, f->best_of_b);
    return PD_OK;
}

/* The pipeline, with denormals already flushed: peaks, then per limb type in
 * skeleton order scoring, assignment and assembly, then joining, then output. */
static int pd_decode_frame_flushed(const pd_skeleton *s, const pd_params *p,
                                   const pd_fields *heat, const pd_fields *paf, void *workspace,
                                   size_t workspace_size, float *out_keypoints, float *out_scores,
                                   pd_stats *stats) {
    pd_frame f;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    pd_frame_layout(&f, s, p, heat->height, heat->width, &arena);
    if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
    pd_stats local = {0, 0, 0, 0};
    int rc = pd_stage_peaks(p, heat, s->num_keypoints, &f.peaks, f.peaks_ws.base, f.peaks_ws.size);
    if (rc < 0) return rc;
    local.peaks = rc;
    pd_people_clear(&f.people);
    /* The prior's scales follow what people take (pd_stage_limb_prior). */
    if (p->limb_length_prior > 0.0f && s->limb_length) f.people.grown = f.grown;
    for (int l = 0; l < s->num_limbs; l++) {
        rc = pd_decode_limb(s, p, paf, l, &f, &local);
        if (rc < 0) return rc;
    }
    rc = pd_stage_join(p, &f.people, s, &f.peaks, f.join_ws.base, f.join_ws.size);
    if (rc < 0) return rc;
    local.people = pd_people_emit(&f.people, &f.peaks, p, f.order, f.order_scratch,
                                  out_keypoints, out_scores);
    if (stats) *stats = local;
    return local.people;
}

int pd_decode_frame(const pd_skeleton *s, const pd_params *p, const pd_fields *heatmaps,
                    const pd_fields *pafs, void *workspace, size_t workspace_size,
                    float *out_keypoints, float *out_scores, pd_stats *stats) {
    if (pd_check_params(s, p) != PD_OK || pd_check_fields(s, heatmaps, pafs) != PD_OK ||
        !out_keypoints || !out_scores)
        return PD_ERR_ARGUMENT;
    if (workspace_size < pd_frame_workspace_size(s, p, heatmaps->height, heatmaps->width))
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
    if (workspace_size < pd_frame_workspace_size(s, p, heatmaps->height, heatmaps->width))
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
