"""The loader on the real files, and every way a file can be wrong."""

from __future__ import annotations

import gzip
import os
import shutil
import zlib

import numpy as np
import pytest

from fmnist_lib import data
from fmnist_lib.data import FILES, DataError, load_fashion_mnist, prepare_splits


def fresh_load(folder):
    data._load_cached.cache_clear()
    return load_fashion_mnist(folder)


def test_real_files_shapes_dtypes_and_balance(real_data_dir):
    (x_train, y_train), (x_test, y_test) = fresh_load(real_data_dir)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert 0 < x_train.mean() < 255 and x_train.max() == 255
    assert len(data.CLASS_NAMES) == 10 and data.CLASS_NAMES[6] == "Shirt"
    assert not x_train.flags.writeable  # shared cache: nobody may edit it


def test_search_order_env_var_before_debian(data_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(data_copy))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    assert data.find_data_dir() == data_copy
    other = tmp_path / "explicit"
    shutil.copytree(data_copy, other)
    assert data.find_data_dir(other) == other  # the argument comes first


def _expect_error(folder, *fragments):
    with pytest.raises(DataError) as info:
        fresh_load(folder)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "apt-get install dataset-fashion-mnist" in message
    return message


def _rewrite(path, raw: bytes):
    with gzip.open(path, "wb") as fh:
        fh.write(raw)


def _raw(path) -> bytes:
    with gzip.open(path, "rb") as fh:
        return fh.read()


def test_truncated_gzip(data_copy):
    path = data_copy / FILES["train_images"].name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect_error(data_copy, str(path), "truncated")


def test_flipped_byte_in_payload_fails_sha(data_copy):
    path = data_copy / FILES["test_images"].name
    raw = bytearray(_raw(path))
    raw[5000] ^= 0xFF
    _rewrite(path, bytes(raw))
    _expect_error(data_copy, str(path), "SHA-256")


def test_wrong_magic(data_copy):
    path = data_copy / FILES["train_labels"].name
    raw = bytearray(_raw(path))
    raw[3] = 0x03  # labels claiming to be images
    _rewrite(path, bytes(raw))
    _expect_error(data_copy, "magic number 0x00000801", "0x00000803")


def test_label_image_count_mismatch(data_copy):
    path = data_copy / FILES["test_labels"].name
    raw = _raw(path)
    header = raw[:4] + (9999).to_bytes(4, "big")
    _rewrite(path, header + raw[8:-1])
    _expect_error(data_copy, str(path), "(10000,)", "(9999,)")


def test_labels_from_the_other_split(data_copy):
    shutil.copy(data_copy / FILES["test_labels"].name, data_copy / FILES["train_labels"].name)
    _expect_error(data_copy, FILES["train_labels"].name, "(60000,)", "(10000,)")


def test_missing_file_in_a_folder(data_copy):
    (data_copy / FILES["test_images"].name).unlink()
    _expect_error(data_copy, "missing", FILES["test_images"].name)


@pytest.mark.parametrize("key", list(FILES))
def test_random_byte_flips_anywhere(data_copy, key):
    rng = np.random.default_rng(zlib.crc32(key.encode()))  # same flips on every run
    path = data_copy / FILES[key].name
    good = path.read_bytes()
    for _ in range(3):
        damaged = bytearray(good)
        for pos in rng.integers(0, len(good), size=rng.integers(1, 4)):
            damaged[pos] ^= int(rng.integers(1, 256))
        if damaged == good:
            continue
        path.write_bytes(bytes(damaged))
        try:
            arrays = fresh_load(data_copy)
        except DataError as err:
            assert str(path) in str(err)
            continue
        # A flip in the gzip header's free fields (mtime, name) leaves the data
        # intact; then the arrays must still be exactly the real ones.
        path.write_bytes(good)
        assert all(
            np.array_equal(a, b) for a, b in zip(arrays[0], fresh_load(data_copy)[0], strict=True)
        )


def test_zero_byte_file(data_copy):
    (data_copy / FILES["train_images"].name).write_bytes(b"")
    _expect_error(data_copy, FILES["train_images"].name)


def test_directory_instead_of_file(data_copy):
    path = data_copy / FILES["train_labels"].name
    path.unlink()
    path.mkdir()
    _expect_error(data_copy, str(path), "directory")


def test_unreadable_file(data_copy, monkeypatch):
    path = data_copy / FILES["test_labels"].name
    os.chmod(path, 0)
    if os.access(path, os.R_OK):  # root reads anything: make the open fail as it would
        real_open = gzip.open

        def deny(name, *args, **kwargs):
            if str(name) == str(path):
                raise PermissionError(13, "Permission denied", str(name))
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(data.gzip, "open", deny)
    _expect_error(data_copy, str(path), "permission denied")


def test_plain_idx_named_gz(data_copy):
    path = data_copy / FILES["test_labels"].name
    path.write_bytes(_raw(path))
    _expect_error(data_copy, str(path), "not a gzip file")


def test_missing_everywhere_names_remedies_without_network(tmp_path, monkeypatch):
    monkeypatch.delenv("FMNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(data, "MIRROR_URL", "http://127.0.0.1:9/")  # refused at once
    with pytest.raises(DataError) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert "download" in message and "offline" in message
    assert "apt-get install dataset-fashion-mnist" in message and "FMNIST_DATA_DIR" in message
    assert not list((tmp_path / "keras").rglob("*.gz"))  # no half-downloaded file left


def test_split_is_disjoint_stratified_and_seeded():
    splits = prepare_splits(val_fraction=0.1, seed=3)
    assert np.intersect1d(splits.train_indices, splits.val_indices).size == 0
    assert len(splits.train_indices) + len(splits.val_indices) == 60000
    assert np.bincount(splits.y_val).tolist() == [600] * 10
    assert np.bincount(splits.y_train).tolist() == [5400] * 10
    again = prepare_splits(val_fraction=0.1, seed=3)
    assert np.array_equal(again.val_indices, splits.val_indices)
    other = prepare_splits(val_fraction=0.1, seed=4)
    assert not np.array_equal(other.val_indices, splits.val_indices)
    assert splits.x_train.dtype == np.float32 and splits.x_train.shape[1:] == (28, 28, 1)
    assert 0.0 <= splits.x_train.min() and splits.x_train.max() <= 1.0
    assert len(splits.y_test) == 10000  # the test set is never subsampled


def test_subset_is_balanced_and_split_before_augmentation():
    splits = prepare_splits(val_fraction=0.2, seed=0, subset=2000)
    assert len(splits.y_train) == 1600 and len(splits.y_val) == 400
    assert np.bincount(splits.y_val).tolist() == [40] * 10
    assert np.intersect1d(splits.train_indices, splits.val_indices).size == 0
