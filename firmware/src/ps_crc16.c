/* CRC-16/CCITT-FALSE, nibble-table form: 32 bytes of table, two lookups per byte (small for Cortex-M0). */
#include "ps_crc16.h"

/* Remainder of each 4-bit value shifted to the top of the register, for poly 0x1021. */
static const uint16_t ps_crc16_nibble[16] = {
    0x0000u, 0x1021u, 0x2042u, 0x3063u, 0x4084u, 0x50A5u, 0x60C6u, 0x70E7u,
    0x8108u, 0x9129u, 0xA14Au, 0xB16Bu, 0xC18Cu, 0xD1ADu, 0xE1CEu, 0xF1EFu,
};

uint16_t ps_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    size_t i;
    uint16_t r = crc;
    for (i = 0; i < len; i++) {
        r = (uint16_t)((uint16_t)(r << 4) ^ ps_crc16_nibble[((r >> 12) ^ (data[i] >> 4)) & 0x0Fu]);
        r = (uint16_t)((uint16_t)(r << 4) ^ ps_crc16_nibble[((r >> 12) ^ (data[i] & 0x0Fu)) & 0x0Fu]);
    }
    return r;
}

uint16_t ps_crc16(const uint8_t *data, size_t len)
{
    return ps_crc16_update((uint16_t)PS_CRC16_INIT, data, len);
}
