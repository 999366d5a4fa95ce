/*
 * Frames (spec/protocol.md section 1): header {version u8, type u8, seq u16 LE, len u16 LE} +
 * payload + CRC-16/CCITT-FALSE over header+payload, stored little-endian; COBS-encoded and
 * 0x00-delimited on the wire.
 */
#ifndef PS_FRAME_H
#define PS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ps_cobs.h"
#include "ps_status_generated.h"

/** Protocol version this firmware speaks. */
#define PS_PROTOCOL_VERSION 1u
/** Lowest protocol version this firmware speaks. */
#define PS_PROTOCOL_MIN 1u
/** Bytes of the frame header. */
#define PS_HEADER_SIZE 6u
/** Bytes of the CRC. */
#define PS_CRC_SIZE 2u
/** Largest payload in a PS_MAX_FRAME frame (504). */
#define PS_MAX_PAYLOAD (PS_MAX_FRAME - PS_HEADER_SIZE - PS_CRC_SIZE)
/** Bytes a wire frame of payload length n takes at most, delimiter included. */
#define PS_WIRE_SIZE(n) (PS_COBS_MAX_ENCODED((n) + PS_HEADER_SIZE + PS_CRC_SIZE) + 1u)

/** A parsed, CRC-checked frame; payload points into the buffer that was parsed. */
typedef struct ps_frame {
    uint8_t version;
    uint8_t type;
    uint16_t seq;
    uint16_t len;
    const uint8_t *payload;
} ps_frame_t;

/**
 * Parses a decoded frame (COBS removed) of len bytes. PS_E_PROTOCOL_BAD_FRAME if the size is outside
 * 8..max_frame or the length field disagrees; PS_E_PROTOCOL_BAD_CRC if the checksum differs.
 */
ps_status_t ps_frame_parse(const uint8_t *bytes, size_t len, size_t max_frame, ps_frame_t *out);

/**
 * Writes the wire form of a frame (COBS + 0x00 delimiter) into out[0, cap), *out_len = bytes written.
 * PS_WIRE_SIZE(payload_len) bytes always suffice. PS_E_PROTOCOL_BAD_PAYLOAD if the frame would exceed
 * max_frame or out is too small.
 */
ps_status_t ps_frame_encode(uint8_t version, uint8_t type, uint16_t seq, const uint8_t *payload, size_t payload_len,
                            size_t max_frame, uint8_t *out, size_t cap, size_t *out_len);

/** (seq - expected) mod 2^16: 0 in order, 1..32767 frames lost, 32768.. a late frame (spec section 2). */
uint16_t ps_seq_distance(uint16_t seq, uint16_t expected);

/** Receive-side sequence bookkeeping of spec section 2. */
typedef struct ps_seq_track {
    uint16_t expected;
    uint8_t started; /* 0 until the first frame after reset/handshake */
    uint32_t gaps;
    uint32_t late;
} ps_seq_track_t;

/** Forgets the expected number (after a handshake); counters are kept. */
void ps_seq_track_restart(ps_seq_track_t *t);
/** Accounts one valid frame; returns 1 when it is late (behind the expected number), else 0. */
int ps_seq_track_frame(ps_seq_track_t *t, uint16_t seq);

#endif /* PS_FRAME_H */
