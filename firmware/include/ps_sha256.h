/*
 * SHA-256 (FIPS 180-4), incremental, for checking the content hash of event tables
 * (spec/table-format.md section 1). Small rather than fast: one 64-entry constant table and a
 * 64-word schedule on the stack; no allocation, no recursion.
 */
#ifndef PS_SHA256_H
#define PS_SHA256_H

#include <stddef.h>
#include <stdint.h>

/** Bytes in a SHA-256 digest. */
#define PS_SHA256_BYTES 32u

/** Running state of one hash computation. */
typedef struct ps_sha256 {
    uint32_t h[8];       /* chaining value */
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];   /* pending partial block */
    uint32_t fill;       /* bytes in block, 0..63 */
} ps_sha256_t;

/** Starts a new hash. */
void ps_sha256_init(ps_sha256_t *s);
/** Feeds `len` bytes. */
void ps_sha256_update(ps_sha256_t *s, const uint8_t *data, size_t len);
/** Pads, writes the 32-byte digest to `out`. The state must be re-initialised before reuse. */
void ps_sha256_final(ps_sha256_t *s, uint8_t out[PS_SHA256_BYTES]);
/** One-shot digest of `len` bytes. */
void ps_sha256(const uint8_t *data, size_t len, uint8_t out[PS_SHA256_BYTES]);

#endif /* PS_SHA256_H */
