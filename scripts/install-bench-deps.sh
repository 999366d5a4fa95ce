#!/usr/bin/env bash
# Installs the peer simulators of `npm run bench` (bench/peers/): Brian2 and PyTorch from Debian
# (python3-brian, python3-torch; python3-brian pulls in Cython for its default codegen target).
# The bench runs them with Debian's interpreter /usr/bin/python3 explicitly: a python3 earlier on
# PATH (pyenv, venv) does not see Debian's packages. Safe to run repeatedly. Without root or apt it
# only reports what is missing; the bench then lists those peers as missing instead of failing.
set -u
PY=/usr/bin/python3
pkgs=(python3-brian python3-torch)
modules=(brian2 torch)

importable() { [ -x "$PY" ] && "$PY" -c "import $1" >/dev/null 2>&1; }

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "bench peers: Debian packages missing: ${missing[*]}" >&2
    echo "  install them with: sudo apt-get install -y ${missing[*]}" >&2
    echo "  (without them, npm run bench reports these peers as missing)" >&2
    exit 1
  fi
  echo "bench peers: installing ${missing[*]} (large: PyTorch pulls in several hundred MB)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
    # package lists may be stale or absent on a fresh image
    apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null || {
      echo "bench peers: apt-get install ${missing[*]} failed" >&2
      exit 1
    }
  fi
fi
status=0
for m in "${modules[@]}"; do
  if importable "$m"; then
    echo "bench peers: $PY imports $m"
  else
    echo "bench peers: $PY cannot import $m (is $PY Debian's python3?)" >&2
    status=1
  fi
done
exit $status
