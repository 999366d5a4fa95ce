/*
 * Event-table reader for models uploaded at run time (spec/table-format.md): checks a `.cbor` file
 * exactly as runtime/format.ts decodeTable does, with the same error codes in the same order, and
 * fills a ps_model_t (ps_model.h) the kernels can trust.
 *
 * Bounded: no malloc, no recursion (CBOR nesting is walked with a fixed stack of
 * PS_TABLE_MAX_DEPTH frames), every loop bounded by sizes already checked against the input
 * length and the format limits. Nothing is allocated until the whole table has been validated;
 * then aligned copies of int16/int32/uint32 arrays (and the weights of plastic layers) and the
 * layer array go into the caller's arena. int8/uint8 arrays and layer names point into `file`.
 */
#ifndef PS_TABLE_H
#define PS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "ps_model.h"
#include "ps_status_generated.h"

/** Deepest nesting of arrays and maps in a table body (spec section 5). */
#define PS_TABLE_MAX_DEPTH 8u
/** Largest file the reader accepts (64 MiB). */
#define PS_TABLE_MAX_FILE_BYTES (64ul * 1024ul * 1024ul)

/**
 * Reads and validates the event table in `file[0..len)` into `model`, using `arena[0..arena_size)`
 * for the arrays that need alignment and for the layer structs.
 *
 * Returns PS_OK, or the FIRST error found, with the same code the TypeScript reader gives for the
 * same bytes (FORMAT_*, SEMANTICS_SHAPE_MISMATCH), or PS_E_DEVICE_OUT_OF_MEMORY when a valid table
 * does not fit the arena (`model->arena_used` then holds the bytes it would need). On error the
 * model must not be used. On success `file` and `arena` must outlive `model`.
 */
ps_status_t ps_table_read(const uint8_t *file, size_t len, uint8_t *arena, size_t arena_size, ps_model_t *model);

#endif /* PS_TABLE_H */
