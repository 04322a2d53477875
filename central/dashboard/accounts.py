"""``central users add NAME --role manager --point zhouhu``: dashboard sign-ins from the shell.

``disable NAME`` / ``enable NAME`` and ``reset NAME`` (a new password) do what the
administrator's accounts page does, through the same ``HallStore`` calls: a disabled
user and every session of a user whose password is reset are signed out at once, and
the last active administrator cannot be disabled. A password is asked twice at a
terminal, or read from the first line of stdin with ``--password-stdin`` (for
scripts); it never appears in argv, where ``ps`` would show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from central.dashboard.account_views import PROBLEM
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
    for action, text in (("disable", "stop a user signing in (ends their sessions)"),
                         ("enable", "let a disabled user sign in again")):  # fmt: skip
        acts.add_parser(action, parents=[common], help=text).add_argument("name")
    reset = acts.add_parser("reset", parents=[common],
                            help="a new password for a user (ends their sessions)")  # fmt: skip
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def _password(args: argparse.Namespace) -> str | None:
    """The password from stdin's first line, or typed twice (None: the two differ)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        print("central: the passwords differ", file=sys.stderr)
        return None
    return password


def run(args: argparse.Namespace, store) -> int:
    """:raises HallError: an unknown user, or the last active administrator (``central``
    prints its message)."""
    hall = HallStore(store.engine)
    if args.action in ("disable", "enable"):
        # by "" : the shell is nobody's dashboard session, so only the last-admin rule holds
        hall.set_disabled(args.name, args.action == "disable", by="")
        print(f"{args.action}d {args.name}")
        return 0
    password = _password(args)
    if password is None:
        return 1
    if args.action == "reset":
        try:
            hall.set_password(args.name, password)
        except ValueError as err:  # "short" or "name", as the accounts page has them
            print(f"central: password not reset: {PROBLEM[str(err)]}", file=sys.stderr)
            return 1
        print(f"reset the password of {args.name}; their sessions have ended")
        return 0
    try:
        user = hall.add_user(args.name, args.role, args.point, password)
    except ValueError as err:
        print(f"central: user not added: {err}", file=sys.stderr)
        return 1
    where = ", ".join(user.points) if user.points else "all service points"
    print(f"added {user.name} ({user.role}; {where})")
    return 0
