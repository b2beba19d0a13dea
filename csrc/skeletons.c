/* Skeletons for C callers: the redundant-limb rule of pafdecode.Skeleton and
 * OpenPose's two skeletons with their channel layouts, so a C pipeline needs
 * neither Python nor hand-copied tables. The data are those of
 * engine/pafdecode/skeleton.py (tests/test_c_api.py checks them against it). */
#include "internal.h"

/* The largest skeleton pd_check_params accepts: the union-find forest lives on
 * the stack, since the public API never allocates. */
enum { PD_MAX_SKELETON_KEYPOINTS = 4096 };

static int32_t pd_root(int32_t *parent, int32_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

int pd_find_redundant_limbs(int num_keypoints, int num_limbs, const int32_t *limb_keypoints,
                            uint8_t *out_redundant) {
    if (num_keypoints < 1 || num_keypoints > PD_MAX_SKELETON_KEYPOINTS || num_limbs < 0)
        return PD_ERR_ARGUMENT;
    if (num_limbs > 0 && (!limb_keypoints || !out_redundant)) return PD_ERR_ARGUMENT;
    /* Validate everything before writing anything, so a refused call leaves the
     * caller's flags untouched. */
    for (int l = 0; l < 2 * num_limbs; l++)
        if (limb_keypoints[l] < 0 || limb_keypoints[l] >= num_keypoints) return PD_ERR_ARGUMENT;
    for (int l = 0; l < num_limbs; l++)
        if (limb_keypoints[2 * l] == limb_keypoints[2 * l + 1]) return PD_ERR_ARGUMENT;

    int32_t parent[PD_MAX_SKELETON_KEYPOINTS];
    for (int32_t k = 0; k < num_keypoints; k++) parent[k] = k;
    /* A limb is redundant when the limbs before it already connect its ends: it
     * closes a cycle. Skeleton._find_redundant applies the same rule. */
    for (int l = 0; l < num_limbs; l++) {
        int32_t ra = pd_root(parent, limb_keypoints[2 * l]);
        int32_t rb = pd_root(parent, limb_keypoints[2 * l + 1]);
        out_redundant[l] = (uint8_t)(ra == rb);
        if (ra != rb) parent[ra] = rb;
    }
    return PD_OK;
}

/* -- OpenPose's COCO-18 ---------------------------------------------------------- */

static const char *const pd_coco18_names[18] = {
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye",
    "l_eye", "r_ear", "l_ear"};

/* CMU's limb order; the last two (shoulder to ear) close cycles. */
static const int32_t pd_coco18_limbs[2 * 19] = {
    1, 2, 1, 5, 2, 3, 3, 4, 5, 6, 6, 7, 1, 8, 8, 9, 9, 10, 1, 11,
    11, 12, 12, 13, 1, 0, 0, 14, 14, 16, 0, 15, 15, 17, 2, 16, 5, 17};

/* PAF channel pairs of CMU's published COCO model, from the first PAF channel. */
static const int32_t pd_coco18_pafs[2 * 19] = {
    12, 13, 20, 21, 14, 15, 16, 17, 22, 23, 24, 25, 0, 1, 2, 3, 4, 5, 6, 7,
    8, 9, 10, 11, 28, 29, 30, 31, 34, 35, 32, 33, 36, 37, 18, 19, 26, 27};

static const uint8_t pd_coco18_redundant[19] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

/* Expected limb lengths as fractions of stature: skeleton.py's generic human
 * proportions (_SEGMENT_RATIOS, after Drillis & Contini 1966 and Winter 2009). */
static const float pd_coco18_lengths[19] = {
    0.130f, 0.130f, 0.186f, 0.146f, 0.186f, 0.146f, 0.303f, 0.245f, 0.246f, 0.303f,
    0.245f, 0.246f, 0.085f, 0.038f, 0.053f, 0.038f, 0.053f, 0.146f, 0.146f};

/* -- OpenPose's BODY_25 ---------------------------------------------------------- */

static const char *const pd_body25_names[25] = {
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel",
    "r_big_toe", "r_small_toe", "r_heel"};

/* OpenPose's BODY_25 network pairs and PAF map indices (poseParameters.cpp). */
static const int32_t pd_body25_limbs[2 * 26] = {
    1, 8, 1, 2, 1, 5, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 10, 11,
    8, 12, 12, 13, 13, 14, 1, 0, 0, 15, 15, 17, 0, 16, 16, 18, 2, 17, 5, 18,
    14, 19, 19, 20, 14, 21, 11, 22, 22, 23, 11, 24};

static const int32_t pd_body25_pafs[2 * 26] = {
    0, 1, 14, 15, 22, 23, 16, 17, 18, 19, 24, 25, 26, 27, 6, 7, 2, 3, 4, 5,
    8, 9, 10, 11, 12, 13, 30, 31, 32, 33, 36, 37, 34, 35, 38, 39, 20, 21, 28, 29,
    40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51};

static const uint8_t pd_body25_redundant[26] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};

static const float pd_body25_lengths[26] = {
    0.288f, 0.130f, 0.130f, 0.186f, 0.146f, 0.186f, 0.146f, 0.096f, 0.245f, 0.246f,
    0.096f, 0.245f, 0.246f, 0.085f, 0.038f, 0.053f, 0.038f, 0.053f, 0.146f, 0.146f,
    0.128f, 0.055f, 0.049f, 0.128f, 0.055f, 0.049f};

/* -- the table of built-ins -------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *const *keypoint_names;
    int num_paf_channels;
    pd_skeleton skeleton;
} pd_builtin;

static const pd_builtin pd_builtins[] = {
    {"COCO-18", pd_coco18_names, 38,
     {18, 19, pd_coco18_limbs, pd_coco18_pafs, pd_coco18_redundant, pd_coco18_lengths}},
    {"BODY_25", pd_body25_names, 52,
     {25, 26, pd_body25_limbs, pd_body25_pafs, pd_body25_redundant, pd_body25_lengths}},
};

enum { PD_NUM_BUILTINS = (int)(sizeof pd_builtins / sizeof pd_builtins[0]) };

static const pd_builtin *pd_builtin_at(int which) {
    return which >= 0 && which < PD_NUM_BUILTINS ? &pd_builtins[which] : NULL;
}

const pd_skeleton *pd_builtin_skeleton(int which) {
    const pd_builtin *b = pd_builtin_at(which);
    return b ? &b->skeleton : NULL;
}

const char *pd_builtin_skeleton_name(int which) {
    const pd_builtin *b = pd_builtin_at(which);
    return b ? b->name : NULL;
}

const char *pd_builtin_keypoint_name(int which, int keypoint) {
    const pd_builtin *b = pd_builtin_at(which);
    if (!b || keypoint < 0 || keypoint >= b->skeleton.num_keypoints) return NULL;
    return b->keypoint_names[keypoint];
}

int pd_builtin_paf_channels(int which) {
    const pd_builtin *b = pd_builtin_at(which);
    return b ? b->num_paf_channels : PD_ERR_ARGUMENT;
}
