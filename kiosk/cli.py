"""The composition root: the ``kiosk`` command (run, demo, savings, selftest, enrol)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description="Self-service government kiosk")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the terminal full screen")
    sub.add_parser("demo", help="scripted walkthrough against the emulators")
    args = parser.parse_args(argv)
    print(f"kiosk {args.command}: not wired yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
