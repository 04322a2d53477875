"""Sealing at rest (central/sealing.py): what a stolen disk or a copied file gives away."""

from __future__ import annotations

import os

import pytest

from central import photos
from central.sealing import SealError, SecretBox, parse_keys

ID = "362424198801016918"


def test_a_sealed_photo_opens_with_its_key_for_its_own_id_number_only():
    box = SecretBox(os.urandom(32))
    sealed = box.seal_bytes(b"\xff\xd8\xff a photo", ID)
    assert b"a photo" not in sealed and box.open_bytes(sealed, ID) == b"\xff\xd8\xff a photo"
    with pytest.raises(SealError):  # copied over another citizen's file, it does not open
        box.open_bytes(sealed, "11010519491231002X")
    with pytest.raises(SealError):  # nor with another platform's key
        SecretBox(os.urandom(32)).open_bytes(sealed, ID)
    with pytest.raises(SealError):  # nor is a plain file taken for a sealed one
        box.open_bytes(b"\xff\xd8\xff a photo", ID)


def test_a_file_name_hides_the_id_number_and_is_the_same_for_the_same_key():
    key = os.urandom(32)
    name = SecretBox(key).blind(ID)
    assert ID not in name and ID[6:14] not in name and len(name) == 40
    assert SecretBox(key).blind(ID) == name != SecretBox(os.urandom(32)).blind(ID)


# -- several keys: rotation (central/keys.py) ----------------------------------------------


def test_a_ring_seals_with_its_first_key_and_opens_what_any_of_its_keys_sealed():
    old, new = os.urandom(32), os.urandom(32)
    before = SecretBox(old).seal_text("from before", "k1")
    ring = SecretBox(new, old)
    assert ring.open_text(before, "k1") == "from before"
    now = ring.seal_text("from now", "k2")
    assert SecretBox(new).open_text(now, "k2") == "from now"
    with pytest.raises(SealError):  # sealed under the new key: the old one alone cannot
        SecretBox(old).open_text(now, "k2")
    with pytest.raises(SealError):  # ``current`` is the sealing key alone
        ring.current().open_text(before, "k1")
    assert ring.blinds(ID) == [SecretBox(new).blind(ID), SecretBox(old).blind(ID)]
    assert ring.blind(ID) == ring.blinds(ID)[0] and ring.fingerprint == SecretBox(new).fingerprint


def test_keys_are_read_one_a_line_or_comma_separated_and_a_bad_one_is_named_by_its_place():
    a, b = os.urandom(32), os.urandom(32)
    assert parse_keys(f"# sealing key first\n{a.hex()}\n\n{b.hex()}\n", "f") == [a, b]
    assert parse_keys(f"{a.hex()}, {b.hex()}", "v") == [a, b]
    for text, says in ((f"{a.hex()},{a.hex()}", "key 2 is there twice"),
                       (f"{a.hex()} {b.hex()[:-1]}", "key 2 must be 64 hex digits"),
                       ("# nothing\n", "must hold a key")):  # fmt: skip
        with pytest.raises(SealError, match=says) as err:
            parse_keys(text, "where")
        assert b.hex()[:16] not in str(err.value)


def test_a_photo_of_record_carries_its_id_number_sealed_and_opens_without_knowing_it():
    box = SecretBox(os.urandom(32))
    data = photos.seal(box, ID, b"\xff\xd8\xff a face")
    assert ID.encode() not in data and b"a face" not in data
    assert photos.open_record(box, data) == (ID, b"\xff\xd8\xff a face")
    with pytest.raises(SealError):
        photos.open_record(SecretBox(os.urandom(32)), data)
