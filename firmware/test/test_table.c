/*
 * Unit tests of the C event-table reader and SHA-256 (run by test/c-table-reader.test.ts; the
 * cross-check against the TS reader lives there). Prints one line per failure and a closing
 * "N passed, N failed" line; exits nonzero on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "ps_sha256.h"
#include "ps_table.h"

static int passed, failed;

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (cond) passed++;                                              \
        else {                                                           \
            failed++;                                                    \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                \
    } while (0)

/* The golden table of runtime/format.test.ts: one dense int8 layer, 426 bytes. */
static const uint8_t golden[] = {
    0xa4, 0x64, 0x62, 0x6f, 0x64, 0x79, 0x59, 0x01, 0x54, 0xa4, 0x65, 0x69, 0x6e, 0x70, 0x75, 0x74,
    0xa3, 0x64, 0x73, 0x65, 0x65, 0x64, 0x00, 0x64, 0x73, 0x69, 0x7a, 0x65, 0x02, 0x68, 0x65, 0x6e,
    0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67, 0x66, 0x73, 0x70, 0x69, 0x6b, 0x65, 0x73, 0x66, 0x6c, 0x61,
    0x79, 0x65, 0x72, 0x73, 0x81, 0xa4, 0x64, 0x6e, 0x61, 0x6d, 0x65, 0x63, 0x6f, 0x75, 0x74, 0x64,
    0x73, 0x69, 0x7a, 0x65, 0x02, 0x65, 0x69, 0x6e, 0x70, 0x75, 0x74, 0xa4, 0x64, 0x6b, 0x69, 0x6e,
    0x64, 0x65, 0x64, 0x65, 0x6e, 0x73, 0x65, 0x66, 0x69, 0x6e, 0x70, 0x75, 0x74, 0x73, 0x02, 0x67,
    0x6f, 0x75, 0x74, 0x70, 0x75, 0x74, 0x73, 0x02, 0x67, 0x77, 0x65, 0x69, 0x67, 0x68, 0x74, 0x73,
    0xa4, 0x64, 0x62, 0x69, 0x74, 0x73, 0x08, 0x64, 0x64, 0x61, 0x74, 0x61, 0xd8, 0x48, 0x44, 0x01,
    0xfe, 0x03, 0xfc, 0x65, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x04, 0x65, 0x73, 0x68, 0x69, 0x66, 0x74,
    0xd8, 0x40, 0x41, 0x01, 0x66, 0x6e, 0x65, 0x75, 0x72, 0x6f, 0x6e, 0xa9, 0x64, 0x76, 0x4d, 0x69,
    0x6e, 0x3a, 0x7f, 0xff, 0xff, 0xff, 0x65, 0x6d, 0x6f, 0x64, 0x65, 0x6c, 0x62, 0x69, 0x66, 0x65,
    0x72, 0x65, 0x73, 0x65, 0x74, 0x68, 0x73, 0x75, 0x62, 0x74, 0x72, 0x61, 0x63, 0x74, 0x67, 0x6c,
    0x65, 0x61, 0x6b, 0x51, 0x31, 0x35, 0x19, 0x7f, 0xff, 0x69, 0x6c, 0x65, 0x61, 0x6b, 0x53, 0x68,
    0x69, 0x66, 0x74, 0x00, 0x69, 0x74, 0x68, 0x72, 0x65, 0x73, 0x68, 0x6f, 0x6c, 0x64, 0x10, 0x6a,
    0x72, 0x65, 0x66, 0x72, 0x61, 0x63, 0x74, 0x6f, 0x72, 0x79, 0x00, 0x6a, 0x72, 0x65, 0x73, 0x65,
    0x74, 0x56, 0x61, 0x6c, 0x75, 0x65, 0x00, 0x6c, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x53,
    0x68, 0x69, 0x66, 0x74, 0x00, 0x67, 0x72, 0x65, 0x61, 0x64, 0x6f, 0x75, 0x74, 0xa1, 0x64, 0x6b,
    0x69, 0x6e, 0x64, 0x65, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x6a, 0x70, 0x72, 0x6f, 0x76, 0x65, 0x6e,
    0x61, 0x6e, 0x63, 0x65, 0xa4, 0x64, 0x74, 0x6f, 0x6f, 0x6c, 0x64, 0x74, 0x65, 0x73, 0x74, 0x66,
    0x73, 0x6f, 0x75, 0x72, 0x63, 0x65, 0x66, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e, 0x68, 0x73, 0x65,
    0x74, 0x74, 0x69, 0x6e, 0x67, 0x73, 0xa1, 0x64, 0x62, 0x69, 0x74, 0x73, 0x08, 0x6b, 0x6c, 0x61,
    0x79, 0x65, 0x72, 0x53, 0x63, 0x61, 0x6c, 0x65, 0x73, 0x81, 0xf9, 0x38, 0x00, 0x64, 0x68, 0x61,
    0x73, 0x68, 0x58, 0x20, 0x27, 0x9f, 0xfd, 0xd4, 0xdc, 0x25, 0x1a, 0x95, 0x08, 0xdb, 0x2a, 0x74,
    0xdb, 0x95, 0xd8, 0xcd, 0x2c, 0x53, 0x82, 0x5b, 0x6e, 0x4e, 0x18, 0xbd, 0xe4, 0xea, 0x32, 0x0b,
    0x02, 0xb5, 0x69, 0x67, 0x66, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74, 0x75, 0x70, 0x69, 0x63, 0x6f,
    0x73, 0x70, 0x69, 0x6b, 0x65, 0x2d, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x2d, 0x74, 0x61, 0x62, 0x6c,
    0x65, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x01,
};

static const char golden_hash[] = "279ffdd4dc251a9508db2a74db95d8cd2c53825b6e4e18bde4ea320b02b56967";

static int hex_is(const uint8_t *bytes, size_t n, const char *hex)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    if (strlen(hex) != 2u * n) return 0;
    for (i = 0; i < n; i++)
        if (hex[2u * i] != digits[bytes[i] >> 4] || hex[2u * i + 1u] != digits[bytes[i] & 15u]) return 0;
    return 1;
}

static void test_sha256(void)
{
    static const char *const msgs[3] = {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
    static const char *const want[3] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    };
    uint8_t out[PS_SHA256_BYTES], again[PS_SHA256_BYTES];
    unsigned i;
    size_t at, step;
    ps_sha256_t s;
    for (i = 0; i < 3u; i++) {
        ps_sha256((const uint8_t *)msgs[i], strlen(msgs[i]), out);
        CHECK(hex_is(out, sizeof out, want[i]));
    }
    /* incremental updates in uneven pieces give the one-shot digest */
    ps_sha256(golden, sizeof golden, out);
    for (step = 1; step < 130u; step += 7u) {
        ps_sha256_init(&s);
        for (at = 0; at < sizeof golden; at += step) ps_sha256_update(&s, golden + at, sizeof golden - at < step ? sizeof golden - at : step);
        ps_sha256_final(&s, again);
        CHECK(memcmp(out, again, sizeof out) == 0);
    }
}

static uint8_t arena[4096];

static void test_golden(void)
{
    ps_model_t m;
    const ps_layer_t *l;
    ps_status_t st = ps_table_read(golden, sizeof golden, arena, sizeof arena, &m);
    CHECK(st == PS_OK);
    if (st != PS_OK) return;
    CHECK(hex_is(m.hash, sizeof m.hash, golden_hash));
    CHECK(m.input.size == 2u && !m.input.has_shape && m.input.encoding == PS_ENCODING_SPIKES && m.input.seed == 0u);
    CHECK(m.n_layers == 1u && m.readout == PS_READOUT_COUNT && m.synapses == 4u);
    l = &m.layers[0];
    CHECK(l->name_len == 3u && memcmp(l->name, "out", 3) == 0);
    CHECK(l->size == 2u && l->channels == 2u && !l->has_shape && l->bias == NULL && !l->has_plasticity);
    CHECK(l->neuron.model == PS_NEURON_IF && l->neuron.reset == PS_RESET_SUBTRACT && l->neuron.threshold == 16);
    CHECK(l->neuron.leak_q15 == 32767u && l->neuron.v_min == (-2147483647L - 1L) && l->neuron.refractory == 0u);
    CHECK(l->input.kind == PS_CONN_DENSE && l->input.inputs == 2u && l->input.outputs == 2u && l->input.synapses == 4u);
    CHECK(l->input.weights.bits == 8u && l->input.weights.count == 4u && l->input.weights.writable == NULL);
    CHECK(l->input.weights.i8 != NULL && l->input.weights.i8[0] == 1 && l->input.weights.i8[1] == -2 && l->input.weights.i8[3] == -4);
    /* int8 weights and shifts are views into the file, not copies */
    CHECK((const uint8_t *)(const void *)l->input.weights.i8 > golden && (const uint8_t *)(const void *)l->input.weights.i8 < golden + sizeof golden);
    CHECK(l->input.weights.shift_len == 1u && l->input.weights.shift[0] == 1u);
    CHECK(l->recurrent.kind == PS_CONN_NONE);
    CHECK(m.arena_used >= sizeof(ps_layer_t) && m.arena_used < sizeof arena);
}

static void test_errors(void)
{
    static uint8_t buf[sizeof golden + 1];
    static uint8_t bomb[10001];
    ps_model_t m;
    size_t n;
    int all_truncated = 1;
    for (n = 0; n < sizeof golden; n++)
        if (ps_table_read(golden, n, arena, sizeof arena, &m) != PS_E_FORMAT_TRUNCATED) all_truncated = 0;
    CHECK(all_truncated);
    memcpy(buf, golden, sizeof golden);
    buf[200] ^= 1u; /* inside the body: the stored hash no longer matches */
    CHECK(ps_table_read(buf, sizeof golden, arena, sizeof arena, &m) == PS_E_FORMAT_HASH_MISMATCH);
    memcpy(buf, golden, sizeof golden);
    buf[sizeof golden] = 0; /* trailing byte */
    CHECK(ps_table_read(buf, sizeof golden + 1u, arena, sizeof arena, &m) == PS_E_FORMAT_MALFORMED_CBOR);
    memcpy(buf, golden, sizeof golden);
    buf[sizeof golden - 1u] = 3; /* version 3: newer than this build */
    CHECK(ps_table_read(buf, sizeof golden, arena, sizeof arena, &m) == PS_E_FORMAT_VERSION_UNSUPPORTED);
    buf[sizeof golden - 1u] = 0; /* version 0 */
    CHECK(ps_table_read(buf, sizeof golden, arena, sizeof arena, &m) == PS_E_FORMAT_VERSION_UNSUPPORTED);
    buf[sizeof golden - 1u] = (uint8_t)(golden[sizeof golden - 1u] == 1u ? 2u : 1u); /* the other readable version */
    CHECK(ps_table_read(buf, sizeof golden, arena, sizeof arena, &m) == PS_OK);
    memset(bomb, 0x81, sizeof bomb - 1u); /* [[[[...0...]]]]: 10000 levels, walked without recursion */
    bomb[sizeof bomb - 1u] = 0;
    CHECK(ps_table_read(bomb, sizeof bomb, arena, sizeof arena, &m) == PS_E_FORMAT_LIMIT_EXCEEDED);
    CHECK(ps_table_read(NULL, 0, arena, sizeof arena, &m) == PS_E_FORMAT_TRUNCATED);
}

static void test_arena(void)
{
    ps_model_t m;
    size_t need, base;
    CHECK(ps_table_read(golden, sizeof golden, arena, sizeof arena, &m) == PS_OK);
    need = m.arena_used;
    /* from an odd base the layer array needs padding: the need is measured from the real address */
    for (base = 1; base < 8u; base++) {
        CHECK(ps_table_read(golden, sizeof golden, arena + base, 0, &m) == PS_E_DEVICE_OUT_OF_MEMORY);
        need = m.arena_used;
        CHECK(need > 0u);
        CHECK(ps_table_read(golden, sizeof golden, arena + base, need - 1u, &m) == PS_E_DEVICE_OUT_OF_MEMORY);
        CHECK(ps_table_read(golden, sizeof golden, arena + base, need, &m) == PS_OK && m.arena_used == need);
        CHECK(((size_t)(const void *)m.layers % sizeof(uint32_t)) == 0u);
    }
    /* validation errors come before the arena is looked at */
    CHECK(ps_table_read(golden, 10, arena, 0, &m) == PS_E_FORMAT_TRUNCATED);
}

int main(void)
{
    test_sha256();
    test_golden();
    test_errors();
    test_arena();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
