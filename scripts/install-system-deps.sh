#!/usr/bin/env bash
# Installs the Debian packages picospike's boards and fuzzers need, when missing.
# Safe to run repeatedly; says clearly what it could not do.
set -u
# qemu-system-misc: qemu-system-riscv32 (hifive1); gcc-riscv64-unknown-elf + picolibc: the FE310 build;
# openocd and stlink-tools: the real-board flash commands are parse-checked with them; cmake: the library test.
pkgs=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf gdb-multiarch clang libclang-rt-14-dev openocd stlink-tools cmake)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${pkgs[*]})"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages missing: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null
