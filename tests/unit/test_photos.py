"""Photos of record on disk (central/photos.py): the forms earlier versions left are read and
brought up to date, and a key rotation seals every photo again under the new key."""

from __future__ import annotations

import os

import pytest

from central import photos
from central.sealing import SealError, SecretBox

ID = "362424198801016918"
OTHER = "11010519491231002X"
FACE = b"\xff\xd8\xff a face"


def files(tmp_path) -> list[str]:
    return sorted(p.name for p in photos.photos_dir(tmp_path).iterdir())


def test_a_photo_sealed_for_its_id_number_by_the_last_version_is_read_and_brought_up_to_date(tmp_path):
    box = SecretBox(os.urandom(32))
    path = photos.photo_path(tmp_path, ID, box)
    path.parent.mkdir()
    path.write_bytes(box.seal_bytes(FACE, ID))  # gcm1: the number is its associated data
    # A rotation cannot open it without the number: it counts it, and leaves it
    assert photos.reseal(tmp_path, box).needs_number == 1
    # The citizen's next face match reads it, and it is kept in the current form
    assert photos.read_photo(tmp_path, ID, box) == FACE
    assert path.read_bytes().startswith(photos.RECORD) and files(tmp_path) == [path.name]
    assert photos.reseal(tmp_path, box).current == 1


def test_after_a_new_key_a_photo_is_found_by_the_old_name_and_moved_under_the_new_one(tmp_path):
    old, new = os.urandom(32), os.urandom(32)
    photos.keep(tmp_path, ID, FACE, SecretBox(old))
    photos.keep(tmp_path, OTHER, FACE + b"2", SecretBox(old))
    ring = SecretBox(new, old)
    # A face match after the restart on the new key finds it by the old key's hash
    assert photos.read_photo(tmp_path, ID, ring) == FACE
    assert photos.photo_path(tmp_path, ID, ring).exists()
    assert not photos.photo_path(tmp_path, ID, SecretBox(old)).exists()
    # The reseal takes the rest; then the new key alone opens every photo
    found = photos.reseal(tmp_path, ring)
    assert (found.resealed, found.current, found.needs_number) == (1, 1, 0)
    alone = SecretBox(new)
    assert photos.read_photo(tmp_path, OTHER, alone) == FACE + b"2"
    assert len(files(tmp_path)) == 2


def test_a_photo_copied_over_another_citizens_name_is_refused(tmp_path):
    box = SecretBox(os.urandom(32))
    mine = photos.keep(tmp_path, ID, FACE, box)
    photos.photo_path(tmp_path, OTHER, box).write_bytes(mine.read_bytes())
    with pytest.raises(SealError, match="another ID number"):
        photos.read_photo(tmp_path, OTHER, box)


def test_a_plain_photo_from_before_sealing_is_sealed_by_a_reseal(tmp_path):
    box = SecretBox(os.urandom(32))
    photos.photos_dir(tmp_path).mkdir()
    (photos.photos_dir(tmp_path) / f"{ID}.jpg").write_bytes(FACE)
    assert photos.reseal(tmp_path, box, fix=False).resealed == 1
    assert photos.reseal(tmp_path, box).resealed == 1
    assert files(tmp_path) == [photos.photo_path(tmp_path, ID, box).name]
    assert photos.read_photo(tmp_path, ID, box) == FACE


def test_files_rewritten_by_root_stay_the_platform_users(tmp_path):
    # (the tests run as root, as the README's command does on its machine: only root may
    # give a file to another user, which is what this is about)
    assert os.geteuid() == 0, "run the tests as root (scripts/test.sh does), as a technician's sudo"
    from central import keys
    from central.sealing import KEY_FILE, load_keys

    # Given the platform's key file and photo, owned by its own user (not root)
    box = SecretBox(os.urandom(32))
    photo = photos.keep(tmp_path, ID, FACE, box)
    key_file = tmp_path / KEY_FILE
    keys._write_keys(key_file, list(box.keys))
    for path in (tmp_path, photo.parent, photo, key_file):
        os.chown(path, 4321, 4321)
    # When a technician rewrites them as root (`sudo central key new`, a reseal)
    keys.new_key(tmp_path, env={})
    photos.keep(tmp_path, ID, FACE + b"2", box)
    # Then the platform's user still owns them, and only it may read them
    for path in (key_file, photo):
        st = path.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o077) == (4321, 4321, 0), path
    assert len(load_keys(tmp_path, env={})) == 2
