"""Shared pieces for the tests of central/ and client/: a small catalog and valid submissions.

The catalog is built in code (not read from config/catalog, which the catalog
work changes) so these tests pin the platform's rules, not the county's data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from stdnum.cn import ric

from kiosk.catalog import (
    Bilingual,
    Catalog,
    Certificate,
    Department,
    FieldDef,
    FieldType,
    LifeEvent,
    Material,
    Matter,
    ServicePoint,
)
from kiosk.outcomes import DeferredMaterial, Submission


def b(zh: str, en: str = "") -> Bilingual:
    return Bilingual(zh, en or zh)


def id_number(first17: str = "36242919900501002") -> str:
    """A resident ID number with a correct check digit (362429: Anfu before 2000)."""
    return first17 + ric.calc_check_digit(first17 + "0")  # it ignores the last character


def small_catalog() -> Catalog:
    fields = [
        FieldDef("applicant_name", b("申请人姓名", "Applicant name"), FieldType.TEXT, "applicant", prefill="name"),
        FieldDef("applicant_id_number", b("身份证号码", "ID number"), FieldType.ID_NUMBER, "applicant",
                 prefill="id_number"),
        FieldDef("applicant_phone", b("联系电话", "Phone"), FieldType.PHONE, "applicant"),
        FieldDef("newborn_name", b("新生儿姓名", "Newborn's name"), FieldType.TEXT, "newborn"),
        FieldDef("remark", b("备注", "Remark"), FieldType.TEXT, "applicant", required=False),
    ]  # fmt: skip
    materials = [
        Material("id_card", b("居民身份证", "Resident ID card")),
        Material(
            "birth_medical", b("出生医学证明", "Medical birth certificate"), ecert="birth_medical"
        ),
        Material("hukou_book", b("居民户口簿", "Household register")),
        Material("photo", b("一寸照片", "Photo")),
    ]
    matters = [
        Matter("hukou_birth", b("出生登记", "Birth registration"), "ga", 20, 3, b("不收费", "Free"),
               ("applicant_name", "applicant_id_number", "newborn_name"), ("id_card", "hukou_book", "birth_medical"),
               any_point=True),
        Matter("social_card", b("社会保障卡申领", "Social-security card"), "rs", 15, 5, b("不收费", "Free"),
               ("applicant_name", "applicant_id_number", "applicant_phone"), ("id_card", "photo"),
               deferrable=("photo",)),
    ]  # fmt: skip
    return Catalog(
        county=b("江西省吉安市安福县", "Anfu County"),
        county_code="360829",
        defer_working_days=5,
        departments={"ga": Department("ga", b("安福县公安局", "Public Security")),
                     "rs": Department("rs", b("安福县人力资源和社会保障局", "Human Resources"))},
        service_points={"afx": ServicePoint("afx", b("安福县政务服务中心"), "county", "平都镇", True),
                        "hukeng": ServicePoint("hukeng", b("洋溪镇便民服务中心"), "township", "洋溪镇", True)},
        certificates={"birth_medical": Certificate("birth_medical", b("出生医学证明", "Medical birth certificate"), "ga")},
        fields={f.id: f for f in fields},
        materials={m.code: m for m in materials},
        matters={m.code: m for m in matters},
        life_events={"birth": LifeEvent("birth", "baby", b("出生一件事"), b("出生"), ("hukou_birth", "social_card"))},
    )  # fmt: skip


def a_submission(terminal_id: str, **changes) -> Submission:
    values = dict(
        key=f"sub-{uuid.uuid4().hex}",
        terminal_id=terminal_id,
        accepting_point="hukeng",
        life_event="birth",
        matters=("hukou_birth", "social_card"),
        fields={"applicant_name": "王芳", "applicant_id_number": id_number(), "newborn_name": "王小明",
                "applicant_phone": "13800138000"},
        consumers={},
        # birth_medical has an e-certificate type, but nothing makes it available: it is scanned
        materials={"id_card": "scan:1", "hukou_book": "scan:2", "birth_medical": "scan:3"},
        deferred=(DeferredMaterial("photo", "一寸照片", dt.date(2026, 12, 1)),),
        commitment_signature="signature:2048:0f1e2d3c4b5a6978",
    )  # fmt: skip
    values.update(changes)
    return Submission(**values)


async def enrolled_client(http, base: str, point: str):
    """A PlatformClient enrolled at ``point`` with a code from the office API (``http``: a session)."""
    from client.platform import PlatformClient

    async with http.post(
        f"{base}/api/v1/office/enrolment-codes", json={"service_point": point}
    ) as r:
        code = (await r.json())["code"]
    client = PlatformClient(base, timeout=5, backoff=0.01)
    await client.enrol(code)
    return client


class CentralProcess:
    """``central serve`` as its own process, started the way a supervisor does it.

    ``start()`` returns the URL the server printed; ``stop()`` sends SIGTERM and
    waits (then kills); ``wait_dead()`` waits for a process that should die by itself.
    ``workers`` > 1 runs ``central serve --workers N`` (``worker_pids()`` lists them).
    """

    def __init__(self, data_dir, catalog_dir, database_url: str = "", port: int = 0, env=None,
                 workers: int = 1):  # fmt: skip
        self.data_dir, self.catalog_dir = data_dir, catalog_dir
        self.database_url, self.port, self.env = database_url, port, dict(env or {})
        self.workers = workers
        self.proc = None
        self.url = ""

    def start(self, timeout: float = 20) -> str:
        import os
        import selectors
        import subprocess
        import sys

        cmd = [sys.executable, "-m", "central.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--catalog-dir", str(self.catalog_dir)]  # fmt: skip
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        # what it says on stderr goes to a file beside its data: the reason, should it not start
        self.stderr = Path(self.data_dir).with_name(Path(self.data_dir).name + "-stderr.log")
        self.stderr.parent.mkdir(parents=True, exist_ok=True)
        with self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err,
                                         env={**os.environ, **self.env})  # fmt: skip
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            self.stop()
            raise AssertionError(f"central serve printed nothing within {timeout}s: {self._said()}")
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on http://"):
            self.stop()
            raise AssertionError(f"central serve did not start: {line!r}: {self._said()}")
        self.url = line.removeprefix("listening on ")
        self.port = int(self.url.rsplit(":", 1)[1])
        return self.url

    def _said(self) -> str:
        """The end of what the server wrote on stderr."""
        return self.stderr.read_text(errors="replace")[-3000:]

    def worker_pids(self) -> list[int]:
        """The processes serving (the workers; the server itself when it has none)."""
        if self.workers == 1:
            return [self.proc.pid]
        kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(k) for k in kids.split()]

    def wait_dead(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> int | None:
        import subprocess

        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        return self.proc.returncode


def stored_times(database_url: str, key: str) -> int:
    """How many times the platform's database at ``database_url`` stored submission ``key``
    (read by a connection of its own, after the server's own are gone)."""
    from central.db import make_engine
    from central.store import Store

    engine = make_engine(database_url)
    try:
        return Store(engine).count_submissions(key)
    finally:
        engine.dispose()
