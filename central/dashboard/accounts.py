"""``central users add NAME --role manager --point zhouhu``: dashboard sign-ins from the shell.

The password is asked twice at a terminal, or read from the first line of
stdin with ``--password-stdin`` (for scripts); it never appears in argv, where
``ps`` would show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from central.dashboard.data import ROLES, HallStore


def add_arguments(users: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    acts = users.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", parents=[common], help="a dashboard user")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True,
                     help="manager: their service points; technician: terminals; admin: all")  # fmt: skip
    add.add_argument("--point", action="append", default=[],
                     help="service point code, repeat for several (required for a manager)")  # fmt: skip
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def run(args: argparse.Namespace, store) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("central: the passwords differ", file=sys.stderr)
            return 1
    try:
        user = HallStore(store.engine).add_user(args.name, args.role, args.point, password)
    except ValueError as err:
        print(f"central: user not added: {err}", file=sys.stderr)
        return 1
    where = ", ".join(user.points) if user.points else "all service points"
    print(f"added {user.name} ({user.role}; {where})")
    return 0
