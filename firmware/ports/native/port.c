/*
 * native port: the firmware as a host process (gcc, POSIX). Its UART is a pseudo-terminal it
 * opens and announces on stdout as one line `port: /dev/pts/N`; a host opens that path like any
 * serial port. The cycle counter is CLOCK_MONOTONIC in nanoseconds (not deterministic: per-step
 * cost on this board is wall time).
 *
 * The process stops cleanly (ps_port_running() turns false) on SIGTERM, SIGINT, SIGHUP, and when
 * its stdin reaches end-of-file: the host that spawned it keeps a pipe open on stdin, so a host
 * that dies takes its board with it. PS_NATIVE_STDIN=ignore disables the stdin watch, for
 * running by hand with stdin redirected from /dev/null. On Linux the parent's death also sends
 * SIGTERM (PR_SET_PDEATHSIG). PS_NATIVE_DETACHED=1 (what `picospike flash --detach` sets) turns
 * both off: the board outlives the process that started it and stops on a signal only.
 */
#define _DEFAULT_SOURCE 1
#define _XOPEN_SOURCE 600

#include "ps_port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Milliseconds ps_port_idle() sleeps at most: the real-time mode's step clock resolution. */
#define IDLE_MS 1

static int pty_master = -1;
/* Our own handle on the slave side: it keeps the pty alive while no host holds it, so a host can
 * close and reopen the port (with no slave open, reads on the master fail with EIO). */
static int pty_slave = -1;
static int watch_stdin = 1;
static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int signum) {
  (void)signum;
  stop_requested = 1;
}

static void die(const char *what) {
  fprintf(stderr, "ps native: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void install_signals(int follow_parent) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
  if (follow_parent) prctl(PR_SET_PDEATHSIG, SIGTERM);
#else
  (void)follow_parent;
#endif
}

static void close_pty(void) {
  if (pty_slave >= 0) close(pty_slave);
  if (pty_master >= 0) close(pty_master);
  pty_slave = pty_master = -1;
}

void ps_port_init(void) {
  const char *slave_path;
  const char *stdin_mode = getenv("PS_NATIVE_STDIN");
  const char *detached_mode = getenv("PS_NATIVE_DETACHED");
  const int detached = detached_mode != NULL && strcmp(detached_mode, "1") == 0;
  struct termios raw;

  install_signals(!detached);
  watch_stdin = !detached && !(stdin_mode != NULL && strcmp(stdin_mode, "ignore") == 0);

  pty_master = posix_openpt(O_RDWR | O_NOCTTY);
  if (pty_master < 0) die("posix_openpt");
  if (grantpt(pty_master) != 0) die("grantpt");
  if (unlockpt(pty_master) != 0) die("unlockpt");
  slave_path = ptsname(pty_master);
  if (slave_path == NULL) die("ptsname");
  pty_slave = open(slave_path, O_RDWR | O_NOCTTY);
  if (pty_slave < 0) die("open pty slave");
  /* Raw bytes both ways: no echo, no line editing, no CR/LF mapping, no flow-control bytes. */
  if (tcgetattr(pty_slave, &raw) != 0) die("tcgetattr");
  cfmakeraw(&raw);
  if (tcsetattr(pty_slave, TCSANOW, &raw) != 0) die("tcsetattr");
  if (fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK) != 0) die("fcntl");
  atexit(close_pty);

  printf("port: %s\n", slave_path);
  fflush(stdout);
}

/* Reads and discards stdin; end-of-file (or an error) means the host has gone. */
static void check_stdin(short revents) {
  char scratch[256];
  ssize_t got;
  if (!watch_stdin || revents == 0) return;
  got = read(STDIN_FILENO, scratch, sizeof scratch);
  if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) stop_requested = 1;
}

bool ps_port_running(void) { return stop_requested == 0; }

void ps_port_uart_write(const uint8_t *data, size_t len) {
  size_t sent = 0;
  int stalls = 0;
  while (sent < len && !stop_requested) {
    ssize_t wrote = write(pty_master, data + sent, len - sent);
    if (wrote > 0) {
      sent += (size_t)wrote;
      stalls = 0;
      continue;
    }
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0 && errno == EAGAIN && stalls < 1000) {
      /* The host is slow to read: wait for room, at most about a second in all. */
      struct pollfd room;
      room.fd = pty_master;
      room.events = POLLOUT;
      room.revents = 0;
      (void)poll(&room, 1, 1);
      ++stalls;
      continue;
    }
    return; /* nobody is reading: the rest is lost, as on a UART with no cable */
  }
}

size_t ps_port_uart_read(uint8_t *buf, size_t cap) {
  ssize_t got;
  if (cap == 0u) return 0u;
  do {
    got = read(pty_master, buf, cap);
  } while (got < 0 && errno == EINTR);
  return got > 0 ? (size_t)got : 0u;
}

uint32_t ps_port_cycles(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}

uint32_t ps_port_cycles_align(void) { return ps_port_cycles(); }

uint32_t ps_port_cycles_hz(void) { return 1000000000u; }

const char *ps_port_board_name(void) { return "native"; }

void ps_port_idle(void) {
  struct pollfd watched[2];
  nfds_t count = 1;
  watched[0].fd = pty_master;
  watched[0].events = POLLIN;
  watched[0].revents = 0;
  if (watch_stdin) {
    watched[1].fd = STDIN_FILENO;
    watched[1].events = POLLIN;
    watched[1].revents = 0;
    count = 2;
  }
  if (poll(watched, count, IDLE_MS) > 0 && count == 2) check_stdin(watched[1].revents);
}
