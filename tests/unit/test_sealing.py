"""Sealing at rest (central/sealing.py): what a stolen disk or a copied file gives away."""

from __future__ import annotations

import os

import pytest

from central.sealing import SealError, SecretBox

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
