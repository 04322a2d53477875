"""The ``central`` command: serve, migrate, office actions and terminal enrolment codes.

``central serve --port 0`` picks a free port and prints ``listening on URL``
as its first stdout line (flushed), which a supervisor reads; SIGTERM or
SIGINT stop it cleanly. ``--workers N`` serves from N processes on that one
port (central/workers.py). Office commands act on the database directly, so they
work with or without a running server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from central.config import CentralConfig, default_catalog_dir


def _config(args: argparse.Namespace) -> CentralConfig:
    return CentralConfig(
        data_dir=Path(args.data_dir),
        database_url=args.database_url or os.environ.get("CENTRAL_DATABASE_URL", ""),
        catalog_dir=Path(args.catalog_dir) if args.catalog_dir else default_catalog_dir(),
        require_signatures=not getattr(args, "insecure_unsigned", False),
        office_token=os.environ.get("CENTRAL_OFFICE_TOKEN", ""),
        failpoint=os.environ.get("CENTRAL_FAILPOINT", ""),
        tickets_any_time=os.environ.get("CENTRAL_TICKETS_ANY_TIME", "") == "1",
    )


async def _serve(config: CentralConfig, host: str, port: int, *, reuse_port: bool = False,
                 ready_fd: int | None = None) -> None:  # fmt: skip
    """Serve until SIGTERM/SIGINT. A worker of several (``ready_fd`` set) says it is
    listening by writing one byte there; the parent prints the URL."""
    from aiohttp import web

    from central.app import make_app

    # The group-commit thread lets go of the GIL for each SQLite call and its fsync, then
    # waits to get it back while the loop parses requests: up to the 5 ms switch interval
    # each time. 1 ms: its commits come back sooner (about 6% more submissions a second
    # with 8 in flight, A/B on this 2-core machine).
    sys.setswitchinterval(0.001)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before it says it listens: a stop then is clean
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(make_app(config), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    if ready_fd is None:
        bound = site._server.sockets[0].getsockname()[1]  # the real port when asked for 0
        print(f"listening on http://{host}:{bound}", flush=True)
    else:
        os.write(ready_fd, b"+")
        os.close(ready_fd)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _exposed(host: str, config: CentralConfig) -> str:
    """Why serving on ``host`` would leave the platform open to the network ("" if not).

    On a loopback address (a desk, the demo, the tests) anything goes; on any other, the
    office API (enrolment codes, revocation, moving applications) needs its token, and
    terminals must sign their calls.
    """
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return ""
    if not config.office_token:
        return (f"not serving on {host} without CENTRAL_OFFICE_TOKEN: the office API (enrolment "
                "codes, revocation, application stages) would be open to anyone on the network; "
                "set it (e.g. in the unit's EnvironmentFile), or serve on 127.0.0.1")  # fmt: skip
    if not config.require_signatures:
        return f"--insecure-unsigned is for a desk on 127.0.0.1, not for {host}"
    return ""


def _store(config: CentralConfig):
    from central.db import make_engine, migrate
    from central.sealing import SecretBox
    from central.store import Store

    sqlite_file = None if config.database_url else Path(config.data_dir) / "central.sqlite3"
    if sqlite_file is not None and not sqlite_file.exists():
        # a command run from another folder, or without the service's --data-dir, would
        # otherwise write its code, account or key into a database nobody serves
        print(f"central: no platform database at {sqlite_file.resolve()}: a new one is made; "
              "the running service's is in its own --data-dir (CENTRAL_DATA_DIR), e.g. "
              "/var/lib/govkiosk-central", file=sys.stderr)  # fmt: skip
    config.data_dir.mkdir(parents=True, exist_ok=True)
    box = SecretBox.for_data_dir(config.data_dir)
    engine = make_engine(config.url)
    migrate(engine, box)
    return Store(engine, box)


def _office(args: argparse.Namespace, config: CentralConfig) -> int:
    store = _store(config)
    if args.action == "advance":
        result = store.advance(args.number, args.note)
    elif args.action == "resume":
        # one never accepted (taken in on a pending slip) is accepted now, by the catalog
        # the service reads
        from central import decide
        from central.app import read_catalog

        def accept(notice, sub, number, today):  # (the catalog read only when it is needed)
            return decide.accept_corrected(read_catalog(config.catalog_dir), notice, sub, number, today)

        result = store.resume(args.number, args.note, accept)
    elif args.action == "needs-more":
        result = store.needs_more(args.number, args.missing, args.note)
    elif args.action == "refuse":
        result = store.refuse(args.number, args.reason)
    else:
        result = store.progress(args.number)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _photos(args: argparse.Namespace, config: CentralConfig) -> int:
    from central.facematch import FaceMatcher
    from central.photos import add_photo
    from central.sealing import SealError
    from kiosk.errors import KioskError
    from kiosk.identity import mask

    try:
        image = Path(args.file).read_bytes()
        # the photo must show one face now, not fail a citizen at the kiosk later
        add_photo(config.data_dir, args.id_number, image, FaceMatcher())
    except (OSError, ValueError, KioskError, SealError) as err:
        print(f"central: photo not added: {err}", file=sys.stderr)
        return 1
    print("photo of record added for", mask(args.id_number.strip().upper(), 6, 4))
    return 0


def _key(args: argparse.Namespace, config: CentralConfig) -> int:
    """Rotate the platform key in three steps (central/keys.py)."""
    from central import keys
    from central.sealing import SealError

    try:
        if args.action == "new":
            told, value = keys.new_key(config.data_dir)
            print(told, file=sys.stderr)
            if value is not None:
                print(value)  # the one line a script captures into its secret store
            return 0
        store = _store(config)
        if args.action == "reseal":
            survey = keys.reseal(store, config.data_dir, fix=not args.dry_run)
            what = "to seal again" if args.dry_run else "sealed again"
            print(f"sealing key {store.box.fingerprint}; " + "; ".join(survey.lines(what)))
            if not args.dry_run and not survey.unopenable:
                print("done: `central key retire` drops the older keys" if len(store.box.keys) > 1
                      else "done")  # fmt: skip
            return 1 if survey.unopenable else 0
        print(keys.retire(store, config.data_dir, force=args.force))
        return 0
    except SealError as err:
        print(f"central: {err}", file=sys.stderr)
        return 1


def _eid(args: argparse.Namespace, config: CentralConfig) -> int:
    """A reference electronic ID code for testing, printed as one line (a QR PNG on request)."""
    import datetime as dt

    from central import eid

    now = dt.datetime.now(dt.UTC)
    if args.expired:  # issued long enough ago to have run out: see how the kiosk explains it
        now -= dt.timedelta(seconds=args.valid_seconds + 60)
    try:
        code = eid.issue(eid.load_key(config.data_dir), args.id_number, args.name, now,
                         args.valid_seconds)  # fmt: skip
    except (OSError, ValueError) as err:
        print(f"central: no code issued: {err}", file=sys.stderr)
        return 1
    if args.png:
        import qrcode

        qrcode.make(code, border=2).save(args.png)
    print(code)
    return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=os.environ.get("CENTRAL_DATA_DIR", "var/central"),
                        help="where the SQLite file and keys live (default: $CENTRAL_DATA_DIR, "
                             "else var/central); the service's: /var/lib/govkiosk-central")  # fmt: skip
    common.add_argument("--database-url", default="", help="e.g. postgresql+psycopg://u@host/db")
    common.add_argument("--catalog-dir", default="", help="default: the repo's config/catalog")
    p = argparse.ArgumentParser(prog="central", description="the reference central platform")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", parents=[common], help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 = a free port (printed)")
    serve.add_argument("--workers", type=int, default=1,
                       help="processes serving the one port (SO_REUSEPORT); e.g. one per core")  # fmt: skip
    serve.add_argument("--insecure-unsigned", action="store_true",
                       help="accept terminal calls without signatures (a desk demo only)")  # fmt: skip
    sub.add_parser("migrate", parents=[common], help="apply database migrations")
    office = sub.add_parser("office", help="move applications through their stages")
    acts = office.add_subparsers(dest="action", required=True)
    for name in ("show", "advance", "resume", "needs-more", "refuse"):
        a = acts.add_parser(name, parents=[common])
        a.add_argument("number", help="acceptance number (or a pending slip's local number)")
        a.add_argument("--note", default="")
        if name == "needs-more":
            a.add_argument("--missing", action="append", required=True, help="repeat for each item")
        if name == "refuse":
            a.add_argument("--reason", required=True)
    terms = sub.add_parser("terminals", help="enrolment codes and revocation")
    tacts = terms.add_subparsers(dest="action", required=True)
    add = tacts.add_parser("add-code", parents=[common], help="a one-time enrolment code")
    add.add_argument("--point", required=True, help="service point code")
    rev = tacts.add_parser("revoke", parents=[common])
    rev.add_argument("terminal_id")
    photos = sub.add_parser("photos", help="photos of record for the face match")
    pacts = photos.add_subparsers(dest="action", required=True)
    padd = pacts.add_parser("add", parents=[common], help="keep FILE as the photo of record")
    padd.add_argument("id_number")
    padd.add_argument("file", help="a JPEG or PNG showing one face")
    eids = sub.add_parser("eid", help="reference electronic ID codes (a deployment uses the national service)")
    eacts = eids.add_subparsers(dest="action", required=True)
    eiss = eacts.add_parser("issue", parents=[common], help="print a test e-ID code for a citizen")
    eiss.add_argument("id_number")
    eiss.add_argument("name")
    eiss.add_argument("--valid-seconds", type=int, default=300, help="1..600 (default 300)")
    eiss.add_argument("--expired", action="store_true", help="a code that has already expired")
    eiss.add_argument("--png", default="", help="also write the code as a QR image to this file")
    keyp = sub.add_parser("key", help="rotate the platform key that seals data at rest (central/keys.py)")
    kacts = keyp.add_subparsers(dest="action", required=True)
    kacts.add_parser("new", parents=[common],
                     help="1. a new sealing key first, the old ones kept to open; restart the platform")  # fmt: skip
    kres = kacts.add_parser("reseal", parents=[common],
                            help="2. seal everything again under the new key (the platform may run)")  # fmt: skip
    kres.add_argument("--dry-run", action="store_true", help="only count what is left to seal")
    kret = kacts.add_parser("retire", parents=[common],
                            help="3. drop the older keys once nothing needs them")  # fmt: skip
    kret.add_argument("--force", action="store_true",
                      help="even though photos sealed by an earlier version are left (they are lost)")  # fmt: skip
    users = sub.add_parser("users", help="dashboard sign-ins: hall managers, technicians, admins")
    __import__("central.dashboard.accounts", fromlist=["_"]).add_arguments(users, common)
    return p


def main(argv: list[str] | None = None) -> int:
    from central.errors import ApiError
    from kiosk.errors import CatalogError
    from kiosk.privacy import scrub_logs

    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    scrub_logs()  # an ID number in an error (a citizen's lookup that failed) never lands
    config = _config(args)
    if args.command == "serve" and (refusal := _exposed(args.host, config)):
        print(f"central: {refusal}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve" and args.workers > 1:
            from central.workers import serve

            return serve(config, args.host, args.port, args.workers, _serve)
        elif args.command == "serve":
            asyncio.run(_serve(config, args.host, args.port))
        elif args.command == "migrate":
            _store(config)
            print("migrated", config.url.split("@")[-1])
        elif args.command == "office":
            return _office(args, config)
        elif args.command == "terminals" and args.action == "add-code":
            from central.app import _load_catalog

            points = _load_catalog(config, None)["catalog"].service_points
            if points and args.point not in points:  # as the office API refuses it
                print(f"central: no service point {args.point!r} in the catalog; one of: "
                      f"{', '.join(sorted(points))}", file=sys.stderr)  # fmt: skip
                return 2
            print(_store(config).add_code(args.point))
        elif args.command == "terminals" and args.action == "revoke":
            _store(config).revoke(args.terminal_id)
            print("revoked", args.terminal_id)
        elif args.command == "photos":
            return _photos(args, config)
        elif args.command == "eid":
            return _eid(args, config)
        elif args.command == "key":
            return _key(args, config)
        elif args.command == "users":
            return __import__("central.dashboard.accounts", fromlist=["_"]).run(args, _store(config))  # fmt: skip
    except ApiError as err:
        print(f"central: {err.body()['error']['message']['en']} ({err.key})", file=sys.stderr)
        return 1
    except CatalogError as err:  # (the office resuming an application reads it)
        print(f"central: the catalog in {config.catalog_dir}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
