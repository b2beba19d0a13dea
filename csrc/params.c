/* The options of pd_params: defaults, range checks and names, all expanded
 * from the one table in pd_params.def, so that no row is repeated by hand. */
#include <float.h>
#include <math.h>

#include "internal.h"

/* The words the table's columns use. */
#define PD_UNBOUNDED INFINITY
#define PD_OPEN_MIN 1
#define PD_OFF_ZERO 2

enum { PD_KIND_float, PD_KIND_double, PD_KIND_int, PD_KIND_enum };

typedef struct {
    const char *name;
    size_t offset;
    int kind;
    double fallback, minimum, maximum;
    int flags;
} pd_param_row;

static const pd_param_row pd_rows[] = {
#define PD_PARAM(name, type, fallback, minimum, maximum, flags, choices, stage, doc) \
    {#name, offsetof(pd_params, name), PD_KIND_##type, fallback, minimum, maximum, flags},
#include "pd_params.def"
#undef PD_PARAM
};

enum { PD_NUM_PARAMS = (int)(sizeof pd_rows / sizeof pd_rows[0]) };

int pd_param_count(void) { return PD_NUM_PARAMS; }

const char *pd_param_name(int index) {
    return index >= 0 && index < PD_NUM_PARAMS ? pd_rows[index].name : NULL;
}

size_t pd_param_offset(int index) {
    return index >= 0 && index < PD_NUM_PARAMS ? pd_rows[index].offset : (size_t)-1;
}

/* Field `row` of params as a double: exact for every type the table has. */
static double pd_param_get(const pd_params *params, const pd_param_row *row) {
    const char *at = (const char *)params + row->offset;
    switch (row->kind) {
    case PD_KIND_float: return (double)*(const float *)at;
    case PD_KIND_double: return *(const double *)at;
    default: return (double)*(const int32_t *)at;
    }
}

static void pd_param_set(pd_params *params, const pd_param_row *row, double value) {
    char *at = (char *)params + row->offset;
    switch (row->kind) {
    case PD_KIND_float: *(float *)at = (float)value; break;
    case PD_KIND_double: *(double *)at = value; break;
    default: *(int32_t *)at = (int32_t)value; break;
    }
}

void pd_params_default(pd_params *params) {
    for (int i = 0; i < PD_NUM_PARAMS; i++) pd_param_set(params, &pd_rows[i], pd_rows[i].fallback);
}

/* The rules of pd_params.def's header, as _params.Param.check applies them to
 * the stored value. A float must be 0 or normal: the decode flushes denormals,
 * so a denormal would silently read as 0, which means "off" for some options. */
static int pd_param_ok(const pd_param_row *row, double v) {
    if (!isfinite(v)) return 0;
    if ((row->flags & PD_OFF_ZERO) && v == 0.0) return 1;
    if (row->kind == PD_KIND_float && v != 0.0 && fabs(v) < (double)FLT_MIN) return 0;
    if ((row->flags & PD_OPEN_MIN) ? !(v > row->minimum) : !(v >= row->minimum)) return 0;
    return v <= row->maximum;
}

int pd_params_check(const pd_params *params) {
    for (int i = 0; i < PD_NUM_PARAMS; i++)
        if (!pd_param_ok(&pd_rows[i], pd_param_get(params, &pd_rows[i]))) return i;
    return -1;
}
