/*
 * pafdecode: the public C API of the decoding core.
 *
 * Everything here is a pure function over raw pointers with explicit sizes and
 * strides. There are no globals and no allocation: the caller asks for the
 * workspace size, provides the workspace, and may use one workspace per thread.
 *
 * Coordinates: map cell (gx, gy) is the image point ((gx + 0.5) * stride - 0.5,
 * (gy + 0.5) * stride - 0.5). Peaks are found and refined in map coordinates
 * (cell centres at integers); only the final keypoints are written in image
 * pixels.
 */
#ifndef PAFDECODE_H
#define PAFDECODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PD_OK = 0,
    PD_ERR_ARGUMENT = -1,  /* a size, stride or parameter out of range */
    PD_ERR_WORKSPACE = -2  /* the workspace is smaller than pd_workspace_size */
};

/* Values of pd_params.assignment, in the order of the table's choices. */
enum { PD_ASSIGN_GREEDY = 0, PD_ASSIGN_HUNGARIAN = 1 };

/* A strided 3-D view of float32 fields: channel, row, column. Strides are in
 * elements, not bytes, and may be any value (CHW, HWC, or a slice of either). */
typedef struct {
    const float *data;
    int channels, height, width;
    ptrdiff_t stride_c, stride_y, stride_x;
} pd_fields;

typedef struct {
    int num_keypoints;
    int num_limbs;
    const int32_t *limb_keypoints;  /* 2 * num_limbs: (a, b) per limb          */
    const int32_t *limb_paf;        /* 2 * num_limbs: (x, y) PAF channel       */
    const uint8_t *limb_redundant;  /* num_limbs: 1 for limbs beyond a tree    */
    /* num_limbs or NULL: each limb's expected length relative to a body scale
     * (pafdecode.Skeleton.limb_lengths: fractions of stature), read only by the
     * limb_length_prior option; a value that is not > 0, and every limb when
     * NULL, has no expectation. Added after the first four fields: initialise
     * the whole struct (pd_skeleton s = {0}, or a brace list, which zeroes the
     * fields it omits) so that code written before it gets NULL. */
    const float *limb_length;
} pd_skeleton;

/* The options, one field per row of pd_params.def in table order (its header
 * says what each column means; the row's last column documents the option).
 * The layout is the record pafdecode._params.RECORD_DTYPE describes, so the
 * Python layer hands its record over as bytes. An option that is off is 0.
 * pd_params_default fills in the table's defaults. */
#define PD_TYPE_float float
#define PD_TYPE_double double
#define PD_TYPE_int int32_t
#define PD_TYPE_enum int32_t
typedef struct {
#define PD_PARAM(name, type, ...) PD_TYPE_##type name;
#include "pd_params.def"
#undef PD_PARAM
} pd_params;

/* params.c ----------------------------------------------------------------- */

/* Every option at the table's default (an option off by default is 0). */
void pd_params_default(pd_params *params);

/* -1 when every option is in its table range, else the index of the first that
 * is not (pd_param_name tells which). Floating-point options must be finite, and
 * float ones 0 or normal (the decode flushes denormals to zero). */
int pd_params_check(const pd_params *params);

/* The options in table order: how many, and option i's name and byte offset in
 * pd_params (NULL and (size_t)-1 out of range), so a caller can check its own
 * description of the struct against this one. */
int pd_param_count(void);
const char *pd_param_name(int index);
size_t pd_param_offset(int index);

typedef struct {
    int32_t peaks;        /* peaks kept, all channels                            */
    int32_t candidates;   /* candidate limbs, all limb types                     */
    int32_t connections;  /* connections chosen by the assignment                */
    int32_t people;       /* people written to the output                        */
} pd_stats;

/* peaks.c ------------------------------------------------------------------ */

/* Workspace bytes pd_find_peaks needs for an H x W map. */
size_t pd_peaks_workspace_size(int height, int width, int max_peaks);

/* Local maxima of one channel above threshold over a (2r+1)^2 window, one per
 * plateau, refined to sub-pixel precision by a Gaussian (log-parabola) fit.
 * With split_margin > 0 (pd_params.split_merged_peaks), a neighbour of a peak where the logs of the peak's two
 * neighbours on that line sum to split_margin (natural log) more than one
 * Gaussian of the channel's width allows is a second peak too (two keypoints of
 * one type a cell or two apart), refined from its side away from the peak.
 * With peak_support > 0, a local maximum is a peak only when the mean of its
 * 3x3 cells, weighted 1-2-1 along each axis (weights renormalised where the
 * window leaves the map), exceeds peak_support; split peaks come from supported
 * peaks only. Writes at most max_peaks peaks, strongest first (ties in raster order): x, y
 * (map pixels) and value. Returns the number written, or a PD_ERR.
 * Any finite input is safe: a fit whose float arithmetic would overflow is redone
 * in double, and every offset is within half a cell, so peaks lie in the map.
 * Cost: O(H * W) for any radius (van Herk window maxima; plateaus labelled on a
 * (2H-1) x (2W-1) grid, only when some window maximum has an equal cell in its
 * window), plus sorting the local maxima; workspace about 90 bytes a cell. */
int pd_find_peaks(const float *map, int height, int width, ptrdiff_t stride_y,
                  ptrdiff_t stride_x, float threshold, int radius, int max_peaks,
                  float split_margin, float peak_support, float *out_x, float *out_y,
                  float *out_value, void *workspace, size_t workspace_size);

/* scoring.c ---------------------------------------------------------------- */

typedef struct {
    int32_t a, b;   /* peak indices within their channels */
    float score;    /* mean PAF agreement plus length prior */
} pd_candidate;

/* Workspace bytes pd_score_limb needs. */
size_t pd_score_workspace_size(int height, int width, int paf_samples, int max_peaks);

/* Candidate limbs between peaks A and B of one limb type, scored on the PAF
 * channels (paf_x, paf_y): samples at t = k / (n - 1), k = 0..n-1, from a to
 * b, bilinear, dotted with the unit vector from a to b; a sample touching NaN
 * or Inf reads as 0. A candidate has at least min(paf_samples,
 * ceil(min_inlier_ratio * paf_samples)) samples above paf_threshold, is no
 * longer than max_limb_length / stride map pixels (0: unlimited), and has a
 * score (mean of the samples, summed in k order, plus min(0.5 * height /
 * length - 1, 0)) above 0. Returns how many were written
 * (<= na * nb), sorted by score, highest first, ties by (a, b).
 * A sample whose float arithmetic overflows (finite fields beyond about
 * FLT_MAX / 4) is redone in double and saturated to +-FLT_MAX, so scores are finite.
 * Cost: worst case O(na * nb * paf_samples) samples (every pair in range with
 * enough inliers), O(na * nb) with early rejection on noise; na, nb <= the peaks a
 * channel can hold (see pd_workspace_size). */
int pd_score_limb(const float *paf_x, const float *paf_y, int height, int width,
                  ptrdiff_t stride_y, ptrdiff_t stride_x, const float *ax,
                  const float *ay, int na, const float *bx, const float *by, int nb,
                  const pd_params *params, pd_candidate *out, void *workspace,
                  size_t workspace_size);

/* assignment.c ------------------------------------------------------------- */

/* Workspace bytes pd_linear_sum_assignment needs for an n x m matrix. */
size_t pd_lsa_workspace_size(int rows, int cols);

/* Rectangular linear sum assignment minimising sum cost[i, col_of_row[i]]
 * over min(rows, cols) pairs (rows with no column get -1). cost is row-major
 * with row stride `ld` and must be finite. Returns PD_OK or a PD_ERR. */
int pd_linear_sum_assignment(const double *cost, int rows, int cols, ptrdiff_t ld,
                             int32_t *col_of_row, void *workspace,
                             size_t workspace_size);

/* Chooses connections among sorted candidates so that each peak is used at
 * most once: greedily by score, or maximising the total score (Hungarian).
 * Writes the chosen candidates to `out` (highest score first) and returns how
 * many. */
int pd_assign_limb(const pd_candidate *candidates, int num_candidates, int na, int nb,
                   int mode, pd_candidate *out, void *workspace,
                   size_t workspace_size);

/* Workspace bytes pd_assign_limb needs for up to max_peaks peaks a side. */
size_t pd_assign_workspace_size(int max_peaks);

/* decode.c ----------------------------------------------------------------- */

/* Workspace bytes for decoding frames of this skeleton, map size and params
 * (0 when they are invalid), from any base address. Measured by running the
 * decode's own workspace layout without a workspace, so it is exact. Sized to the
 * map, not to max_peaks: a channel yields at most one peak per (r+1) x (r+1)
 * block (r = peak_radius; x9 with split_merged_peaks, at most H * W), so
 * m = min(max_peaks, that) peaks a channel; the largest terms are m^2
 * candidates (twice, with the sort's scratch), K * m peaks and the people built
 * from them, and about 90 bytes a map cell for the peak search. */
size_t pd_workspace_size(const pd_skeleton *skeleton, const pd_params *params,
                         int height, int width);

/* Upper bound on the people one frame can yield. */
int pd_max_people(const pd_skeleton *skeleton, const pd_params *params);

/* Decodes one frame in five stages, each in its own source file and each reading
 * the one pd_params: peaks (peaks.c, pd_find_peaks per channel); then, limb types
 * in skeleton order, scoring (scoring.c, pd_score_limb capped at max_candidates),
 * assignment (assignment.c, pd_assign_limb) and assembly (assembly.c: connections
 * become people; with shared_peak_score a peak may go to two people); then
 * joining (join.c, when join_fragments is on); then the output filters.
 *
 * Limb length prior (limb_length_prior = f > 0, for a limb l with
 * e = skeleton->limb_length[l] > 0), between scoring and assignment of l: a
 * person's scale is the largest, over the limbs m with limb_length[m] > 0 whose
 * two keypoints it holds, of their distance over limb_length[m] (foreshortening
 * only shortens a limb, so each is a lower bound on the scale). A candidate of
 * length d whose ends' holders have a largest scale S > 0 and d > f * e * S =
 * bound has its score multiplied by (bound / d)^2 (in double, rounded to float),
 * and the candidates are sorted again; candidates no holder scales are unchanged.
 *
 * Joining: a host is a person holding both ends of a tree limb (a limb not
 * flagged redundant); its reach is the longest such limb. A fragment is a person
 * or a peak nobody holds; a person holding at most half the keypoint types is a
 * fragment of the hosts that outrank it (more keypoints, or as many and an
 * earlier index). Its cost towards a host that holds none of its keypoint types
 * is the least, over a host keypoint i and a fragment keypoint j that one hidden
 * joint separates (their tree path is two limbs long, through a type neither
 * holds), of distance(i, j) / (2 * reach). Hosts within reach (cost <= 1)
 * compete: a fragment joins its nearest (ties: the lowest index) only when that
 * cost is below join_fragments times the next host's. Joins run nearest first
 * (ties by fragment: people by index, then peaks by global index), skipping one
 * whose host has joined another or now shares a type with the fragment. A joined
 * person brings its keypoints, connections and evidence; a peak its value.
 * Rounds repeat until none joins (the pieces of one person are rivals until they
 * have joined each other).
 * Joining's cost: a round weighs each fragment (F <= people + peaks) against the
 * hosts (P <= people) within reach, or, where fewer, against the holders of the
 * types two tree limbs from its own; one weighing is O(nf * d2), nf the fragment's
 * keypoints and d2 the most types two tree limbs from one type (2 on a chain, a
 * few on COCO), independent of the host's size. A round is O(F * min(P, h)) such
 * weighings (h the holders of the partner types), later rounds only re-weigh what
 * changed; rounds <= joins + 1.
 *
 * heatmaps has >= num_keypoints channels; pafs holds the channels the skeleton
 * names. Writes up to pd_max_people people: out_keypoints (people,
 * num_keypoints, 3) of x, y (image pixels), score; a missing keypoint is
 * (0, 0, 0); out_scores (people). Returns the number of people, or a PD_ERR.
 * stats may be NULL. */
int pd_decode_frame(const pd_skeleton *skeleton, const pd_params *params,
                    const pd_fields *heatmaps, const pd_fields *pafs, void *workspace,
                    size_t workspace_size, float *out_keypoints, float *out_scores,
                    pd_stats *stats);

/* Decodes num_frames frames laid out at heat_frame_stride / paf_frame_stride
 * elements apart, with one workspace. Frame f writes its people at
 * out_keypoints + f * pd_max_people * num_keypoints * 3 and out_scores +
 * f * pd_max_people, and its count to out_counts[f]. stats may be NULL or
 * hold num_frames entries. Returns PD_OK or the first PD_ERR. */
int pd_decode_batch(const pd_skeleton *skeleton, const pd_params *params,
                    const pd_fields *heatmaps, ptrdiff_t heat_frame_stride,
                    const pd_fields *pafs, ptrdiff_t paf_frame_stride, int num_frames,
                    void *workspace, size_t workspace_size, float *out_keypoints,
                    float *out_scores, int32_t *out_counts, pd_stats *stats);

/* PD_OK when every option is in range (pd_params_check) and the skeleton is
 * valid (1..4096 keypoints, limbs between distinct keypoints, PAF channels >= 0);
 * PD_ERR_ARGUMENT otherwise. */
int pd_check_params(const pd_skeleton *skeleton, const pd_params *params);

/* skeletons.c -------------------------------------------------------------- */

/* pd_skeleton.limb_redundant for these limbs, by pafdecode.Skeleton's rule: a
 * limb is redundant when the limbs before it already connect its two keypoints
 * (it closes a cycle). limb_keypoints holds 2 * num_limbs indices (a, b).
 * PD_ERR_ARGUMENT, writing nothing, unless 1 <= num_keypoints <= 4096,
 * num_limbs >= 0 and every limb joins two distinct keypoints in range. */
int pd_find_redundant_limbs(int num_keypoints, int num_limbs, const int32_t *limb_keypoints,
                            uint8_t *out_redundant);

/* OpenPose's skeletons, as pafdecode.Skeleton.openpose_coco18() and body25()
 * define them: keypoints in heatmap channel order, limbs in assembly order, PAF
 * channels counted from the first PAF channel, redundant flags filled in. */
enum { PD_SKELETON_COCO18 = 0, PD_SKELETON_BODY25 = 1 };

/* The built-in skeleton `which` (static storage, never freed), NULL if unknown;
 * ids count up from 0 with no gaps, so a loop until NULL lists them all. */
const pd_skeleton *pd_builtin_skeleton(int which);
/* Its label ("COCO-18", "BODY_25"), or NULL. */
const char *pd_builtin_skeleton_name(int which);
/* The name of keypoint `keypoint` ("nose", "r_shoulder", ...), or NULL. */
const char *pd_builtin_keypoint_name(int which, int keypoint);
/* PAF channels its network emits (one more than the largest limb_paf), or
 * PD_ERR_ARGUMENT. Its heatmaps are num_keypoints channels plus, in OpenPose's
 * networks, a trailing background channel that the decoder ignores. */
int pd_builtin_paf_channels(int which);

/* version.c ---------------------------------------------------------------- */

/* The library's version, the version of the Python package it ships in
 * ("0.1.0"). Check it at run time against the one you built with.
 *
 * What holds across versions. Versions follow the Python package (PEP 440).
 * A compatible series is one major.minor before 1.0 (0.1.0, 0.1.1, ...) and one
 * major after it. Within a compatible series a program built against one
 * release runs, unrebuilt, with any later one (the CMake package accepts the
 * same major.minor before 1.0), because within it:
 *   - functions keep their names, signatures and meaning; new ones may appear;
 *   - PD_OK, the PD_ERR codes, the enum values and built-in skeleton ids keep
 *     their values; pd_fields, pd_skeleton, pd_candidate, pd_stats and
 *     pd_params keep their layouts;
 *   - a release that changes only the last number fixes bugs: the people
 *     decoded from the same fields with the same options stay the same unless
 *     they were wrong.
 * Between series anything may change; rebuild. pd_params in particular grows a
 * field whenever the parameter table (pd_params.def) gains an option, moving
 * the offsets after it: fill it with pd_params_default and set the options you
 * change by name, never by position, and compare pd_param_count, pd_param_name
 * and pd_param_offset with your build's view of the struct if you load the
 * library dynamically.
 * Everything not declared here (internal.h) is hidden from the shared library
 * and may change at any time. */
const char *pd_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PAFDECODE_H */
