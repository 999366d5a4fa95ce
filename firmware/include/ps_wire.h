/*
 * Byte-level primitives of the protocol codecs (spec/protocol.md section 3.1): a bounded
 * little-endian writer with a sticky first error, a reader with a sticky error, LEB128 varints, and
 * the two shared encodings (delta-coded index lists as event lists and spike sections) with their
 * zero-copy iterators. Hand-written; the per-message structs and codecs (ps_proto.h, ps_proto.c)
 * are generated from firmware-host/wire/schema.ts and call these. No allocation, no recursion,
 * every loop bounded by the payload length or a count checked against it.
 */
#ifndef PS_WIRE_H
#define PS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ps_frame.h"
#include "ps_status_generated.h"

/** Event-list flag: a value byte follows for every event. */
#define PS_EVENTS_VALUES 0x01u
/** Bytes of the section count that starts spike sections. */
#define PS_SECTION_COUNT_SIZE 1u

/* ---- byte writer / reader ----------------------------------------------------------------- */

/** Appends little-endian fields to a bounded buffer; overflow is sticky and reported by ps_writer_status. */
typedef struct ps_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    ps_status_t status;
} ps_writer_t;

void ps_writer_init(ps_writer_t *w, uint8_t *buf, size_t cap);
void ps_put_u8(ps_writer_t *w, uint8_t v);
void ps_put_u16(ps_writer_t *w, uint16_t v);
void ps_put_u32(ps_writer_t *w, uint32_t v);
/** Unsigned LEB128, 1..5 bytes. */
void ps_put_varint(ps_writer_t *w, uint32_t v);
void ps_put_bytes(ps_writer_t *w, const uint8_t *data, size_t len);
/** Writes count then the indices delta-coded (spec 3.1); PS_E_SEMANTICS_BAD_INPUT unless strictly ascending. */
void ps_put_indices(ps_writer_t *w, const uint32_t *indices, uint32_t count);
/** PS_OK, or the first error (PS_E_PROTOCOL_BAD_PAYLOAD when the buffer was too small). */
ps_status_t ps_writer_status(const ps_writer_t *w);
/** Records st unless an error is already recorded (the first error is kept). */
void ps_writer_fail(ps_writer_t *w, ps_status_t st);
/** Bytes of the LEB128 form of v. */
size_t ps_varint_size(uint32_t v);


/** Reads little-endian fields of one payload; any failure is sticky (later reads yield zeros). */
typedef struct ps_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    ps_status_t status;
} ps_reader_t;

void ps_reader_init(ps_reader_t *r, const uint8_t *payload, size_t len);
/** Marks the payload bad (PS_E_PROTOCOL_BAD_PAYLOAD). */
void ps_reader_fail(ps_reader_t *r);
size_t ps_reader_remaining(const ps_reader_t *r);
uint8_t ps_get_u8(ps_reader_t *r);
uint16_t ps_get_u16(ps_reader_t *r);
uint32_t ps_get_u32(ps_reader_t *r);
/** Canonical LEB128 of at most 32 bits. */
uint32_t ps_get_varint(ps_reader_t *r);
/** n bytes in place (a pointer into the payload). */
const uint8_t *ps_get_bytes(ps_reader_t *r, size_t n);
/** 1 when s[0, n) is printable ASCII (0x20..0x7E). */
int ps_printable(const char *s, size_t n);

/* ---- shared encodings --------------------------------------------------------------------- */

/**
 * A strictly ascending index list. To encode, set count and indices. A decoded list has count and
 * coded/coded_len (the validated varints); read it with ps_index_iter_*.
 */
typedef struct ps_index_list {
    uint32_t count;
    const uint32_t *indices;
    const uint8_t *coded;
    size_t coded_len;
} ps_index_list_t;

/** Iterator over a decoded index list. */
typedef struct ps_index_iter {
    const uint8_t *p;
    const uint8_t *end;
    uint32_t remaining;
    uint32_t prev;
    uint8_t started;
} ps_index_iter_t;

void ps_index_iter_init(ps_index_iter_t *it, const ps_index_list_t *list);
/** Stores the next index in *index and returns 1; returns 0 at the end. */
int ps_index_iter_next(ps_index_iter_t *it, uint32_t *index);

/** Input events of one step: indices, and a value 1..255 per event (values NULL: all 1). */
typedef struct ps_events {
    ps_index_list_t list;
    const uint8_t *values;
} ps_events_t;

/** Spikes of one layer. */
typedef struct ps_section {
    uint8_t layer;
    ps_index_list_t spikes;
} ps_section_t;

/** Spike sections: to encode set count and items; decoded ones have coded/coded_len, read with ps_section_iter_*. */
typedef struct ps_sections {
    uint8_t count;
    const ps_section_t *items;
    const uint8_t *coded;
    size_t coded_len;
} ps_sections_t;

/** Iterator over decoded sections. */
typedef struct ps_section_iter {
    const uint8_t *p;
    const uint8_t *end;
    uint8_t remaining;
} ps_section_iter_t;

void ps_section_iter_init(ps_section_iter_t *it, const ps_sections_t *sections);
/** Fills *out (its spikes are a decoded index list) and returns 1; returns 0 at the end. */
int ps_section_iter_next(ps_section_iter_t *it, ps_section_t *out);


/** Reads and validates an event list (points into the payload). */
void ps_get_events(ps_reader_t *r, ps_events_t *ev);
/** Reads and validates spike sections (points into the payload). */
void ps_get_sections(ps_reader_t *r, ps_sections_t *s);
/** Writes an event list; PS_E_SEMANTICS_BAD_INPUT for unsorted indices or a value 0. */
void ps_put_events(ps_writer_t *w, const ps_events_t *ev);
/** Writes spike sections; PS_E_PROTOCOL_BAD_PAYLOAD unless layers are strictly ascending. */
void ps_put_sections(ps_writer_t *w, const ps_sections_t *s);

#endif /* PS_WIRE_H */
