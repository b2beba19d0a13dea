/* Decodes one frame of OpenPose fields from a raw file with libpafdecode and
 * prints the people it finds.
 *
 *   decode_fields SKELETON FILE HEIGHT WIDTH HEAT_CHANNELS [STRIDE]
 *
 * SKELETON is a built-in skeleton's label (COCO-18 or BODY_25). FILE holds
 * native-endian float32 values: HEAT_CHANNELS heatmap channels (the skeleton's
 * keypoints, plus a background channel if the network has one), then the
 * skeleton's PAF channels, each channel HEIGHT x WIDTH in row-major order, as a
 * (C, H, W) array's bytes. STRIDE is input-image pixels per map cell (default:
 * the library's default, 8). Prints a header line, then one line per person,
 * best first: "person I score S: NAME X Y V; ..." with x and y in input-image
 * pixels (a keypoint not found prints as 0 0 0).
 *
 * Build it with CMake (see CMakeLists.txt beside this file) or by hand:
 *   cc decode_fields.c -I$(python -c "import pafdecode.c_api as c; print(c.include_dir())") \
 *      -L$LIBDIR -Wl,-rpath,$LIBDIR -lpafdecode
 * with LIBDIR=$(python -c "import pafdecode.c_api as c; print(c.library_dir())"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pafdecode.h>

static int find_skeleton(const char *label) {
    for (int i = 0; pd_builtin_skeleton(i); i++)
        if (strcmp(pd_builtin_skeleton_name(i), label) == 0) return i;
    return -1;
}

static int parse_int(const char *text, const char *what, int *out) {
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 1 << 20) {
        fprintf(stderr, "decode_fields: %s must be a positive integer, got '%s'\n", what, text);
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* The whole file, which must hold exactly `count` floats. */
static float *read_floats(const char *path, size_t count) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    float *data = malloc(count * sizeof(float) + 1);
    size_t got = data ? fread(data, 1, count * sizeof(float) + 1, f) : 0;
    fclose(f);
    if (data && got != count * sizeof(float)) {
        fprintf(stderr, "decode_fields: %s holds %zu bytes, expected %zu (%zu float32)\n",
                path, got, count * sizeof(float), count);
        free(data);
        return NULL;
    }
    return data;
}

static void print_people(int which, int count, const float *keypoints, const float *scores) {
    const pd_skeleton *s = pd_builtin_skeleton(which);
    for (int p = 0; p < count; p++) {
        /* %.9g prints a float32 exactly: reading it back gives the same float. */
        printf("person %d score %.9g:", p, scores[p]);
        for (int k = 0; k < s->num_keypoints; k++) {
            const float *kp = keypoints + ((size_t)p * s->num_keypoints + k) * 3;
            printf("%s %s %.9g %.9g %.9g", k ? ";" : "", pd_builtin_keypoint_name(which, k),
                   kp[0], kp[1], kp[2]);
        }
        printf("\n");
    }
}

/* Decodes the frame; returns the number of people or a PD_ERR code. */
static int decode(int which, const pd_params *params, const float *data, int heat_channels,
                  int height, int width, float **out_keypoints, float **out_scores) {
    const pd_skeleton *s = pd_builtin_skeleton(which);
    ptrdiff_t plane = (ptrdiff_t)height * width;
    pd_fields heat = {data, heat_channels, height, width, plane, width, 1};
    pd_fields paf = {data + heat_channels * plane, pd_builtin_paf_channels(which), height,
                     width, plane, width, 1};
    if (pd_check_params(s, params) != PD_OK) return PD_ERR_ARGUMENT;
    size_t ws_size = pd_workspace_size(s, params, height, width);
    int max_people = pd_max_people(s, params);
    void *ws = malloc(ws_size);
    *out_keypoints = malloc((size_t)max_people * s->num_keypoints * 3 * sizeof(float));
    *out_scores = malloc((size_t)max_people * sizeof(float));
    int n = PD_ERR_WORKSPACE;
    if (ws && *out_keypoints && *out_scores)
        n = pd_decode_frame(s, params, &heat, &paf, ws, ws_size, *out_keypoints, *out_scores,
                            NULL);
    free(ws);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s SKELETON FILE HEIGHT WIDTH HEAT_CHANNELS [STRIDE]\n",
                argv[0]);
        return 2;
    }
    int which = find_skeleton(argv[1]), height, width, heat_channels;
    if (which < 0) {
        fprintf(stderr, "decode_fields: unknown skeleton '%s' (COCO-18 or BODY_25)\n", argv[1]);
        return 2;
    }
    if (!parse_int(argv[3], "HEIGHT", &height) || !parse_int(argv[4], "WIDTH", &width) ||
        !parse_int(argv[5], "HEAT_CHANNELS", &heat_channels))
        return 2;
    if (heat_channels < pd_builtin_skeleton(which)->num_keypoints) {
        fprintf(stderr, "decode_fields: %s needs at least %d heatmap channels, got %d\n",
                argv[1], pd_builtin_skeleton(which)->num_keypoints, heat_channels);
        return 2;
    }
    pd_params params;
    pd_params_default(&params);
    if (argc == 7) params.stride = (float)atof(argv[6]);

    size_t plane = (size_t)height * width;
    float *data = read_floats(argv[2], (heat_channels + pd_builtin_paf_channels(which)) * plane);
    if (!data) return 1;
    float *keypoints = NULL, *scores = NULL;
    int n = decode(which, &params, data, heat_channels, height, width, &keypoints, &scores);
    if (n >= 0) {
        printf("pafdecode %s: %s, %d x %d maps, %d people\n", pd_version(), argv[1], height,
               width, n);
        print_people(which, n, keypoints, scores);
    } else {
        fprintf(stderr, "decode_fields: decoding failed (error %d: %s)\n", n,
                n == PD_ERR_ARGUMENT ? "an argument or option out of range" : "out of memory");
    }
    free(data);
    free(keypoints);
    free(scores);
    return n >= 0 ? 0 : 1;
}
