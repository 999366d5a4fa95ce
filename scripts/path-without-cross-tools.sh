#!/usr/bin/env bash
# Prints a PATH (one folder of symlinks) holding every program of the current PATH except the Arm
# toolchain, QEMU, clang and gdb-multiarch: the machine the README promises works with only Node
# and gcc. CI runs the acceptance suite under it, so the cases that need those tools must skip.
#   PATH="$(bash scripts/path-without-cross-tools.sh)" npx vitest run test/acceptance
set -euo pipefail
dir="$(mktemp -d "${TMPDIR:-/tmp}/picospike-node-gcc-path.XXXXXX")"
IFS=: read -r -a folders <<< "$PATH"
for folder in "${folders[@]}"; do
  [ -d "$folder" ] || continue
  for program in "$folder"/*; do
    name="$(basename "$program")"
    case "$name" in
      arm-none-eabi-*|qemu-*|clang*|gdb-multiarch|riscv64-unknown-elf-*|openocd|st-flash) continue ;;
    esac
    [ -x "$program" ] && [ ! -d "$program" ] || continue
    [ -e "$dir/$name" ] || ln -s "$program" "$dir/$name"
  done
done
echo "$dir"
