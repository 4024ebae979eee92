"""fmnist_lib.corruptions on real test images: every family, every severity, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.transform import rotate

from fmnist_lib import corruptions
from fmnist_lib.corruptions import CORRUPTIONS, FAMILIES, MAX_SEVERITY, SEVERITIES, corrupt
from fmnist_lib.data import load_fashion_mnist, stratified_subset
from fmnist_lib.paths import PROJECT_ROOT


@pytest.fixture(scope="module")
def images():
    """300 real test images, class-balanced (read-only, as the loader returns them)."""
    _, (x_test, y_test) = load_fashion_mnist()
    return x_test[stratified_subset(y_test, 300, seed=0)]


def _change(images, family, severity, seed=0) -> float:
    return float(np.abs(corrupt(images, family, severity, seed).astype(int) - images).mean())


def test_the_registry_has_every_family_of_the_issue_with_a_full_ladder():
    assert set(FAMILIES) == {
        "gaussian_noise",
        "gaussian_blur",
        "contrast",
        "brightness",
        "jpeg",
        "rotate",
        "translate",
        "occlude",
        "flip",
        "invert",
    }
    assert SEVERITIES == tuple(range(MAX_SEVERITY + 1)) == (0, 1, 2, 3, 4, 5)
    for name, corruption in CORRUPTIONS.items():
        assert len(corruption.ladder) == MAX_SEVERITY, name
    assert CORRUPTIONS["rotate"].ladder[0] == 5 and CORRUPTIONS["rotate"].ladder[-1] == 30
    assert min(CORRUPTIONS["translate"].ladder) >= 1 and max(CORRUPTIONS["translate"].ladder) <= 4


@pytest.mark.parametrize("family", FAMILIES)
def test_every_severity_gives_uint8_images_of_the_same_shape(images, family):
    for severity in SEVERITIES:
        out = corrupt(images, family, severity, seed=0)
        assert out.shape == images.shape and out.dtype == np.uint8, severity
        assert 0 <= out.min() and out.max() <= 255
        assert out.flags.writeable  # a copy the caller owns, never a view of the data


@pytest.mark.parametrize("family", FAMILIES)
def test_severity_0_is_the_identity_and_a_copy(images, family):
    out = corrupt(images, family, 0, seed=5)
    assert np.array_equal(out, images)
    assert not np.shares_memory(out, images)


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_bytes_and_only_random_families_depend_on_it(images, family):
    for severity in (1, MAX_SEVERITY):
        first = corrupt(images, family, severity, seed=1)
        assert first.tobytes() == corrupt(images, family, severity, seed=1).tobytes()
        other = corrupt(images, family, severity, seed=2)
        assert np.array_equal(first, other) != CORRUPTIONS[family].random, severity


@pytest.mark.parametrize("family", FAMILIES)
def test_a_higher_severity_changes_the_images_more(images, family):
    changes = [_change(images, family, severity) for severity in SEVERITIES]
    assert changes[0] == 0
    assert all(b >= a for a, b in zip(changes, changes[1:], strict=False)), changes
    assert changes[1] > 0, changes
    if family not in ("flip", "invert"):
        assert changes[-1] > changes[1], changes


def test_the_one_level_families_are_the_mirror_and_the_negative(images):
    for severity in range(1, MAX_SEVERITY + 1):
        assert np.array_equal(corrupt(images, "flip", severity), images[:, :, ::-1])
        assert np.array_equal(corrupt(images, "invert", severity), 255 - images)


def test_jpeg_of_the_tiled_sheet_equals_one_round_trip_per_image(images):
    for severity in (1, MAX_SEVERITY):
        quality = corruptions.parameter("jpeg", severity)
        out = corrupt(images, "jpeg", severity)
        for index in range(0, len(images), 37):
            buffer = io.BytesIO()
            Image.fromarray(images[index]).save(buffer, format="JPEG", quality=quality)
            alone = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
            assert np.array_equal(out[index], alone), (severity, index)


def test_rotation_by_matrix_matches_skimage_rotate_per_image(images):
    out = corrupt(images, "rotate", 3, seed=4)
    signs = np.random.default_rng(4).choice([-1, 1], size=len(images))  # as _rotate draws
    expected = np.stack(
        [
            rotate(image / 255.0, sign * 15, order=1, mode="constant", preserve_range=True)
            for image, sign in zip(images, signs, strict=True)
        ]
    )
    expected = np.clip(np.rint(expected * 255), 0, 255)
    difference = np.abs(out - expected)
    assert difference.max() <= 1  # float32 sums may round the other way at .5
    assert (difference > 0).mean() < 1e-3


def test_occlusion_patches_grow_in_place(images):
    mild = corrupt(images, "occlude", 1, seed=3) != images
    severe = corrupt(images, "occlude", MAX_SEVERITY, seed=3) != images
    assert not np.any(mild & ~severe)  # every pixel the small patch changed, the large one does


@pytest.mark.parametrize(
    ("family", "severity", "fragment"),
    [
        ("fog", 1, "unknown corruption family 'fog'; valid names are ['gaussian_noise', "),
        ("rotate", 6, "severity: 6 is out of range; valid severities are 0 to 5"),
        ("rotate", -1, "severity: -1 is out of range; valid severities are 0 to 5"),
        ("rotate", 1.5, "severity: expected a whole number from 0 to 5, got 1.5"),
        ("rotate", True, "severity: expected a whole number from 0 to 5, got True"),
    ],
)
def test_bad_family_or_severity_names_the_valid_choices(images, family, severity, fragment):
    with pytest.raises(ValueError) as err:
        corrupt(images, family, severity)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((28, 28), np.uint8),
        np.zeros((4, 32, 32), np.uint8),
        np.zeros((4, 28, 28, 1), np.uint8),
        np.zeros((4, 28, 28), np.float32),
    ],
)
def test_images_of_the_wrong_shape_or_type_raise(bad):
    with pytest.raises(ValueError, match=r"expected uint8 images shaped \(N, 28, 28\), got"):
        corrupt(bad, "flip", 1)


def test_the_docs_show_the_registry_table():
    docs = (PROJECT_ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    assert corruptions.ladder_markdown() in docs, "regenerate docs/robustness.md's table"
