/* Frame encode/parse and sequence tracking, spec/protocol.md sections 1 and 2. */
#include "ps_frame.h"

#include "ps_crc16.h"

ps_status_t ps_frame_parse(const uint8_t *bytes, size_t len, size_t max_frame, ps_frame_t *out)
{
    size_t payload_len;
    uint16_t stored;
    if (len < PS_HEADER_SIZE + PS_CRC_SIZE || len > max_frame) {
        return PS_E_PROTOCOL_BAD_FRAME;
    }
    payload_len = (size_t)bytes[4] | ((size_t)bytes[5] << 8);
    if (payload_len != len - PS_HEADER_SIZE - PS_CRC_SIZE) {
        return PS_E_PROTOCOL_BAD_FRAME;
    }
    stored = (uint16_t)(bytes[len - 2u] | (bytes[len - 1u] << 8));
    if (stored != ps_crc16(bytes, len - PS_CRC_SIZE)) {
        return PS_E_PROTOCOL_BAD_CRC;
    }
    out->version = bytes[0];
    out->type = bytes[1];
    out->seq = (uint16_t)(bytes[2] | (bytes[3] << 8));
    out->len = (uint16_t)payload_len;
    out->payload = bytes + PS_HEADER_SIZE;
    return PS_OK;
}

ps_status_t ps_frame_encode(uint8_t version, uint8_t type, uint16_t seq, const uint8_t *payload, size_t payload_len,
                            size_t max_frame, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t header[PS_HEADER_SIZE];
    uint8_t crc_bytes[PS_CRC_SIZE];
    uint16_t crc;
    ps_cobs_enc_t enc;
    *out_len = 0u;
    if (payload_len + PS_HEADER_SIZE + PS_CRC_SIZE > max_frame || payload_len > PS_MAX_PAYLOAD) {
        return PS_E_PROTOCOL_BAD_PAYLOAD;
    }
    header[0] = version;
    header[1] = type;
    header[2] = (uint8_t)(seq & 0xFFu);
    header[3] = (uint8_t)(seq >> 8);
    header[4] = (uint8_t)(payload_len & 0xFFu);
    header[5] = (uint8_t)(payload_len >> 8);
    crc = ps_crc16_update(ps_crc16(header, PS_HEADER_SIZE), payload, payload_len);
    crc_bytes[0] = (uint8_t)(crc & 0xFFu);
    crc_bytes[1] = (uint8_t)(crc >> 8);
    ps_cobs_enc_init(&enc, out, cap);
    ps_cobs_enc_put(&enc, header, PS_HEADER_SIZE);
    ps_cobs_enc_put(&enc, payload, payload_len);
    ps_cobs_enc_put(&enc, crc_bytes, PS_CRC_SIZE);
    return ps_cobs_enc_finish(&enc, out_len);
}

uint16_t ps_seq_distance(uint16_t seq, uint16_t expected)
{
    return (uint16_t)(seq - expected);
}

void ps_seq_track_restart(ps_seq_track_t *t)
{
    t->started = 0u;
    t->expected = 0u;
}

int ps_seq_track_frame(ps_seq_track_t *t, uint16_t seq)
{
    uint16_t d;
    if (!t->started) {
        t->started = 1u;
        t->expected = (uint16_t)(seq + 1u);
        return 0;
    }
    d = ps_seq_distance(seq, t->expected);
    if (d == 0u) {
        t->expected = (uint16_t)(seq + 1u);
        return 0;
    }
    if (d < 0x8000u) {
        t->gaps += d;
        t->expected = (uint16_t)(seq + 1u);
        return 0;
    }
    t->late++;
    return 1;
}
