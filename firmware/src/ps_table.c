/*
 * Event-table reader (spec/table-format.md), the C twin of runtime/format.ts decodeTable.
 *
 * The TS reader works in stages and reports the first failure of the first stage that fails; this
 * file runs the same stages in the same order so both give the same code for the same bytes:
 *   1. file size;
 *   2. the envelope as canonical CBOR (cbor_check, nesting depth 1), then format, version, keys,
 *      hash (SHA-256 of the body);
 *   3. the body as canonical CBOR (cbor_check, depth 8);
 *   4. structure: required/unknown keys, map/array types and kinds, in the order of tableFromCbor
 *      (s_table);
 *   5. ranges and cross-field rules in the order of validateTable (v_table), which also builds the
 *      model: it runs once counting arena bytes ("dry") and, when the table is valid and fits, once
 *      more filling the arena.
 * Stages 4 and 5 walk CBOR already proven well-formed and canonical by stage 3, so the t_* helpers
 * read it without checks. The only error state is the first status recorded (fail()).
 */
#include "ps_table.h"

#include <string.h>

#include "ps_sha256.h"

#define MAX_SAFE_INT 0x1FFFFFFFFFFFFFull /* 2^53 - 1: the integer range of CBOR items */
#define MAX_ITEMS 64u
#define MAX_TEXT 256u
#define MAX_NAME 64u
#define MAX_BSTR PS_TABLE_MAX_FILE_BYTES
#define MAX_KERNEL 64
#define INT32_MIN_ (-2147483647L - 1L)
#define INT32_MAX_ 2147483647L
#define NONE ((size_t)-1) /* offset of an absent item */

/* Reader context: the bytes being walked (file, then body), the first error, the arena. */
typedef struct rd {
    const uint8_t *p;
    size_t n;
    ps_status_t st;
    uint8_t *arena;
    size_t arena_size;
    size_t used;
    int fill; /* 0: count arena bytes only; 1: write the model */
    int version; /* the file's format version, set by open_envelope */
} rd_t;

static int fail(rd_t *r, ps_status_t e)
{
    if (r->st == PS_OK) r->st = e;
    return 0;
}

/* ---- numbers ---------------------------------------------------------------------------------- */

/* A finite float as sign, unbiased exponent and 52-bit fraction: |x| = (1.m) * 2^e, or zero. */
typedef struct fnum {
    int zero;
    int neg;
    int e;
    uint64_t m;
} fnum_t;

static unsigned msb64(uint64_t v)
{
    unsigned p = 0;
    while (v > 1u) { /* at most 63 steps */
        v >>= 1;
        p++;
    }
    return p;
}

/* Decodes binary16/32/64 bits (width 2, 4, 8 bytes); returns 0 for infinities and NaN. */
static int fdecode(unsigned width, uint64_t bits, fnum_t *f)
{
    unsigned ebits = width == 2u ? 5u : width == 4u ? 8u : 11u;
    unsigned mbits = width == 2u ? 10u : width == 4u ? 23u : 52u;
    int bias = width == 2u ? 15 : width == 4u ? 127 : 1023;
    uint64_t emask = ((uint64_t)1 << ebits) - 1u;
    uint64_t exp = (bits >> mbits) & emask;
    uint64_t man = bits & (((uint64_t)1 << mbits) - 1u);
    f->neg = (int)((bits >> (mbits + ebits)) & 1u);
    f->zero = 0;
    if (exp == emask) return 0;
    if (exp == 0u) {
        unsigned p;
        if (man == 0u) {
            f->zero = 1;
            f->e = 0;
            f->m = 0;
            return 1;
        }
        p = msb64(man); /* subnormal: man * 2^(1 - bias - mbits) */
        f->e = (int)p + 1 - bias - (int)mbits;
        f->m = (man - ((uint64_t)1 << p)) << (52u - p);
        return 1;
    }
    f->e = (int)exp - bias;
    f->m = man << (52u - mbits);
    return 1;
}

static int low_bits_zero(uint64_t m, int nbits)
{
    if (nbits <= 0) return 1;
    if (nbits >= 64) return m == 0u;
    return (m & (((uint64_t)1 << nbits) - 1u)) == 0u;
}

/* Number.isInteger(x) */
static int f_integral(const fnum_t *f)
{
    if (f->zero || f->e >= 52) return 1;
    if (f->e < 0) return 0;
    return low_bits_zero(f->m, 52 - f->e);
}

/* Number.isInteger(x) && |x| <= 2^53 - 1 */
static int f_safe_int(const fnum_t *f)
{
    return f->zero || (f->e <= 52 && f_integral(f));
}

/* Byte width of the shortest IEEE format that holds x exactly (x finite, nonzero). */
static unsigned f_shortest(const fnum_t *f)
{
    if (f->e <= 15 && f->e >= -24 && low_bits_zero(f->m, f->e >= -14 ? 42 : 28 - f->e)) return 2u;
    if (f->e <= 127 && f->e >= -149 && low_bits_zero(f->m, f->e >= -126 ? 29 : -97 - f->e)) return 4u;
    return 8u;
}

/* ---- CBOR stage: well-formed, canonical, within limits (cbor.ts Reader) ----------------------- */

typedef struct head {
    uint8_t major;
    uint8_t ai;
    uint64_t arg; /* value, length, count or tag; for major 7 floats the raw bits */
} head_t;

/* Reader.head(): one head at *pos, shortest form, definite. */
static int c_head(rd_t *r, size_t *pos, head_t *h)
{
    uint8_t ib;
    unsigned width, i, shortest;
    uint64_t arg = 0;
    if (*pos >= r->n) return fail(r, PS_E_FORMAT_TRUNCATED);
    ib = r->p[(*pos)++];
    h->major = (uint8_t)(ib >> 5);
    h->ai = (uint8_t)(ib & 31u);
    h->arg = 0;
    if (h->major == 7u) return 1;
    if (h->ai < 24u) {
        h->arg = h->ai;
        return 1;
    }
    if (h->ai == 31u) return fail(r, h->major >= 2u && h->major <= 5u ? PS_E_FORMAT_NON_CANONICAL : PS_E_FORMAT_MALFORMED_CBOR);
    if (h->ai > 27u) return fail(r, PS_E_FORMAT_MALFORMED_CBOR);
    width = 1u << (h->ai - 24u);
    if (r->n - *pos < width) return fail(r, PS_E_FORMAT_TRUNCATED);
    for (i = 0; i < width; i++) arg = (arg << 8) | r->p[*pos + i];
    *pos += width;
    shortest = arg < 24u ? 0u : arg < 0x100u ? 1u : arg < 0x10000u ? 2u : arg <= 0xFFFFFFFFu ? 4u : 8u;
    if (shortest != width) return fail(r, PS_E_FORMAT_NON_CANONICAL);
    h->arg = arg;
    return 1;
}

/* Strict UTF-8 (what TextDecoder with fatal: true accepts). */
static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k, more;
        uint8_t lo = 0x80u, hi = 0xBFu;
        if (c < 0x80u) {
            i++;
            continue;
        }
        if (c >= 0xC2u && c <= 0xDFu) more = 1;
        else if (c >= 0xE0u && c <= 0xEFu) {
            more = 2;
            if (c == 0xE0u) lo = 0xA0u;
            if (c == 0xEDu) hi = 0x9Fu;
        } else if (c >= 0xF0u && c <= 0xF4u) {
            more = 3;
            if (c == 0xF0u) lo = 0x90u;
            if (c == 0xF4u) hi = 0x8Fu;
        } else return 0;
        if (n - i - 1u < more) return 0;
        for (k = 1; k <= more; k++) {
            uint8_t b = s[i + k];
            if (b < lo || b > hi) return 0;
            lo = 0x80u;
            hi = 0xBFu;
        }
        i += more + 1u;
    }
    return 1;
}

static unsigned tag_elem_size(uint64_t tag)
{
    if (tag == 64u || tag == 72u) return 1u;
    if (tag == 69u || tag == 77u) return 2u;
    if (tag == 70u || tag == 78u) return 4u;
    return 0u;
}

/* One open array or map while walking. */
typedef struct frame {
    uint32_t left;    /* entries (items of an array, pairs of a map) still to come */
    uint8_t is_map;
    uint8_t want_key; /* map: the next item is a key */
    uint8_t has_prev; /* map: prev_key is set */
    size_t prev_off;  /* map: encoded bytes of the previous key */
    size_t prev_len;
} frame_t;

/*
 * decodeCanonical(): exactly one item filling r->p[0..n), nesting at most max_depth, checked in
 * document order with the same codes as cbor.ts. Iterative: st[] holds the open containers.
 */
static int cbor_check(rd_t *r, unsigned max_depth)
{
    frame_t st[PS_TABLE_MAX_DEPTH];
    unsigned sp = 0;
    size_t pos = 0;
    for (;;) { /* each pass consumes at least one byte, so at most n passes */
        head_t h;
        size_t start;
        int complete = 1;
        if (sp > 0u && st[sp - 1u].is_map && st[sp - 1u].want_key) {
            if (pos >= r->n) return fail(r, PS_E_FORMAT_TRUNCATED);
            if ((r->p[pos] >> 5) != 3u) return fail(r, PS_E_FORMAT_BAD_TYPE);
        }
        start = pos;
        if (!c_head(r, &pos, &h)) return 0;
        switch (h.major) {
        case 0:
            if (h.arg > MAX_SAFE_INT) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
            break;
        case 1:
            if (h.arg >= MAX_SAFE_INT) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
            break;
        case 2:
        case 3:
            if (h.arg > (h.major == 2u ? (uint64_t)MAX_BSTR : (uint64_t)MAX_TEXT)) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
            if (h.arg > (uint64_t)(r->n - pos)) return fail(r, PS_E_FORMAT_TRUNCATED);
            if (h.major == 3u && !utf8_ok(r->p + pos, (size_t)h.arg)) return fail(r, PS_E_FORMAT_MALFORMED_CBOR);
            pos += (size_t)h.arg;
            break;
        case 4:
        case 5:
            if (sp + 1u > max_depth || h.arg > MAX_ITEMS) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
            if (h.arg > 0u) {
                st[sp].left = (uint32_t)h.arg;
                st[sp].is_map = (uint8_t)(h.major == 5u);
                st[sp].want_key = st[sp].is_map;
                st[sp].has_prev = 0;
                st[sp].prev_off = 0;
                st[sp].prev_len = 0;
                sp++;
                complete = 0;
            }
            break;
        case 6: {
            unsigned size = tag_elem_size(h.arg);
            head_t b;
            if (size == 0u) return fail(r, PS_E_FORMAT_BAD_TYPE);
            if (pos >= r->n) return fail(r, PS_E_FORMAT_TRUNCATED);
            if ((r->p[pos] >> 5) != 2u) return fail(r, PS_E_FORMAT_BAD_TYPE);
            if (!c_head(r, &pos, &b)) return 0;
            if (b.arg > (uint64_t)MAX_BSTR) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
            if (b.arg > (uint64_t)(r->n - pos)) return fail(r, PS_E_FORMAT_TRUNCATED);
            if (b.arg % size != 0u) return fail(r, PS_E_FORMAT_MALFORMED_CBOR);
            pos += (size_t)b.arg;
            break;
        }
        default: { /* major 7 */
            unsigned width, i;
            uint64_t bits = 0;
            fnum_t f;
            if (h.ai == 20u || h.ai == 21u) break;
            if (h.ai >= 28u) return fail(r, PS_E_FORMAT_MALFORMED_CBOR);
            if (h.ai < 25u) {
                if (h.ai == 24u && pos >= r->n) return fail(r, PS_E_FORMAT_TRUNCATED);
                return fail(r, PS_E_FORMAT_BAD_TYPE);
            }
            width = 1u << (h.ai - 24u);
            if (r->n - pos < width) return fail(r, PS_E_FORMAT_TRUNCATED);
            for (i = 0; i < width; i++) bits = (bits << 8) | r->p[pos + i];
            pos += width;
            if (!fdecode(width, bits, &f)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
            if (f_safe_int(&f)) return fail(r, PS_E_FORMAT_NON_CANONICAL);
            if (f_shortest(&f) != width) return fail(r, PS_E_FORMAT_NON_CANONICAL);
            break;
        }
        }
        if (!complete) continue;
        while (sp > 0u) { /* close what this item completes */
            frame_t *fr = &st[sp - 1u];
            if (fr->is_map && fr->want_key) { /* the item was a key: check order against the previous */
                size_t len = pos - start;
                if (fr->has_prev) {
                    size_t m = fr->prev_len < len ? fr->prev_len : len;
                    int order = memcmp(r->p + fr->prev_off, r->p + start, m);
                    if (order == 0) order = fr->prev_len < len ? -1 : fr->prev_len > len ? 1 : 0;
                    if (order == 0) return fail(r, PS_E_FORMAT_MALFORMED_CBOR);
                    if (order > 0) return fail(r, PS_E_FORMAT_NON_CANONICAL);
                }
                fr->has_prev = 1;
                fr->prev_off = start;
                fr->prev_len = len;
                fr->want_key = 0;
                break;
            }
            if (fr->is_map) fr->want_key = 1;
            if (--fr->left > 0u) break;
            sp--;
        }
        if (sp == 0u) break;
    }
    if (pos != r->n) return fail(r, PS_E_FORMAT_MALFORMED_CBOR);
    return 1;
}

/* ---- trusted walking of checked CBOR ---------------------------------------------------------- */

static size_t t_head(const rd_t *r, size_t off, head_t *h)
{
    uint8_t ib = r->p[off++];
    unsigned width = 0, i;
    h->major = (uint8_t)(ib >> 5);
    h->ai = (uint8_t)(ib & 31u);
    h->arg = h->ai;
    if (h->ai >= 24u && h->ai <= 27u) width = 1u << (h->ai - 24u);
    if (width > 0u) {
        h->arg = 0;
        for (i = 0; i < width; i++) h->arg = (h->arg << 8) | r->p[off + i];
    }
    return off + width;
}

/* Offset just after the item at off. */
static size_t t_skip(const rd_t *r, size_t off)
{
    uint32_t pending = 1; /* at most 8 levels of 128 items: cannot overflow */
    while (pending > 0u) {
        head_t h;
        off = t_head(r, off, &h);
        pending--;
        if (h.major == 2u || h.major == 3u) off += (size_t)h.arg;
        else if (h.major == 4u) pending += (uint32_t)h.arg;
        else if (h.major == 5u) pending += 2u * (uint32_t)h.arg;
        else if (h.major == 6u) pending += 1u;
    }
    return off;
}

static int t_text_is(const rd_t *r, size_t off, const char *s)
{
    head_t h;
    size_t at = t_head(r, off, &h);
    size_t n = strlen(s);
    return h.major == 3u && h.arg == n && memcmp(r->p + at, s, n) == 0;
}

/* Offset of the value under `key` in the map at off, or NONE (absent, or not a map). */
static size_t t_get(const rd_t *r, size_t off, const char *key)
{
    head_t h;
    uint64_t i;
    if (off == NONE) return NONE;
    off = t_head(r, off, &h);
    if (h.major != 5u) return NONE;
    for (i = 0; i < h.arg; i++) {
        size_t value = t_skip(r, off);
        if (t_text_is(r, off, key)) return value;
        off = t_skip(r, value);
    }
    return NONE;
}

static int t_major(const rd_t *r, size_t off, uint8_t major)
{
    head_t h;
    if (off == NONE) return 0;
    t_head(r, off, &h);
    return h.major == major;
}

/* Number classes of a value item. */
enum { NUM_NONE = 0, NUM_INT, NUM_BIG_INTEGRAL, NUM_FRACTION };

static int t_num(const rd_t *r, size_t off, int64_t *v, int *neg)
{
    head_t h;
    fnum_t f;
    t_head(r, off, &h);
    if (h.major == 0u) {
        *v = (int64_t)h.arg;
        *neg = 0;
        return NUM_INT;
    }
    if (h.major == 1u) {
        *v = -1 - (int64_t)h.arg;
        *neg = 1;
        return NUM_INT;
    }
    if (h.major != 7u || h.ai < 25u || h.ai > 27u) return NUM_NONE;
    fdecode(1u << (h.ai - 24u), h.arg, &f);
    *neg = f.neg;
    /* checked floats are never safe integers: an integral one lies beyond 2^53 */
    return f_integral(&f) ? NUM_BIG_INTEGRAL : NUM_FRACTION;
}

/* ---- schema helpers (format.ts intIn, text, oneOf, typed, fields) ------------------------------ */

static int get_int(rd_t *r, size_t off, int64_t min, int64_t max, ps_status_t over, int64_t *out)
{
    int64_t v = 0;
    int neg = 0;
    int kind = t_num(r, off, &v, &neg);
    if (kind == NUM_NONE || kind == NUM_FRACTION) return fail(r, PS_E_FORMAT_BAD_TYPE);
    if (kind == NUM_BIG_INTEGRAL) return fail(r, neg ? PS_E_FORMAT_OUT_OF_RANGE : over);
    if (v < min) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (v > max) return fail(r, over);
    *out = v;
    return 1;
}

static int get_text(rd_t *r, size_t off, uint32_t min_bytes, uint32_t max_bytes, size_t *at, uint32_t *len)
{
    head_t h;
    size_t data = t_head(r, off, &h);
    if (h.major != 3u) return fail(r, PS_E_FORMAT_BAD_TYPE);
    if (h.arg < min_bytes) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (h.arg > max_bytes) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
    *at = data;
    *len = (uint32_t)h.arg;
    return 1;
}

/* Index of the text at off in the NULL-terminated list, or -1 (BAD_TYPE / UNKNOWN_KIND recorded). */
static int one_of(rd_t *r, size_t off, const char *const *names)
{
    int i;
    if (!t_major(r, off, 3u)) return fail(r, PS_E_FORMAT_BAD_TYPE) - 1;
    for (i = 0; names[i] != 0; i++)
        if (t_text_is(r, off, names[i])) return i;
    return fail(r, PS_E_FORMAT_UNKNOWN_KIND) - 1;
}

/* A typed array of `tag`: payload offset and element count. */
static int get_typed(rd_t *r, size_t off, uint64_t tag, size_t *payload, uint32_t *count)
{
    head_t h, b;
    size_t at;
    if (off == NONE) return fail(r, PS_E_FORMAT_BAD_TYPE);
    at = t_head(r, off, &h);
    if (h.major != 6u || h.arg != tag) return fail(r, PS_E_FORMAT_BAD_TYPE);
    at = t_head(r, at, &b);
    *payload = at;
    *count = (uint32_t)(b.arg / tag_elem_size(tag));
    return 1;
}

static int in_list(const rd_t *r, size_t key, const char *const *names)
{
    unsigned i;
    for (i = 0; names != 0 && names[i] != 0; i++)
        if (t_text_is(r, key, names[i])) return 1;
    return 0;
}

/* fields_v(): a map holding every required key and no key outside required + optional, nor
 * (in a version-1 file) any of the optional keys format version 2 added (format.ts fields). */
static int fields_v(rd_t *r, size_t off, const char *const *required, const char *const *optional, const char *const *since_v2)
{
    head_t h;
    uint64_t i;
    size_t at;
    if (off == NONE) return fail(r, PS_E_FORMAT_MISSING_FIELD);
    at = t_head(r, off, &h);
    if (h.major != 5u) return fail(r, PS_E_FORMAT_BAD_TYPE);
    for (i = 0; required[i] != 0; i++)
        if (t_get(r, off, required[i]) == NONE) return fail(r, PS_E_FORMAT_MISSING_FIELD);
    for (i = 0; i < h.arg; i++) {
        if (in_list(r, at, since_v2)) {
            if (r->version < 2) return fail(r, PS_E_FORMAT_UNKNOWN_FIELD);
        } else if (!in_list(r, at, required) && !in_list(r, at, optional)) {
            return fail(r, PS_E_FORMAT_UNKNOWN_FIELD);
        }
        at = t_skip(r, t_skip(r, at));
    }
    return 1;
}

/* fields(): fields_v() for a map to which format version 2 added no key. */
static int fields(rd_t *r, size_t off, const char *const *required, const char *const *optional)
{
    return fields_v(r, off, required, optional, 0);
}

static int need_array(rd_t *r, size_t off)
{
    return t_major(r, off, 4u) ? 1 : fail(r, PS_E_FORMAT_BAD_TYPE);
}

/* ---- key lists -------------------------------------------------------------------------------- */

static const char *const K_ENVELOPE[] = {"format", "version", "hash", "body", 0};
static const char *const K_BODY[] = {"input", "layers", "readout", "provenance", 0};
static const char *const K_INPUT[] = {"size", "encoding", "seed", 0};
static const char *const K_INPUT_OPT[] = {"shape", 0};
static const char *const K_LAYER[] = {"name", "size", "input", "neuron", 0};
static const char *const K_LAYER_OPT[] = {"shape", "recurrent", "bias", "plasticity", 0};
static const char *const K_NEURON[] = {"model", "threshold", "reset", "resetValue", "leakShift", "leakQ15", "currentShift", "refractory", "vMin", 0};
static const char *const K_PLASTICITY[] = {"rule", "preTraceShift", "postTraceShift", "traceIncrement", "aPlus", "aMinus", "eligibilityShift", "learningShift", "baselineShift", "wMin", "wMax", 0};
static const char *const K_KIND[] = {"kind", 0};
static const char *const K_CONN_ANY[] = {"inputs", "outputs", "weights", "rowPtr", "cols", "inShape", "outShape", "kernel", "stride", "padding", "weight", "shift", 0};
static const char *const K_DENSE[] = {"kind", "inputs", "outputs", "weights", 0};
static const char *const K_SPARSE[] = {"kind", "inputs", "outputs", "rowPtr", "cols", "weights", 0};
static const char *const K_CONV[] = {"kind", "inShape", "outShape", "kernel", "stride", "padding", "weights", 0};
static const char *const K_POOL[] = {"kind", "inShape", "outShape", "kernel", "stride", "weight", "shift", 0};
static const char *const K_WEIGHTS[] = {"bits", "count", "data", "shift", 0};
static const char *const K_READOUT[] = {"kind", 0};
static const char *const K_PROVENANCE[] = {"source", "tool", "settings", "layerScales", 0};

static const char *const N_CONN[] = {"dense", "sparse", "conv2d", "pool", 0};
static const char *const N_MODEL[] = {"if", "lif-shift", "lif-q15", "cuba", "integrator", 0};
static const char *const N_RESET[] = {"subtract", "value", 0};
static const char *const N_ENCODING[] = {"spikes", "rate", "current", 0};
static const char *const N_READOUT[] = {"count", "membrane", 0};
static const char *const N_RULE[] = {"stdp", "rstdp", "triplet", 0};
static const char *const N_TIMING[] = {"step", "event", "epoch", 0};
/* plasticity keys format version 2 added (optional; absent keeps the version-1 meaning) */
static const char *const K_PLASTICITY_V2[] = {"timing", "tripletShift", "a3Plus", "epochShift", 0};
static const char *const K_NEURON_V2[] = {"compare", "resetDelay", "multiSpike", "vInit", "synapse", "currentQ15", "leakQ15s", "currentQ15s", 0};
static const char *const N_COMPARE[] = {"ge", "gt", 0};
static const char *const N_SYNAPSE[] = {"shift", "q15", 0};

/* ---- stage 4: structure (format.ts tableFromCbor) ---------------------------------------------- */

static int s_weights(rd_t *r, size_t off)
{
    return fields(r, off, K_WEIGHTS, 0);
}

static int s_connection(rd_t *r, size_t c)
{
    int kind;
    if (!fields(r, c, K_KIND, K_CONN_ANY)) return 0;
    kind = one_of(r, t_get(r, c, "kind"), N_CONN);
    if (kind < 0) return 0;
    if (kind == 0) return fields(r, c, K_DENSE, 0) && s_weights(r, t_get(r, c, "weights"));
    if (kind == 1) return fields(r, c, K_SPARSE, 0) && s_weights(r, t_get(r, c, "weights"));
    if (kind == 2) {
        return fields(r, c, K_CONV, 0) && need_array(r, t_get(r, c, "inShape")) && need_array(r, t_get(r, c, "outShape")) &&
               need_array(r, t_get(r, c, "kernel")) && need_array(r, t_get(r, c, "stride")) && need_array(r, t_get(r, c, "padding")) &&
               s_weights(r, t_get(r, c, "weights"));
    }
    return fields(r, c, K_POOL, 0) && need_array(r, t_get(r, c, "inShape")) && need_array(r, t_get(r, c, "outShape")) &&
           need_array(r, t_get(r, c, "kernel")) && need_array(r, t_get(r, c, "stride"));
}

static int s_layer(rd_t *r, size_t l)
{
    size_t v;
    if (!fields(r, l, K_LAYER, K_LAYER_OPT)) return 0;
    if (!fields_v(r, t_get(r, l, "neuron"), K_NEURON, 0, K_NEURON_V2)) return 0;
    if (!s_connection(r, t_get(r, l, "input"))) return 0;
    if ((v = t_get(r, l, "shape")) != NONE && !need_array(r, v)) return 0;
    if ((v = t_get(r, l, "recurrent")) != NONE && !s_connection(r, v)) return 0;
    if ((v = t_get(r, l, "plasticity")) != NONE && !fields_v(r, v, K_PLASTICITY, 0, K_PLASTICITY_V2)) return 0;
    return 1;
}

static int s_table(rd_t *r)
{
    size_t layers, prov, v, at;
    head_t h;
    uint64_t i;
    if (!fields(r, 0, K_BODY, 0)) return 0;
    if (!fields(r, t_get(r, 0, "input"), K_INPUT, K_INPUT_OPT)) return 0;
    layers = t_get(r, 0, "layers");
    if (!need_array(r, layers)) return 0;
    at = t_head(r, layers, &h);
    for (i = 0; i < h.arg; i++) { /* at most 64 */
        if (!s_layer(r, at)) return 0;
        at = t_skip(r, at);
    }
    if (!fields(r, t_get(r, 0, "readout"), K_READOUT, 0)) return 0;
    prov = t_get(r, 0, "provenance");
    if (!fields(r, prov, K_PROVENANCE, 0)) return 0;
    if (!t_major(r, t_get(r, prov, "settings"), 5u)) return fail(r, PS_E_FORMAT_BAD_TYPE);
    if ((v = t_get(r, t_get(r, 0, "input"), "shape")) != NONE && !need_array(r, v)) return 0;
    return need_array(r, t_get(r, prov, "layerScales"));
}

/* ---- arena ------------------------------------------------------------------------------------- */

/* Reserves `bytes` aligned to `align` (a power of two). Counts only in the dry run. */
static void *arena_alloc(rd_t *r, size_t bytes, size_t align)
{
    uintptr_t at = (uintptr_t)r->arena + (uintptr_t)r->used;
    size_t pad = (size_t)((align - (at & (uintptr_t)(align - 1u))) & (uintptr_t)(align - 1u));
    void *out = 0;
    if (r->fill) out = r->arena + r->used + pad;
    r->used += pad + bytes;
    return out;
}

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int16_t as_i16(uint32_t u)
{
    return (int16_t)((int32_t)u - ((u & 0x8000u) ? 65536 : 0));
}

/* Aligned host-order copy of `count` little-endian elements of `size` bytes (1, 2 or 4). */
static void *copy_array(rd_t *r, size_t payload, uint32_t count, unsigned size)
{
    uint32_t i;
    uint8_t *dst = (uint8_t *)arena_alloc(r, (size_t)count * size, size);
    if (dst == 0) return 0;
    if (size == 1u) memcpy(dst, r->p + payload, count);
    else if (size == 2u) {
        uint16_t *d = (uint16_t *)(void *)dst;
        for (i = 0; i < count; i++) d[i] = (uint16_t)le16(r->p + payload + 2u * i);
    } else {
        uint32_t *d = (uint32_t *)(void *)dst;
        for (i = 0; i < count; i++) d[i] = le32(r->p + payload + 4u * i);
    }
    return dst;
}

/* ---- stage 5: values and cross-field rules (format.ts validateTable), building the model -------- */

/* A population on one side of a connection. */
typedef struct pop {
    uint32_t size;
    uint8_t has_shape;
    ps_shape3_t shape;
    uint8_t multi; /* a multi-spike layer: its events are graded (spec/ops.md §4.9) */
} pop_t;

static uint32_t pop_channels(const pop_t *p)
{
    return p->has_shape ? p->shape.c : p->size;
}

/* shapeProduct(): [C, H, W] each 1..2^20, product at most 2^20. */
static int v_shape(rd_t *r, size_t off, ps_shape3_t *s, uint32_t *product)
{
    head_t h;
    size_t at = t_head(r, off, &h);
    uint32_t d[3];
    uint64_t prod = 1;
    unsigned i;
    if (h.major != 4u || h.arg != 3u) return fail(r, PS_E_FORMAT_BAD_TYPE);
    for (i = 0; i < 3u; i++) {
        int64_t v;
        if (!get_int(r, at, 1, (int64_t)PS_MAX_NEURONS, PS_E_FORMAT_LIMIT_EXCEEDED, &v)) return 0;
        d[i] = (uint32_t)v;
        prod *= (uint64_t)v;
        if (prod > PS_MAX_NEURONS) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
        at = t_skip(r, at);
    }
    s->c = d[0];
    s->h = d[1];
    s->w = d[2];
    *product = (uint32_t)prod;
    return 1;
}

/* pair(): two integers in [min, max]. */
static int v_pair(rd_t *r, size_t off, int64_t min, int64_t max, uint32_t out[2])
{
    head_t h;
    size_t at = t_head(r, off, &h);
    int64_t a, b;
    if (h.major != 4u || h.arg != 2u) return fail(r, PS_E_FORMAT_BAD_TYPE);
    if (!get_int(r, at, min, max, PS_E_FORMAT_OUT_OF_RANGE, &a)) return 0;
    if (!get_int(r, t_skip(r, at), min, max, PS_E_FORMAT_OUT_OF_RANGE, &b)) return 0;
    out[0] = (uint32_t)a;
    out[1] = (uint32_t)b;
    return 1;
}

static int same_shape(const ps_shape3_t *a, const ps_shape3_t *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w;
}

/* Where the stored weights of a connection are, for the plasticity clamp check. */
typedef struct wsrc {
    unsigned bits;
    uint32_t count;
    size_t payload;
} wsrc_t;

static int32_t weight_at(const rd_t *r, const wsrc_t *w, uint32_t k)
{
    if (w->bits == 8u) return (int32_t)r->p[w->payload + k] - (r->p[w->payload + k] >= 0x80u ? 256 : 0);
    if (w->bits == 16u) return as_i16(le16(r->p + w->payload + 2u * k));
    {
        uint32_t nib = (r->p[w->payload + (k >> 1)] >> ((k & 1u) * 4u)) & 15u;
        return nib >= 8u ? (int32_t)nib - 16 : (int32_t)nib;
    }
}

/* validateWeights(); fills out (pointers only when filling). */
static int v_weights(rd_t *r, size_t w, uint64_t count, uint32_t channels, int plastic, ps_weights_t *out, wsrc_t *src)
{
    head_t h;
    int64_t declared;
    size_t data, shift;
    uint32_t elems, need, shift_len, i;
    unsigned bits;
    t_head(r, t_get(r, w, "bits"), &h);
    if (h.major != 0u || (h.arg != 4u && h.arg != 8u && h.arg != 16u)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    bits = (unsigned)h.arg;
    if (!get_int(r, t_get(r, w, "count"), 0, (int64_t)PS_MAX_SYNAPSES, PS_E_FORMAT_LIMIT_EXCEEDED, &declared)) return 0;
    if ((uint64_t)declared != count) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    if (!get_typed(r, t_get(r, w, "data"), bits == 8u ? 72u : bits == 16u ? 77u : 64u, &data, &elems)) return 0;
    need = bits == 4u ? (uint32_t)((count + 1u) / 2u) : (uint32_t)count;
    if (elems != need) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    if (bits == 4u && (count & 1u) && (r->p[data + need - 1u] >> 4) != 0u) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (!get_typed(r, t_get(r, w, "shift"), 64u, &shift, &shift_len)) return 0;
    if (shift_len != 1u && shift_len != channels) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    for (i = 0; i < shift_len; i++)
        if (r->p[shift + i] > PS_MAX_SHIFT) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    src->bits = bits;
    src->count = (uint32_t)count;
    src->payload = data;
    memset(out, 0, sizeof *out);
    out->bits = (uint8_t)bits;
    out->count = (uint32_t)count;
    out->shift = r->p + shift;
    out->shift_len = shift_len;
    if (bits == 16u) {
        out->i16 = (const int16_t *)copy_array(r, data, need, 2u);
        out->writable = plastic ? (void *)(uintptr_t)out->i16 : 0;
    } else {
        const uint8_t *bytes = r->p + data;
        if (plastic) {
            uint8_t *copy = (uint8_t *)copy_array(r, data, need, 1u);
            out->writable = copy;
            bytes = copy;
        }
        if (bits == 8u) out->i8 = (const int8_t *)(const void *)bytes;
        else out->packed4 = bytes;
    }
    return 1;
}

/* Valid taps along one axis summed over output positions (format.ts convSynapses). */
static uint64_t valid_along(uint32_t in_len, uint32_t out_len, uint32_t k, uint32_t s, uint32_t p)
{
    uint64_t total = 0;
    uint32_t o;
    for (o = 0; o < out_len; o++) { /* out_len <= 2^20, validated */
        int64_t first = (int64_t)o * s - p;
        int64_t lo = first > 0 ? first : 0;
        int64_t hi = first + (int64_t)k < (int64_t)in_len ? first + (int64_t)k : (int64_t)in_len;
        if (hi > lo) total += (uint64_t)(hi - lo);
    }
    return total;
}

/* validateGeometry(). */
static int v_geometry(rd_t *r, size_t c, const uint32_t pad[2], const pop_t *pre, const pop_t *post, ps_connection_t *out)
{
    uint32_t kernel[2], stride[2], in_prod, out_prod;
    unsigned axis;
    if (!v_shape(r, t_get(r, c, "inShape"), &out->in_shape, &in_prod)) return 0;
    if (!v_shape(r, t_get(r, c, "outShape"), &out->out_shape, &out_prod)) return 0;
    if (!v_pair(r, t_get(r, c, "kernel"), 1, MAX_KERNEL, kernel)) return 0;
    if (!v_pair(r, t_get(r, c, "stride"), 1, MAX_KERNEL, stride)) return 0;
    if (!pre->has_shape || !same_shape(&out->in_shape, &pre->shape)) return fail(r, PS_E_SEMANTICS_SHAPE_MISMATCH);
    if (!post->has_shape) return fail(r, PS_E_FORMAT_MISSING_FIELD);
    if (!same_shape(&out->out_shape, &post->shape)) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    for (axis = 0; axis < 2u; axis++) {
        uint32_t in_len = axis == 0u ? out->in_shape.h : out->in_shape.w;
        uint32_t out_len = axis == 0u ? out->out_shape.h : out->out_shape.w;
        uint32_t padded = in_len + 2u * pad[axis];
        if (pad[axis] >= kernel[axis]) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (padded < kernel[axis]) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (out_len != (padded - kernel[axis]) / stride[axis] + 1u) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    }
    out->inputs = in_prod;
    out->outputs = out_prod;
    out->kernel[0] = (uint8_t)kernel[0];
    out->kernel[1] = (uint8_t)kernel[1];
    out->stride[0] = (uint8_t)stride[0];
    out->stride[1] = (uint8_t)stride[1];
    out->padding[0] = (uint8_t)pad[0];
    out->padding[1] = (uint8_t)pad[1];
    return 1;
}

static int budget(rd_t *r, uint64_t n, uint64_t used)
{
    return n + used > PS_MAX_SYNAPSES ? fail(r, PS_E_FORMAT_LIMIT_EXCEEDED) : 1;
}

/* validateConnection(): one connection from pre onto post; adds its synapses to *synapses. */
static int v_connection(rd_t *r, size_t c, const pop_t *pre, const pop_t *post, uint64_t *synapses, int plastic, ps_connection_t *out, wsrc_t *src)
{
    int kind = one_of(r, t_get(r, c, "kind"), N_CONN);
    uint32_t post_channels = pop_channels(post);
    uint64_t n;
    memset(out, 0, sizeof *out);
    if (kind < 0) return 0;
    out->kind = (uint8_t)(kind + 1);
    if (kind == 0 || kind == 1) {
        int64_t inputs, outputs;
        if (!get_int(r, t_get(r, c, "inputs"), 1, (int64_t)PS_MAX_NEURONS, PS_E_FORMAT_LIMIT_EXCEEDED, &inputs)) return 0;
        if (!get_int(r, t_get(r, c, "outputs"), 1, (int64_t)PS_MAX_NEURONS, PS_E_FORMAT_LIMIT_EXCEEDED, &outputs)) return 0;
        if ((uint32_t)inputs != pre->size) return fail(r, PS_E_SEMANTICS_SHAPE_MISMATCH);
        if ((uint32_t)outputs != post->size) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
        out->inputs = (uint32_t)inputs;
        out->outputs = (uint32_t)outputs;
        if (kind == 0) {
            n = (uint64_t)inputs * (uint64_t)outputs;
            if (!budget(r, n, *synapses)) return 0;
            if (!v_weights(r, t_get(r, c, "weights"), n, post_channels, plastic, &out->weights, src)) return 0;
        } else {
            size_t rp, cols;
            uint32_t rp_len, cols_len, i, k;
            uint64_t tag = outputs <= 65536 ? 69u : 70u;
            unsigned csize = outputs <= 65536 ? 2u : 4u;
            if (!get_typed(r, t_get(r, c, "rowPtr"), 70u, &rp, &rp_len)) return 0;
            if ((uint64_t)rp_len != (uint64_t)inputs + 1u) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
            if (le32(r->p + rp) != 0u) return fail(r, PS_E_FORMAT_INDEX_OUT_OF_BOUNDS);
            for (i = 0; i < (uint32_t)inputs; i++)
                if (le32(r->p + rp + 4u * (i + 1u)) < le32(r->p + rp + 4u * i)) return fail(r, PS_E_FORMAT_INDEX_OUT_OF_BOUNDS);
            n = le32(r->p + rp + 4u * (uint32_t)inputs);
            if (!budget(r, n, *synapses)) return 0;
            if (!get_typed(r, t_get(r, c, "cols"), tag, &cols, &cols_len)) return 0;
            if ((uint64_t)cols_len != n) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
            for (i = 0; i < (uint32_t)inputs; i++) {
                uint32_t end = le32(r->p + rp + 4u * (i + 1u));
                uint32_t begin = le32(r->p + rp + 4u * i);
                for (k = begin; k < end; k++) { /* k < nnz = cols_len, checked above */
                    uint32_t col = csize == 2u ? le16(r->p + cols + 2u * k) : le32(r->p + cols + 4u * k);
                    if (col >= (uint32_t)outputs) return fail(r, PS_E_FORMAT_INDEX_OUT_OF_BOUNDS);
                    if (k > begin && col <= (csize == 2u ? le16(r->p + cols + 2u * (k - 1u)) : le32(r->p + cols + 4u * (k - 1u)))) {
                        return fail(r, PS_E_FORMAT_INDEX_OUT_OF_BOUNDS);
                    }
                }
            }
            if (!v_weights(r, t_get(r, c, "weights"), n, post_channels, plastic, &out->weights, src)) return 0;
            out->nnz = (uint32_t)n;
            out->row_ptr = (const uint32_t *)copy_array(r, rp, rp_len, 4u);
            if (csize == 2u) out->cols16 = (const uint16_t *)copy_array(r, cols, cols_len, 2u);
            else out->cols32 = (const uint32_t *)copy_array(r, cols, cols_len, 4u);
        }
    } else if (kind == 2) {
        uint32_t pad[2];
        uint64_t count;
        if (!v_pair(r, t_get(r, c, "padding"), 0, MAX_KERNEL - 1, pad)) return 0;
        if (!v_geometry(r, c, pad, pre, post, out)) return 0;
        n = (uint64_t)out->out_shape.c * out->in_shape.c *
            valid_along(out->in_shape.h, out->out_shape.h, out->kernel[0], out->stride[0], pad[0]) *
            valid_along(out->in_shape.w, out->out_shape.w, out->kernel[1], out->stride[1], pad[1]);
        if (!budget(r, n, *synapses)) return 0;
        count = (uint64_t)out->out_shape.c * out->in_shape.c * out->kernel[0] * out->kernel[1];
        if (!v_weights(r, t_get(r, c, "weights"), count, post_channels, 0, &out->weights, src)) return 0;
    } else {
        static const uint32_t no_pad[2] = {0, 0};
        int64_t weight, shift;
        if (!v_geometry(r, c, no_pad, pre, post, out)) return 0;
        if (out->out_shape.c != out->in_shape.c) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
        if (!get_int(r, t_get(r, c, "weight"), -32768, 32767, PS_E_FORMAT_OUT_OF_RANGE, &weight)) return 0;
        if (!get_int(r, t_get(r, c, "shift"), 0, PS_MAX_SHIFT, PS_E_FORMAT_OUT_OF_RANGE, &shift)) return 0;
        out->pool_weight = (int16_t)weight;
        out->pool_shift = (uint8_t)shift;
        n = (uint64_t)out->outputs * out->kernel[0] * out->kernel[1];
        if (!budget(r, n, *synapses)) return 0;
    }
    out->synapses = (uint32_t)n;
    *synapses += n;
    return 1;
}

/* A CBOR boolean (simple value 20 false, 21 true). */
static int get_bool(rd_t *r, size_t off, int *out)
{
    head_t h;
    if (off == NONE) return fail(r, PS_E_FORMAT_BAD_TYPE);
    (void)t_head(r, off, &h);
    if (h.major != 7u || (h.ai != 20u && h.ai != 21u)) return fail(r, PS_E_FORMAT_BAD_TYPE);
    *out = h.ai == 21u;
    return 1;
}

/* A version-2 per-neuron Q15 retention array (format.ts validateNeuron `retentions`): NULL when absent. */
static int get_retentions(rd_t *r, size_t off, uint32_t size, const uint16_t **out)
{
    size_t payload;
    uint32_t n, j;
    *out = 0;
    if (off == NONE) return 1;
    if (!get_typed(r, off, 69u, &payload, &n)) return 0;
    if (n != size) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    for (j = 0; j < n; j++)
        if (le16(r->p + payload + 2u * j) > 32767u) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    *out = (const uint16_t *)copy_array(r, payload, n, 2u);
    return 1;
}

/* validateNeuron(). */
static int v_neuron(rd_t *r, size_t nv, int is_last, uint32_t size, ps_neuron_t *out)
{
    int model, reset, compare = 0, reset_delay = 0, multi_spike = 0, synapse = 0, q15_cuba;
    int64_t threshold, reset_value, leak_shift, leak_q15, current_shift, refractory, v_min, v_init = 0, current_q15 = -1;
    const uint16_t *leaks, *currents;
    model = one_of(r, t_get(r, nv, "model"), N_MODEL);
    if (model < 0) return 0;
    if (!get_int(r, t_get(r, nv, "threshold"), 1, INT32_MAX_, PS_E_FORMAT_OUT_OF_RANGE, &threshold)) return 0;
    reset = one_of(r, t_get(r, nv, "reset"), N_RESET);
    if (reset < 0) return 0;
    if (!get_int(r, t_get(r, nv, "resetValue"), INT32_MIN_, INT32_MAX_, PS_E_FORMAT_OUT_OF_RANGE, &reset_value)) return 0;
    if (!get_int(r, t_get(r, nv, "leakShift"), 0, 31, PS_E_FORMAT_OUT_OF_RANGE, &leak_shift)) return 0;
    if (!get_int(r, t_get(r, nv, "leakQ15"), 0, 32767, PS_E_FORMAT_OUT_OF_RANGE, &leak_q15)) return 0;
    if (!get_int(r, t_get(r, nv, "currentShift"), 0, 31, PS_E_FORMAT_OUT_OF_RANGE, &current_shift)) return 0;
    if (!get_int(r, t_get(r, nv, "refractory"), 0, 255, PS_E_FORMAT_OUT_OF_RANGE, &refractory)) return 0;
    if (!get_int(r, t_get(r, nv, "vMin"), INT32_MIN_, INT32_MAX_, PS_E_FORMAT_OUT_OF_RANGE, &v_min)) return 0;
    /* version-2 keys (spec/ops.md §4.9), in format.ts's order */
    if (t_get(r, nv, "compare") != NONE && (compare = one_of(r, t_get(r, nv, "compare"), N_COMPARE)) < 0) return 0;
    if (t_get(r, nv, "resetDelay") != NONE && !get_bool(r, t_get(r, nv, "resetDelay"), &reset_delay)) return 0;
    if (t_get(r, nv, "multiSpike") != NONE && !get_bool(r, t_get(r, nv, "multiSpike"), &multi_spike)) return 0;
    if (t_get(r, nv, "vInit") != NONE && !get_int(r, t_get(r, nv, "vInit"), INT32_MIN_, INT32_MAX_, PS_E_FORMAT_OUT_OF_RANGE, &v_init)) return 0;
    if (t_get(r, nv, "synapse") != NONE && (synapse = one_of(r, t_get(r, nv, "synapse"), N_SYNAPSE)) < 0) return 0;
    if (t_get(r, nv, "currentQ15") != NONE && !get_int(r, t_get(r, nv, "currentQ15"), 0, 32767, PS_E_FORMAT_OUT_OF_RANGE, &current_q15)) return 0;
    if (!get_retentions(r, t_get(r, nv, "leakQ15s"), size, &leaks)) return 0;
    if (!get_retentions(r, t_get(r, nv, "currentQ15s"), size, &currents)) return 0;
    q15_cuba = model == PS_NEURON_CUBA && synapse == 1;
    if (synapse == 1 && model != PS_NEURON_CUBA) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (current_q15 >= 0 && !q15_cuba) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (t_get(r, nv, "currentQ15s") != NONE && (!q15_cuba || current_q15 >= 0)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (t_get(r, nv, "leakQ15s") != NONE && model != PS_NEURON_LIF_Q15 && !q15_cuba && model != PS_NEURON_INTEGRATOR) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (t_get(r, nv, "leakQ15s") != NONE && leak_q15 != 32767) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    /* unused parameters hold their neutral value */
    if (model != PS_NEURON_LIF_SHIFT && !(model == PS_NEURON_CUBA && !q15_cuba) && leak_shift != 0) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (model != PS_NEURON_LIF_Q15 && !q15_cuba && leak_q15 != 32767) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if ((model != PS_NEURON_CUBA || q15_cuba) && current_shift != 0) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (reset == PS_RESET_SUBTRACT && reset_value != 0) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (model == PS_NEURON_INTEGRATOR) {
        if (!is_last || reset != PS_RESET_SUBTRACT || refractory != 0) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (compare != 0 || reset_delay || multi_spike) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    } else {
        if (v_min >= threshold) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (reset == PS_RESET_VALUE && (reset_value < v_min || reset_value >= threshold)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (reset_delay && (reset != PS_RESET_SUBTRACT || refractory != 0)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (multi_spike && (reset != PS_RESET_SUBTRACT || reset_delay)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (v_init >= threshold) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    }
    out->compare_gt = (uint8_t)compare;
    out->reset_delay = (uint8_t)reset_delay;
    out->multi_spike = (uint8_t)multi_spike;
    out->synapse_q15 = (uint8_t)q15_cuba;
    out->current_q15 = (uint16_t)(current_q15 < 0 ? 0 : current_q15);
    out->v_init = (int32_t)v_init;
    out->leak_q15s = leaks;
    out->current_q15s = currents;
    out->rules = (uint8_t)(compare != 0 || reset_delay || multi_spike || q15_cuba || t_get(r, nv, "leakQ15s") != NONE);
    out->model = (uint8_t)model;
    out->reset = (uint8_t)reset;
    out->threshold = (int32_t)threshold;
    out->reset_value = (int32_t)reset_value;
    out->leak_shift = (uint8_t)leak_shift;
    out->leak_q15 = (uint16_t)leak_q15;
    out->current_shift = (uint8_t)current_shift;
    out->refractory = (uint8_t)refractory;
    out->v_min = (int32_t)v_min;
    return 1;
}

/* validatePlasticity(): after the layer's input connection and neuron are known. */
static int v_plasticity(rd_t *r, size_t pv, const ps_layer_t *layer, const wsrc_t *w, ps_plasticity_t *out)
{
    static const char *const names[8] = {"preTraceShift", "postTraceShift", "traceIncrement", "aPlus", "aMinus", "eligibilityShift", "learningShift", "baselineShift"};
    static const int32_t lo[8] = {1, 1, 1, 0, 0, 1, 0, 0};
    static const int32_t hi[8] = {15, 15, 32767, 32767, 32767, 15, 31, 15};
    int64_t v[8], w_min, w_max, wlo, whi;
    unsigned i;
    uint32_t k;
    int rule = one_of(r, t_get(r, pv, "rule"), N_RULE);
    int timing = PS_TIMING_STEP;
    int64_t triplet_shift = 0, a3_plus = 0, epoch_shift = PS_EPOCH_SHIFT_DEFAULT;
    if (rule < 0) return 0;
    if (layer->input.kind != PS_CONN_DENSE && layer->input.kind != PS_CONN_SPARSE) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (layer->neuron.model == PS_NEURON_INTEGRATOR) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    for (i = 0; i < 8u; i++)
        if (!get_int(r, t_get(r, pv, names[i]), lo[i], hi[i], PS_E_FORMAT_OUT_OF_RANGE, &v[i])) return 0;
    wlo = w->bits == 4u ? -8 : w->bits == 8u ? -128 : -32768;
    whi = w->bits == 4u ? 7 : w->bits == 8u ? 127 : 32767;
    if (!get_int(r, t_get(r, pv, "wMin"), wlo, whi, PS_E_FORMAT_OUT_OF_RANGE, &w_min)) return 0;
    if (!get_int(r, t_get(r, pv, "wMax"), wlo, whi, PS_E_FORMAT_OUT_OF_RANGE, &w_max)) return 0;
    if (w_min > w_max) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (t_get(r, pv, "timing") != NONE) {
        timing = one_of(r, t_get(r, pv, "timing"), N_TIMING);
        if (timing < 0) return 0;
        if (timing == PS_TIMING_EVENT && layer->input.kind != PS_CONN_DENSE) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (timing == PS_TIMING_EPOCH && layer->input.kind != PS_CONN_DENSE) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    }
    if (t_get(r, pv, "epochShift") != NONE) {
        /* spec/ops.md §11.7: epochShift belongs to epoch timing */
        if (timing != PS_TIMING_EPOCH) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (!get_int(r, t_get(r, pv, "epochShift"), 1, 8, PS_E_FORMAT_OUT_OF_RANGE, &epoch_shift)) return 0;
    }
    if (rule == PS_RULE_TRIPLET) {
        /* spec/ops.md §11.6: event timing only; both triplet keys required */
        if (timing != PS_TIMING_EVENT) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        if (t_get(r, pv, "tripletShift") == NONE || t_get(r, pv, "a3Plus") == NONE) return fail(r, PS_E_FORMAT_MISSING_FIELD);
        if (!get_int(r, t_get(r, pv, "tripletShift"), 1, 15, PS_E_FORMAT_OUT_OF_RANGE, &triplet_shift)) return 0;
        if (!get_int(r, t_get(r, pv, "a3Plus"), 0, 32767, PS_E_FORMAT_OUT_OF_RANGE, &a3_plus)) return 0;
    } else if (t_get(r, pv, "tripletShift") != NONE || t_get(r, pv, "a3Plus") != NONE) {
        return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    }
    for (k = 0; k < w->count; k++) { /* count = stored weights, validated */
        int32_t x = weight_at(r, w, k);
        if (x < w_min || x > w_max) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    }
    out->rule = (uint8_t)rule;
    out->timing = (uint8_t)timing;
    out->triplet_shift = (uint8_t)triplet_shift;
    out->epoch_shift = timing == PS_TIMING_EPOCH ? (uint8_t)epoch_shift : 0u;
    out->a3_plus = (int16_t)a3_plus;
    out->pre_trace_shift = (uint8_t)v[0];
    out->post_trace_shift = (uint8_t)v[1];
    out->trace_increment = (int16_t)v[2];
    out->a_plus = (int16_t)v[3];
    out->a_minus = (int16_t)v[4];
    out->eligibility_shift = (uint8_t)v[5];
    out->learning_shift = (uint8_t)v[6];
    out->baseline_shift = (uint8_t)v[7];
    out->w_min = (int16_t)w_min;
    out->w_max = (int16_t)w_max;
    return 1;
}

/* validateInput(). */
static int v_input(rd_t *r, size_t in, ps_input_t *out, pop_t *pop)
{
    int64_t size, seed;
    uint32_t product;
    size_t shape = t_get(r, in, "shape");
    int encoding;
    memset(out, 0, sizeof *out);
    if (!get_int(r, t_get(r, in, "size"), 1, (int64_t)PS_MAX_NEURONS, PS_E_FORMAT_LIMIT_EXCEEDED, &size)) return 0;
    if (shape != NONE) {
        if (!v_shape(r, shape, &out->shape, &product)) return 0;
        if (product != (uint32_t)size) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
        out->has_shape = 1;
    }
    encoding = one_of(r, t_get(r, in, "encoding"), N_ENCODING);
    if (encoding < 0) return 0;
    if (!get_int(r, t_get(r, in, "seed"), 0, 0xFFFFFFFFll, PS_E_FORMAT_OUT_OF_RANGE, &seed)) return 0;
    if (encoding == PS_ENCODING_RATE && seed == 0) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    out->size = (uint32_t)size;
    out->encoding = (uint8_t)encoding;
    out->seed = (uint32_t)seed;
    pop->size = out->size;
    pop->has_shape = out->has_shape;
    pop->shape = out->shape;
    return 1;
}

/* An array index key ("0", "1", ..., "4294967294"): JS lists such own keys first, in numeric order. */
static int index_key(const rd_t *r, size_t key)
{
    head_t h;
    size_t at = t_head(r, key, &h);
    uint64_t v = 0, i;
    if (h.arg == 0u || h.arg > 10u || (h.arg > 1u && r->p[at] == '0')) return 0;
    for (i = 0; i < h.arg; i++) {
        uint8_t c = r->p[at + i];
        if (c < '0' || c > '9') return 0;
        v = v * 10u + (uint64_t)(c - '0');
    }
    return v <= 4294967294ull;
}

/* validateProvenance(). Settings are visited in JS key order: index keys, then the rest. */
static int v_provenance(rd_t *r, size_t pv, uint32_t n_layers)
{
    size_t at, settings = t_get(r, pv, "settings"), scales = t_get(r, pv, "layerScales");
    uint32_t len;
    head_t h;
    uint64_t i;
    unsigned pass;
    if (!get_text(r, t_get(r, pv, "source"), 0, MAX_TEXT, &at, &len)) return 0;
    if (!get_text(r, t_get(r, pv, "tool"), 0, MAX_TEXT, &at, &len)) return 0;
    for (pass = 0; pass < 2u; pass++) {
        size_t key = t_head(r, settings, &h);
        uint64_t entries = h.arg;
        for (i = 0; i < entries; i++) {
            size_t value = t_skip(r, key);
            if ((index_key(r, key) != 0) == (pass == 0u)) {
                int64_t num;
                int neg, kind;
                head_t vh;
                if (!get_text(r, key, 1, 64, &at, &len)) return 0;
                t_head(r, value, &vh);
                kind = t_num(r, value, &num, &neg);
                if (kind == NUM_BIG_INTEGRAL) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
                if (kind == NUM_NONE && vh.major != 3u && !(vh.major == 7u && (vh.ai == 20u || vh.ai == 21u))) return fail(r, PS_E_FORMAT_BAD_TYPE);
            }
            key = t_skip(r, value);
        }
    }
    at = t_head(r, scales, &h);
    if (h.arg != n_layers) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
    for (i = 0; i < h.arg; i++) {
        int64_t num;
        int neg;
        int kind = t_num(r, at, &num, &neg);
        if (kind == NUM_NONE) return fail(r, PS_E_FORMAT_BAD_TYPE);
        if (neg || (kind == NUM_INT && num == 0) || kind == NUM_BIG_INTEGRAL) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
        at = t_skip(r, at);
    }
    return 1;
}

/* validateLayer part of validateTable(); `prev` becomes this layer's population. */
static int v_layer(rd_t *r, size_t l, int is_last, pop_t *prev, uint64_t *synapses, ps_layer_t *out)
{
    size_t at, v;
    uint32_t len, product;
    int64_t size;
    pop_t self;
    wsrc_t w, wrec;
    int plastic = t_get(r, l, "plasticity") != NONE;
    memset(out, 0, sizeof *out);
    memset(&w, 0, sizeof w);
    if (!get_text(r, t_get(r, l, "name"), 1, MAX_NAME, &at, &len)) return 0;
    out->name = r->p + at;
    out->name_len = len;
    if (!get_int(r, t_get(r, l, "size"), 1, (int64_t)PS_MAX_NEURONS, PS_E_FORMAT_LIMIT_EXCEEDED, &size)) return 0;
    out->size = (uint32_t)size;
    if ((v = t_get(r, l, "shape")) != NONE) {
        if (!v_shape(r, v, &out->shape, &product)) return 0;
        if (product != out->size) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
        out->has_shape = 1;
    }
    self.size = out->size;
    self.has_shape = out->has_shape;
    self.shape = out->shape;
    out->channels = pop_channels(&self);
    if (!v_neuron(r, t_get(r, l, "neuron"), is_last, out->size, &out->neuron)) return 0;
    if (!v_connection(r, t_get(r, l, "input"), prev, &self, synapses, plastic, &out->input, &w)) return 0;
    if ((v = t_get(r, l, "recurrent")) != NONE && !v_connection(r, v, &self, &self, synapses, 0, &out->recurrent, &wrec)) return 0;
    if ((v = t_get(r, l, "bias")) != NONE) {
        size_t payload;
        uint32_t n;
        if (!get_typed(r, v, 78u, &payload, &n)) return 0;
        if (n != out->size && n != out->channels) return fail(r, PS_E_FORMAT_SIZE_MISMATCH);
        out->bias = (const int32_t *)copy_array(r, payload, n, 4u);
        out->bias_len = n;
    }
    if (plastic) {
        if (!v_plasticity(r, t_get(r, l, "plasticity"), out, &w, &out->plasticity)) return 0;
        out->has_plasticity = 1;
    }
    /* spec/ops.md §4.9: a multi-spike layer's events are graded; recurrence and learning take spikes */
    if (out->neuron.multi_spike && (out->recurrent.kind != PS_CONN_NONE || plastic)) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (prev->multi && plastic) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    self.multi = out->neuron.multi_spike;
    *prev = self;
    return 1;
}

/* validateTable() and the build of the model (dry run or fill, see rd_t.fill). */
static int v_table(rd_t *r, ps_model_t *model)
{
    size_t layers = t_get(r, 0, "layers"), readout = t_get(r, 0, "readout"), prov = t_get(r, 0, "provenance"), at;
    head_t h;
    uint32_t i, n;
    uint64_t synapses = 0;
    pop_t prev;
    ps_layer_t layer;
    ps_layer_t *slots;
    int kind;
    if (!v_input(r, t_get(r, 0, "input"), &model->input, &prev)) return 0;
    prev.multi = 0;
    at = t_head(r, layers, &h);
    n = (uint32_t)h.arg;
    if (n < 1u) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (n > PS_MAX_LAYERS) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
    slots = (ps_layer_t *)arena_alloc(r, (size_t)n * sizeof(ps_layer_t), sizeof(void *) > sizeof(uint32_t) ? sizeof(void *) : sizeof(uint32_t));
    for (i = 0; i < n; i++) {
        if (!v_layer(r, at, i + 1u == n, &prev, &synapses, &layer)) return 0;
        if (slots != 0) slots[i] = layer;
        at = t_skip(r, at);
    }
    kind = one_of(r, t_get(r, readout, "kind"), N_READOUT);
    if (kind < 0) return 0;
    if (kind == PS_READOUT_COUNT && layer.neuron.model == PS_NEURON_INTEGRATOR) return fail(r, PS_E_FORMAT_OUT_OF_RANGE);
    if (!v_provenance(r, prov, n)) return 0;
    model->n_layers = n;
    model->layers = slots;
    model->readout = (uint8_t)kind;
    model->synapses = (uint32_t)synapses;
    return 1;
}

/* ---- envelope and entry point ------------------------------------------------------------------ */

/* openEnvelope(): on success r->p/r->n are the body and model->hash the stored hash. */
static int open_envelope(rd_t *r, ps_model_t *model)
{
    size_t v, hash_at, body_at;
    head_t h;
    int64_t num;
    int neg, kind;
    uint8_t digest[PS_SHA256_BYTES];
    if (r->n > PS_TABLE_MAX_FILE_BYTES) return fail(r, PS_E_FORMAT_LIMIT_EXCEEDED);
    if (!cbor_check(r, 1u)) return 0;
    v = t_get(r, 0, "format");
    if (!t_major(r, v, 3u) || !t_text_is(r, v, "picospike-event-table")) return fail(r, PS_E_FORMAT_NOT_EVENT_TABLE);
    v = t_get(r, 0, "version");
    if (v == NONE) return fail(r, PS_E_FORMAT_MISSING_FIELD);
    kind = t_num(r, v, &num, &neg);
    if (kind == NUM_NONE || kind == NUM_FRACTION) return fail(r, PS_E_FORMAT_BAD_TYPE);
    if (kind != NUM_INT || neg || num < PS_MODEL_MIN_FORMAT_VERSION || num > PS_MODEL_FORMAT_VERSION) return fail(r, PS_E_FORMAT_VERSION_UNSUPPORTED);
    r->version = (int)num;
    if (!fields(r, 0, K_ENVELOPE, 0)) return 0;
    hash_at = t_head(r, t_get(r, 0, "hash"), &h);
    if (h.major != 2u || h.arg != PS_SHA256_BYTES) return fail(r, PS_E_FORMAT_BAD_TYPE);
    body_at = t_head(r, t_get(r, 0, "body"), &h);
    if (h.major != 2u) return fail(r, PS_E_FORMAT_BAD_TYPE);
    ps_sha256(r->p + body_at, (size_t)h.arg, digest);
    if (memcmp(digest, r->p + hash_at, PS_SHA256_BYTES) != 0) return fail(r, PS_E_FORMAT_HASH_MISMATCH);
    memcpy(model->hash, digest, PS_SHA256_BYTES);
    r->p += body_at;
    r->n = (size_t)h.arg;
    return 1;
}

ps_status_t ps_table_read(const uint8_t *file, size_t len, uint8_t *arena, size_t arena_size, ps_model_t *model)
{
    rd_t r;
    size_t need;
    memset(model, 0, sizeof *model);
    memset(&r, 0, sizeof r);
    r.p = file;
    r.n = len;
    r.st = PS_OK;
    r.arena = arena;
    r.arena_size = arena_size;
    if (file == 0 && len > 0u) return PS_E_FORMAT_TRUNCATED;
    if (!open_envelope(&r, model)) return r.st;
    if (!cbor_check(&r, PS_TABLE_MAX_DEPTH) || !s_table(&r) || !v_table(&r, model)) return r.st;
    need = r.used;
    model->arena_used = need;
    if (need > arena_size || (arena == 0 && need > 0u)) return PS_E_DEVICE_OUT_OF_MEMORY;
    r.used = 0;
    r.fill = 1;
    if (!v_table(&r, model)) return r.st; /* cannot fail: the same checks passed above */
    model->arena_used = r.used;
    return PS_OK;
}
