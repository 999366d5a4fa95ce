/*
 * CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0; check value 0x29B1 for
 * ASCII "123456789". The frame checksum of spec/protocol.md section 1.1.
 */
#ifndef PS_CRC16_H
#define PS_CRC16_H

#include <stddef.h>
#include <stdint.h>

/** Initial register value. */
#define PS_CRC16_INIT 0xFFFFu
/** CRC of ASCII "123456789" (the catalogue check value). */
#define PS_CRC16_CHECK 0x29B1u

/** Continues a CRC over data[0, len) from register crc (PS_CRC16_INIT to start); the result is also the final CRC. */
uint16_t ps_crc16_update(uint16_t crc, const uint8_t *data, size_t len);

/** CRC-16/CCITT-FALSE of data[0, len). */
uint16_t ps_crc16(const uint8_t *data, size_t len);

#endif /* PS_CRC16_H */
