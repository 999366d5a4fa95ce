/*
 * The dispatcher session record format, read in one place by the two programs that replay it: the
 * libFuzzer harness firmware/fuzz/fuzz_device.c and the twin replayer firmware/test/twin_device.c
 * (whose output test/twin.test.ts compares with the TypeScript mock board's).
 *
 * Records, each starting with an op byte:
 *   op 0x00..0x7f  FRAME: seq_lo seq_hi len payload[len]: a frame of type `op`, protocol version 1.
 *   op 0xfd        VFRAME: version type seq_lo seq_hi len payload[len]: the same with any version.
 *   op 0xfe        TICK: n: the virtual clock advances (n + 1) x 250 us.
 *   op 0xff        RAW: len bytes[len]: fed to ps_device_receive as they are (damaged wire data).
 *   other ops      ignored (one byte).
 * A truncated record ends the session. ps_device_poll() runs after every record.
 *
 * Header-only (one static function) so each program keeps its own fake port and frame feeder.
 */
#ifndef PS_SESSION_RECORDS_H
#define PS_SESSION_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ps_device.h"
#include "ps_frame.h"

#define PS_RECORD_VFRAME 0xfdu
#define PS_RECORD_TICK 0xfeu
#define PS_RECORD_RAW 0xffu

/** Feeds one FRAME or VFRAME record to the device (the caller frames, COBS-encodes and checks it). */
typedef void (*ps_record_frame_fn)(uint8_t version, uint8_t type, uint16_t seq, const uint8_t *payload, size_t len);

/**
 * Replays the records of data[0..size) through the device: frames go to `frame`, TICK records
 * advance *clock_ns, RAW records go to ps_device_receive, and ps_device_poll() runs after each.
 * When `record` is not NULL it holds the index of the record being fed (from 0).
 */
static void ps_replay_records(const uint8_t *data, size_t size, uint64_t *clock_ns, ps_record_frame_fn frame, long *record)
{
    size_t at = 0u;
    long index;
    for (index = 0; at < size; index++) {
        uint8_t op = data[at++];
        if (record != NULL) {
            *record = index;
        }
        if (op < 0x80u || op == PS_RECORD_VFRAME) {
            uint8_t version = PS_PROTOCOL_VERSION;
            uint8_t type = op;
            uint16_t seq;
            size_t len;
            if (op == PS_RECORD_VFRAME) {
                if (size - at < 2u) {
                    break;
                }
                version = data[at];
                type = data[at + 1u];
                at += 2u;
            }
            if (size - at < 3u) {
                break;
            }
            seq = (uint16_t)(data[at] | (data[at + 1u] << 8));
            len = data[at + 2u];
            at += 3u;
            if (size - at < len) {
                break;
            }
            frame(version, type, seq, data + at, len);
            at += len;
        } else if (op == PS_RECORD_TICK) {
            if (at >= size) {
                break;
            }
            *clock_ns += ((uint64_t)data[at++] + 1u) * 250000u;
        } else if (op == PS_RECORD_RAW) {
            size_t len;
            if (at >= size) {
                break;
            }
            len = data[at++];
            if (size - at < len) {
                break;
            }
            ps_device_receive(data + at, len);
            at += len;
        }
        ps_device_poll();
    }
}

#endif
