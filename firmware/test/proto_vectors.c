/*
 * Cross-language vector tool (used by firmware-host/wire/protocol-c.test.ts). Reads a byte stream of
 * COBS frames on stdin and prints one line per chunk the C decoder reports:
 *   ok <hex>        the frame parsed and its payload decoded; <hex> is the wire form the C side
 *                   re-encodes from the decoded fields (must equal what TS sends)
 *   err <num>       the frame or payload was rejected with status <num>
 *   oversize | malformed
 * The first line is "crc <hex>", the CRC of ASCII "123456789".
 */
#include <stdio.h>
#include <string.h>

#include "ps_cobs.h"
#include "ps_crc16.h"
#include "ps_frame.h"
#include "ps_proto.h"
#include "proto_roundtrip.h"

static void print_hex(const uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        printf("%02x", b[i]);
    }
}

static void handle_frame(const uint8_t *bytes, size_t len)
{
    ps_frame_t f;
    ps_msg_t m;
    uint8_t payload[PS_MAX_PAYLOAD];
    uint8_t wire[PS_WIRE_SIZE(PS_MAX_PAYLOAD)];
    size_t payload_len = 0, wire_len = 0;
    ps_status_t st = ps_frame_parse(bytes, len, PS_MAX_FRAME, &f);
    if (st == PS_OK) {
        st = ps_msg_decode(f.type, f.payload, f.len, &m);
    }
    if (st == PS_OK) {
        rt_make_encodable(&m);
        st = ps_msg_encode(&m, payload, sizeof payload, &payload_len);
    }
    if (st == PS_OK) {
        st = ps_frame_encode(f.version, f.type, f.seq, payload, payload_len, PS_MAX_FRAME, wire, sizeof wire, &wire_len);
    }
    if (st != PS_OK) {
        printf("err %d\n", (int)st);
        return;
    }
    printf("ok ");
    print_hex(wire, wire_len);
    printf("\n");
}

int main(void)
{
    static uint8_t buf[PS_MAX_ENCODED];
    ps_cobs_dec_t dec;
    int c;
    const char *check = "123456789";
    printf("crc %04x\n", ps_crc16((const uint8_t *)check, strlen(check)));
    ps_cobs_dec_init(&dec, buf, sizeof buf);
    while ((c = getchar()) != EOF) {
        const uint8_t *frame = NULL;
        size_t frame_len = 0;
        switch (ps_cobs_dec_push(&dec, (uint8_t)c, &frame, &frame_len)) {
        case PS_COBS_FRAME:
            handle_frame(frame, frame_len);
            break;
        case PS_COBS_OVERSIZE:
            printf("oversize\n");
            break;
        case PS_COBS_MALFORMED:
            printf("malformed\n");
            break;
        case PS_COBS_NONE:
            break;
        }
    }
    return 0;
}
