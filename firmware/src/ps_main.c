/*
 * The picospike firmware's main loop: every board runs this over its port (ps_port.h). It feeds
 * received bytes to the protocol dispatcher (ps_device.c), lets real-time steps fall due, and
 * sleeps (ps_port_idle) when there is nothing to do. The host speaks first (spec/protocol.md §4).
 */
#include "ps_device.h"
#include "ps_port.h"

/* Bytes taken from the port per read: small, so a long burst does not delay real-time steps. */
#define PS_MAIN_READ_CHUNK 64u

int main(void)
{
    static uint8_t received[PS_MAIN_READ_CHUNK];
    ps_port_init();
    ps_device_init();
    while (ps_port_running()) {
        size_t count = ps_port_uart_read(received, sizeof received);
        if (count > 0u) {
            ps_device_receive(received, count);
        }
        ps_device_poll();
        if (count == 0u) {
            ps_port_idle();
        }
    }
    return 0;
}
