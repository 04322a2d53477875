"""Photos of record for the face match (人证比对), kept sealed in ``<data dir>/photos/``.

A photo is one file named by the keyed hash of its ID number (``SecretBox.blind``: a
listing of the folder shows nobody's number), holding ``RECORD`` and then, sealed with the
platform key, the ID number and the JPEG. Carrying its number inside lets the file be
opened without knowing whose it is: ``central key reseal`` seals every photo again under a
new key and renames it by the new key's hash (central/keys.py). Files from earlier
versions are still read and brought up to date on their first read: a plain
``<ID number>.jpg`` (before sealing), and a ``gcm1`` file sealed for its ID number alone
(which only the citizen's lookup can open, the number being its associated data).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from central.facematch import FaceMatcher
from central.sealing import SEALED, SealError, SecretBox, keep_owner
from central.validate import id_number_valid

RECORD = b"photo2\n"  # the first bytes of a photo of record in the current form
ABOUT = "photo of record"  # the sealed content's associated data


def photos_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "photos"


def photo_path(data_dir: Path, id_number: str, box: SecretBox) -> Path:
    """Where the photo of record for ``id_number`` is kept under the sealing key."""
    return photos_dir(data_dir) / f"{box.blind(id_number)}.sealed"


def seal(box: SecretBox, id_number: str, image: bytes) -> bytes:
    return RECORD + box.seal_bytes(id_number.encode() + b"\n" + image, ABOUT)


def open_record(box: SecretBox, data: bytes) -> tuple[str, bytes]:
    """(ID number, JPEG) of a file in the current form, opened with any of ``box``'s keys.

    :raises SealError: not in the current form, or no key opens it.
    """
    if not data.startswith(RECORD):
        raise SealError("not a photo of record in the current form")
    number, _, image = box.open_bytes(data[len(RECORD) :], ABOUT).partition(b"\n")
    return number.decode(), image


def add_photo(data_dir: Path, id_number: str, image: bytes, matcher: FaceMatcher | None = None,
              box: SecretBox | None = None) -> Path:  # fmt: skip
    """Keep ``image`` as the photo of record for ``id_number``: as JPEG, sealed with the
    platform key (central/sealing.py), readable by the owner only.

    With a ``matcher``, the photo must show exactly one face first.

    :raises ValueError: the ID number fails its check digit.
    :raises FaceMatchError: the photo does not decode or does not show one face.
    :raises FaceModelError: the model cannot be loaded.
    :raises SealError: the platform key is missing or exposed.
    """
    from PIL import Image

    from central.facematch import decode

    number = id_number.strip().upper()
    if not id_number_valid(number):
        raise ValueError("the ID number fails its check digit")
    rgb = decode(image)
    if matcher is not None:
        matcher.embed(image)
    if not image.startswith(b"\xff\xd8"):  # PNG: store as JPEG, the one format of the store
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=95)
        image = buf.getvalue()
    box = box or SecretBox.for_data_dir(data_dir)
    return keep(data_dir, number, image, box)


def keep(data_dir: Path, number: str, image: bytes, box: SecretBox) -> Path:
    """``image`` sealed under the sealing key; every other file of ``number`` removed."""
    target = photo_path(data_dir, number, box)
    _write_private(target, seal(box, number, image))
    for name in box.blinds(number)[1:]:  # named by an older key's hash
        (photos_dir(data_dir) / f"{name}.sealed").unlink(missing_ok=True)
    _legacy_photo(data_dir, number).unlink(missing_ok=True)  # a plain one from before
    return target


def read_photo(data_dir: Path, id_number: str, box: SecretBox) -> bytes | None:
    """The photo of record for ``id_number`` (None: there is none).

    A file from an earlier version or sealed under an older key (see the module's
    docstring) is sealed under the sealing key on this first read.

    :raises SealError: the file does not open with any of the platform's keys.
    """
    for _ in range(2):  # a second look: another request may have just sealed it
        for place, name in enumerate(box.blinds(id_number)):
            path = photos_dir(data_dir) / f"{name}.sealed"
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            if data.startswith(RECORD):
                number, image = open_record(box, data)
                if number != id_number:  # a file copied over another citizen's name
                    raise SealError("a photo of record is kept under another ID number's name")
                if place == 0 and _sealed_by_current(box, data):
                    return image
            else:  # gcm1: sealed for its ID number
                image = box.open_bytes(data, id_number)
            keep(data_dir, id_number, image, box)
            return image
        legacy = _legacy_photo(data_dir, id_number)
        try:
            image = legacy.read_bytes()
        except FileNotFoundError:
            continue  # none, or another request has just sealed it: look once more
        keep(data_dir, id_number, image, box)
        return image
    return None


def _sealed_by_current(box: SecretBox, data: bytes) -> bool:
    try:
        open_record(box.current(), data)
    except SealError:
        return False
    return True


@dataclass
class Resealed:
    """What ``reseal`` found: photos sealed again, already current, those it cannot open
    without their ID number (``gcm1``: sealed again on their next read), and those no key
    opens (left as they are)."""

    resealed: int = 0
    current: int = 0
    needs_number: int = 0
    unopenable: int = 0


def reseal(data_dir: Path, box: SecretBox, fix: bool = True) -> Resealed:
    """Every photo of record sealed under ``box``'s sealing key and named by its hash; plain
    ones from before sealing sealed too (not ``fix``: only counted)."""
    found = Resealed()
    for path in _files(data_dir):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # sealed again a moment ago (a face match, the plain one)
            continue
        if path.suffix == ".jpg":  # plain, named by its ID number
            if fix:
                keep(data_dir, path.stem, data, box)
            found.resealed += 1
            continue
        if data.startswith(SEALED):
            found.needs_number += 1
            continue
        try:
            number, image = open_record(box, data)
        except SealError:
            found.unopenable += 1
            continue
        if path.name == f"{box.blind(number)}.sealed" and _sealed_by_current(box, data):
            found.current += 1
        else:
            if fix:
                keep(data_dir, number, image, box)
            found.resealed += 1
    return found


def _files(data_dir: Path) -> Iterator[Path]:
    folder = photos_dir(data_dir)
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir()
                          if p.suffix in (".sealed", ".jpg") and not p.name.startswith("."))  # fmt: skip


def _legacy_photo(data_dir: Path, id_number: str) -> Path:
    return photos_dir(data_dir) / f"{id_number}.jpg"


def _write_private(target: Path, data: bytes) -> None:
    """``data`` in ``target``, whole or not at all (written beside under a name of its own,
    fsynced, renamed: two requests sealing one photo at once do not collide), 0600."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")  # 0600
    keep_owner(fd, target)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
