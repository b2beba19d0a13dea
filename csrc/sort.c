/* Ordering and floating-point mode helpers used by every stage. */
#include <string.h>

#include "internal.h"

#if defined(__SSE__) || defined(_M_X64) || defined(__x86_64__)
#include <xmmintrin.h>
#define PD_HAVE_MXCSR 1
#endif

static void pd_sift_down(pd_candidate *items, int root, int n) {
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n) return;
        /* A max-heap of "comes last" so the array ends in ascending "before" order. */
        if (child + 1 < n && pd_before(&items[child], &items[child + 1])) child++;
        if (!pd_before(&items[root], &items[child])) return;
        pd_candidate tmp = items[root];
        items[root] = items[child];
        items[child] = tmp;
        root = child;
    }
}

void pd_sort_candidates(pd_candidate *items, int n) {
    if (n < 2) return;
    if (n <= 16) {
        for (int i = 1; i < n; i++) {
            pd_candidate item = items[i];
            int j = i - 1;
            while (j >= 0 && pd_before(&item, &items[j])) {
                items[j + 1] = items[j];
                j--;
            }
            items[j + 1] = item;
        }
        return;
    }
    /* Heap ordered so that the root is the item that comes LAST. */
    for (int i = n / 2 - 1; i >= 0; i--) pd_sift_down(items, i, n);
    for (int end = n - 1; end > 0; end--) {
        pd_candidate tmp = items[0];
        items[0] = items[end];
        items[end] = tmp;
        pd_sift_down(items, 0, end);
    }
}

/* A float's bits as an unsigned key that orders like the float, then inverted so
 * that ascending keys mean descending scores. */
static inline uint32_t pd_descending_key(float score) {
    uint32_t bits;
    memcpy(&bits, &score, sizeof bits);
    bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return ~bits;
}

/* Keys of the radix passes. PD_KEY_EQUAL_ZEROS adds +0 first, which turns -0 into
 * +0 (IEEE round to nearest): the two compare equal in pd_before, which that sort
 * must follow exactly. */
enum { PD_KEY_SCORE, PD_KEY_EQUAL_ZEROS };

static inline uint32_t pd_sort_key(const pd_candidate *c, int field) {
    return field == PD_KEY_SCORE ? pd_descending_key(c->score)
                                 : pd_descending_key(c->score + 0.0f);
}

/* The radix passes are written once for every key field; inlined where the field
 * is a constant, each loop reads its one key with no switch. */
#if defined(__GNUC__)
#define PD_INLINE_ALWAYS static inline __attribute__((always_inline))
#else
#define PD_INLINE_ALWAYS static inline
#endif

/* One stable counting pass of an LSD radix sort on byte `shift / 8` of `field`'s
 * key, src to dst; 0 (and nothing moved) when that byte is the same everywhere. */
PD_INLINE_ALWAYS int pd_radix_pass(const pd_candidate *src, pd_candidate *dst, int n, int field,
                                   int shift) {
    int count[257] = {0};
    for (int i = 0; i < n; i++) count[((pd_sort_key(&src[i], field) >> shift) & 0xFFu) + 1]++;
    int one_bucket = 0;
    for (int b = 1; b <= 256; b++) one_bucket |= (count[b] == n);
    if (one_bucket) return 0;
    for (int b = 0; b < 256; b++) count[b + 1] += count[b];
    for (int i = 0; i < n; i++)
        dst[count[(pd_sort_key(&src[i], field) >> shift) & 0xFFu]++] = src[i];
    return 1;
}

/* A stable LSD radix sort of items on `field`'s key, a byte a pass, ping-ponging
 * with scratch (n items); the items end back in `items`. */
PD_INLINE_ALWAYS void pd_radix_sort(pd_candidate *items, int n, pd_candidate *scratch,
                                    int field) {
    pd_candidate *src = items, *dst = scratch;
    for (int shift = 0; shift < 32; shift += 8) {
        if (!pd_radix_pass(src, dst, n, field, shift)) continue;
        pd_candidate *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != items) memcpy(items, src, (size_t)n * sizeof(pd_candidate));
}

void pd_sort_candidates_stable(pd_candidate *items, int n, pd_candidate *scratch) {
    if (n <= 32) {
        pd_sort_candidates(items, n);
        return;
    }
    /* Stable and branch-free, so items that arrive in (a, b) order leave in the full
     * (score desc, a, b) order. */
    pd_radix_sort(items, n, scratch, PD_KEY_SCORE);
}

void pd_sort_candidates_any(pd_candidate *items, int n, pd_candidate *scratch) {
    if (n <= 48) {
        pd_sort_candidates(items, n);
        return;
    }
    /* A stable radix sort on the score, then each run of equal scores (rare: the
     * scores are products of distinct factors) put in (a, b) order by the heap /
     * insertion sort, which sees only ties there and so orders them by a, then b. */
    pd_radix_sort(items, n, scratch, PD_KEY_EQUAL_ZEROS);
    for (int start = 0, end; start < n; start = end) {
        for (end = start + 1; end < n && items[end].score == items[start].score; end++) continue;
        if (end - start > 1) pd_sort_candidates(items + start, end - start);
    }
}

unsigned pd_enter_flush_denormals(void) {
#ifdef PD_HAVE_MXCSR
    unsigned saved = _mm_getcsr();
    /* FTZ (bit 15) and DAZ (bit 6). */
    _mm_setcsr(saved | 0x8040u);
    return saved;
#else
    return 0;
#endif
}

void pd_leave_flush_denormals(unsigned saved) {
#ifdef PD_HAVE_MXCSR
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}
