#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine with Python 3.11:
# Debian packages, the virtual environment, the project, the SC font face.
# A second run on a set-up machine only checks and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"

APT_PACKAGES=(
  # X and the GL/SDL libraries Kivy's wheel needs under Xvfb
  xvfb xauth x11-utils xclip xsel libgl1 libgl1-mesa-dri libegl1 libgles2 libmtdev1 libsdl2-2.0-0
  # PC/SC: the daemon, the virtual reader driver, what pyscard builds against
  pcscd libpcsclite-dev swig pcsc-tools vsmartcard-vpcd
  # fonts, browser, voice, database
  fonts-noto-cjk chromium espeak-ng sox postgresql
  # the key presses of a USB code scanner that types (the demo's --scanner wedge)
  xdotool
  # building wheels and the venv on a bare Debian python3
  gcc python3-venv python3-dev
)

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "Debian packages missing (${missing[*]}); run this script as root or: sudo apt-get install ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: check the network to Debian's mirrors"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
fi

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || die "no python3 on PATH; install Debian's python3 (3.11)"
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || die "Python 3.11 or newer is needed, found $("$PY" --version)"

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment in .venv"
  "$PY" -m venv "$VENV" || die "python3 -m venv failed; install python3-venv"
fi

stamp="$VENV/.project-stamp"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing the project and its dependencies into .venv"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q -e ".[dev]" || die "pip install failed (see above)"
  echo "$want" > "$stamp"
fi

# Kivy cannot choose a face inside a .ttc, and face 0 of Noto Sans CJK is the
# Japanese one: extract the Simplified Chinese faces to their own files.
"$VENV/bin/python" -m kiosk.fonts --ensure >/dev/null || die "could not prepare the Noto Sans CJK SC font"
# What an installer does once rather than every start: the message catalogues compiled
# (.po -> .mo, read by gettext in a millisecond) and the project's bytecode (this machine's
# PYTHONDONTWRITEBYTECODE would otherwise have every start compile every module again).
for po in kiosk/locale/*/LC_MESSAGES/kiosk.po; do
  if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
    "$VENV/bin/pybabel" -q compile -i "$po" -o "${po%.po}.mo" || die "could not compile $po"
  fi
done
"$VENV/bin/python" -m compileall -q kiosk screens peripherals client central >/dev/null \
  || die "could not compile the project's Python files"
say "ready"
