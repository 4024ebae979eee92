"""Fashion-MNIST from local IDX files, verified, plus a leak-free stratified split.

The loader never trusts a file: each IDX header is checked (magic number, shape,
item count) and the SHA-256 of the decompressed bytes must match the official
data. Any problem raises a single :class:`DataError` that names the file, what
was expected, what was found and how to fix it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from .errors import DataError

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28)

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
MIRROR_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
APT_HINT = "sudo apt-get install dataset-fashion-mnist"
ENV_VAR = "FMNIST_DATA_DIR"

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension


@dataclass(frozen=True)
class IdxFile:
    name: str
    magic: int
    shape: tuple[int, ...]
    sha256: str  # of the decompressed bytes (gzip headers differ between copies)

    @property
    def size(self) -> int:
        header = 4 + 4 * len(self.shape)
        return header + int(np.prod(self.shape))


FILES = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte.gz",
        IMAGES_MAGIC,
        (60000, 28, 28),
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte.gz",
        LABELS_MAGIC,
        (60000,),
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte.gz",
        IMAGES_MAGIC,
        (10000, 28, 28),
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte.gz",
        LABELS_MAGIC,
        (10000,),
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}


def keras_cache_dir() -> Path:
    """Where `keras.datasets.fashion_mnist` keeps its copy (honours $KERAS_HOME)."""
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home) / "datasets" / "fashion-mnist"


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The places searched, in order, each with a short description."""
    places = []
    if data_dir is not None:
        places.append(("data_dir argument", Path(data_dir)))
    if os.environ.get(ENV_VAR):
        places.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR])))
    places.append(("Keras cache", keras_cache_dir()))
    places.append(("Debian package dataset-fashion-mnist", DEBIAN_DIR))
    return places


def _remedy() -> str:
    return (
        f"Fix: install the Debian package ({APT_HINT}), or point ${ENV_VAR} "
        f"at a folder holding the four original files "
        f"({', '.join(f.name for f in FILES.values())})."
    )


def _fail(path: Path, expected: str, found: str) -> DataError:
    return DataError(
        f"{path}: expected {expected}, found {found}. {_remedy()} "
        "If the file came from a download, delete it so that it is fetched again."
    )


def read_idx(path: Path, spec: IdxFile) -> np.ndarray:
    """Read and verify one gzipped IDX file; raise DataError on any mismatch."""
    if not path.exists():
        raise _fail(path, f"the file {spec.name}", "no such file")
    if not path.is_file():
        raise _fail(path, "a gzip file", "a directory or other non-file")
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except PermissionError as err:
        raise _fail(path, "a readable file", f"permission denied ({err.strerror})") from None
    except gzip.BadGzipFile as err:
        raise _fail(path, "gzip-compressed IDX data", f"not a gzip file ({err})") from None
    except (EOFError, zlib.error, OSError) as err:
        kind = "a truncated gzip stream" if isinstance(err, EOFError) else "corrupt gzip data"
        raise _fail(path, "a complete gzip stream", f"{kind} ({err})") from None

    header_len = 4 + 4 * len(spec.shape)
    if len(raw) < header_len:
        raise _fail(path, f"an IDX header of {header_len} bytes", f"{len(raw)} bytes in all")
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != spec.magic:
        raise _fail(path, f"IDX magic number {spec.magic:#010x}", f"{magic:#010x}")
    dims = struct.unpack(f">{len(spec.shape)}I", raw[4:header_len])
    if tuple(dims) != spec.shape:
        raise _fail(path, f"dimensions {spec.shape}", f"{tuple(dims)}")
    if len(raw) != spec.size:
        raise _fail(path, f"{spec.size:,} bytes decompressed", f"{len(raw):,} bytes")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise _fail(path, f"SHA-256 {spec.sha256[:16]}...", f"{digest[:16]}... (altered data)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(spec.shape)


def find_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first searched folder that holds all four files, else None.

    A folder that holds only some of them is an error: mixing copies from two
    places would hide a broken installation.
    """
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError(f"data_dir {data_dir}: expected a folder, found none. {_remedy()}")
    for label, folder in candidate_dirs(data_dir):
        present = [f.name for f in FILES.values() if (folder / f.name).exists()]
        if len(present) == len(FILES):
            return folder
        if present:
            missing = sorted(set(f.name for f in FILES.values()) - set(present))
            raise DataError(
                f"{folder} ({label}): expected all four Fashion-MNIST files, "
                f"found {len(present)}; missing {', '.join(missing)}. {_remedy()}"
            )
        if label == "data_dir argument":
            raise DataError(
                f"{folder} (data_dir argument): expected the four Fashion-MNIST files "
                f"({', '.join(f.name for f in FILES.values())}), found none. {_remedy()}"
            )
    return None


def download(target: Path | None = None) -> Path:
    """Fetch the four files from the official mirror into the Keras cache."""
    target = target or keras_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    for spec in FILES.values():
        dest = target / spec.name
        if dest.exists():
            continue
        tmp = dest.with_suffix(".part")
        try:
            with urllib.request.urlopen(MIRROR_URL + spec.name, timeout=30) as resp:
                tmp.write_bytes(resp.read())
        except Exception as err:  # any network failure means the same remedy
            tmp.unlink(missing_ok=True)
            searched = "; ".join(f"{label}: {path}" for label, path in candidate_dirs())
            raise DataError(
                f"Fashion-MNIST was not found locally (searched {searched}) and the "
                f"download of {spec.name} from {MIRROR_URL} failed ({err}). This machine "
                f"may be offline. {_remedy()}"
            ) from None
        tmp.replace(dest)
    return target


@functools.lru_cache(maxsize=4)
def _load_cached(folder: Path):
    arrays = {key: read_idx(folder / spec.name, spec) for key, spec in FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):  # pragma: no cover - guarded by the hashes
            raise DataError(f"{folder}: {split} has {len(images)} images, {len(labels)} labels")
    for array in arrays.values():
        array.flags.writeable = False  # shared between callers: nobody may edit it
    return (arrays["train_images"], arrays["train_labels"]), (
        arrays["test_images"],
        arrays["test_labels"],
    )


def load_fashion_mnist(data_dir: str | os.PathLike | None = None):
    """Return ``(x_train, y_train), (x_test, y_test)`` as read-only uint8 arrays.

    Looks in ``data_dir``, ``$FMNIST_DATA_DIR``, the Keras cache, the Debian
    package folder, and finally downloads into the Keras cache.
    """
    folder = find_data_dir(data_dir)
    if folder is None:
        folder = download()
    return _load_cached(folder.resolve())


def split_indices(labels: np.ndarray, val_fraction: float, seed: int):
    """Stratified, seeded train/validation indices, disjoint by construction."""
    indices = np.arange(len(labels))
    train_idx, val_idx = train_test_split(
        indices, test_size=val_fraction, random_state=seed, stratify=labels
    )
    return np.sort(train_idx), np.sort(val_idx)


def stratified_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of a class-balanced random subset of ``size`` items."""
    if size >= len(labels):
        return np.arange(len(labels))
    indices = np.arange(len(labels))
    subset, _ = train_test_split(indices, train_size=size, random_state=seed, stratify=labels)
    return np.sort(subset)


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], as the original scaled."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]


@dataclass
class DataSplits:
    """Train/validation/test arrays ready for a model, plus the indices used."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_indices: np.ndarray
    val_indices: np.ndarray


def prepare_splits(
    val_fraction: float = 0.1,
    seed: int = 0,
    subset: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> DataSplits:
    """Load, optionally subsample, then split before any augmentation.

    ``subset`` limits the training pool (train + validation); the test set is
    always the full official 10,000 images.
    """
    (x_pool, y_pool), (x_test, y_test) = load_fashion_mnist(data_dir)
    pool = np.arange(len(y_pool))
    if subset is not None:
        pool = stratified_subset(y_pool, subset, seed)
    train_pos, val_pos = split_indices(y_pool[pool], val_fraction, seed)
    train_idx, val_idx = pool[train_pos], pool[val_pos]
    if np.intersect1d(train_idx, val_idx).size:  # pragma: no cover - a guard, not a branch
        raise AssertionError("validation images leaked into the training split")
    return DataSplits(
        x_train=to_model_input(x_pool[train_idx]),
        y_train=y_pool[train_idx].astype(np.int64),
        x_val=to_model_input(x_pool[val_idx]),
        y_val=y_pool[val_idx].astype(np.int64),
        x_test=to_model_input(x_test),
        y_test=y_test.astype(np.int64),
        train_indices=train_idx,
        val_indices=val_idx,
    )
