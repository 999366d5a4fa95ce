/*
 * Text over the port's UART for the programs that run on a board and print their findings: the
 * device benches (bench/device/) and the on-target bit-exactness tests (firmware/test/). Plain
 * decimal, no printf (the benches measure code size and instructions, and newlib's printf would
 * dwarf both). Each function is `static` and marked unused so a program that calls only some of
 * them compiles warning-free, and its code is what the program's own copies were.
 */
#ifndef PS_PORT_TEXT_H
#define PS_PORT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "ps_port.h"

/** Writes a NUL-terminated string. */
static __attribute__((unused)) void put_text(const char *text)
{
    size_t len = 0u;
    while (text[len] != '\0') {
        len++;
    }
    ps_port_uart_write((const uint8_t *)text, len);
}

/** Writes `value` in decimal. */
static __attribute__((unused)) void put_u32(uint32_t value)
{
    uint8_t digits[10];
    uint8_t out[10];
    size_t count = 0u;
    do {
        digits[count++] = (uint8_t)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    for (size_t i = 0u; i < count; i++) {
        out[i] = digits[count - 1u - i];
    }
    ps_port_uart_write(out, count);
}

/** Writes `value` in decimal, with a leading '-' when negative (INT32_MIN included). */
static __attribute__((unused)) void put_i32(int32_t value)
{
    uint8_t digits[11];
    uint8_t out[12];
    size_t count = 0u;
    size_t n = 0u;
    uint32_t u = value < 0 ? (uint32_t)(-(value + 1)) + 1u : (uint32_t)value;
    do {
        digits[count++] = (uint8_t)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u);
    if (value < 0) {
        out[n++] = '-';
    }
    for (size_t i = 0u; i < count; i++) {
        out[n++] = digits[count - 1u - i];
    }
    ps_port_uart_write(out, n);
}

#endif /* PS_PORT_TEXT_H */
