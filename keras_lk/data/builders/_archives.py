"""What the keras_lk TFDS builders share: the example features and the checks of the
official archives a user puts in a TFDS `manual_dir`."""

from __future__ import annotations

import shutil
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

import tensorflow_datasets as tfds

from keras_lk.utils.hashing import file_sha256


class ArchiveBuilder(tfds.core.GeneratorBasedBuilder):
    """Base of the keras_lk TFDS builders: a dataset prepared from the official archives
    a user puts in the `manual_dir`, whose example counts are checked against the
    official ones.

    Args:
        allow_subset: prepare archives that hold fewer examples than the official ones
            (a subset built on purpose: each short split is named in a warning and
            recorded in `subsets`).
        **kwargs: `tfds.core.DatasetBuilder`'s (``data_dir``, ``config``, ...).
    """

    def __init__(self, *, allow_subset=False, **kwargs):
        super().__init__(**kwargs)
        self.allow_subset = bool(allow_subset)
        self.subsets = []  # "what: found of expected", one per short split prepared
        self._original_state["allow_subset"] = self.allow_subset  # for pickling

    def check_count(self, what, found, expected, source):
        """`found` must equal the official `expected`, or (`allow_subset`) be 1..expected."""
        if found == expected:
            return
        hint = (f"{source} is incomplete or not the official one; to build a subset on "
                "purpose, pass --allow-subset (allow_subset=True)")
        if not self.allow_subset or not found or found > expected:
            raise ValueError(f"{what} has {found} examples, expected {expected} with the "
                             f"official archives: {hint}.")
        warnings.warn(f"Building a subset on purpose: {what} has {found} of the official "
                      f"{expected} examples ({source}).", stacklevel=3)
        self.subsets.append(f"{what}: {found} of {expected}")

    def check_split_sizes(self, found: dict, expected: dict, archives: str):
        """`check_count` of every split: `found` and `expected` map split → count."""
        for split, count in expected.items():
            self.check_count(f"Split {split!r}", found.get(split), count, archives)


def segmentation_info(builder, description: str, image_format: str, homepage: str):
    """`DatasetInfo` of every keras_lk builder: image, uint8 H×W×1 mask, file name."""
    return builder.dataset_info_from_configs(
        description=description,
        features=tfds.features.FeaturesDict(
            {
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format=image_format),
                "segmentation_mask": tfds.features.Image(shape=(None, None, 1), encoding_format="png"),
                "file_name": tfds.features.Text(),
            }
        ),
        supervised_keys=("image", "segmentation_mask"),
        homepage=homepage,
    )


def require_archive(manual_dir, file_name: str, kind: str, source: str) -> Path:
    """Returns `manual_dir / file_name` after checking it is a complete archive of `kind`.

    Args:
        manual_dir: the TFDS manual directory.
        file_name: the official archive name, e.g. `"benchmark.tgz"`.
        kind: `"tar"` (plain or compressed) or `"zip"`.
        source: where to obtain the archive, quoted in the error.

    Returns:
        The archive's path. Raises `ValueError` naming the file and where to obtain it if
        it is missing, not a `kind` archive, or truncated/corrupt.
    """
    path = Path(str(manual_dir)) / file_name
    hint = f"Download it from {source} and place it, unmodified, in {manual_dir}."
    if not path.is_file():
        raise ValueError(f"Missing archive {file_name!r} in the manual directory. {hint}")
    try:
        if kind == "tar":
            if not tarfile.is_tarfile(path):
                raise ValueError(f"{path} is not a tar archive. {hint}")
            with tarfile.open(path, mode="r:*") as archive:
                for _ in archive:  # reads every header: a truncated stream raises
                    pass
        elif kind == "zip":
            if not zipfile.is_zipfile(path):
                raise ValueError(f"{path} is not a zip archive. {hint}")
            with zipfile.ZipFile(path) as archive:
                archive.namelist()
        else:
            raise ValueError(f"`kind` must be 'tar' or 'zip', received {kind!r}.")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"Archive {path} is truncated or corrupt ({type(error).__name__}: {error}). {hint}"
        ) from error
    return path


def archive_checksum(path) -> str:
    """SHA-256 of a file (the key of its extraction)."""
    return file_sha256(path)


def extract_tar(dl_manager, archive) -> Path:
    """Extracts a tar archive once per *content*: into a folder named by its checksum.

    TFDS's `dl_manager.extract` keys a manual file's extraction by its path, so after a
    user replaces a broken archive the old extraction would be reused, and an extraction
    cut short by a kill would be taken as complete. Here the folder is
    ``<download_dir>/keras_lk_extracted/<name>.<sha256[:16]>`` and is used only once its
    ``.complete`` marker exists; anything else in it is extracted afresh.
    """
    archive = Path(archive)
    root = Path(dl_manager.download_dir) / "keras_lk_extracted"
    target = root / f"{archive.name}.{archive_checksum(archive)[:16]}"
    marker = target / ".complete"
    if marker.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        shutil.rmtree(target, ignore_errors=True)
        raise ValueError(f"Archive {archive} could not be extracted "
                         f"({type(error).__name__}: {error}).") from None
    marker.write_text(str(archive))
    return target


def read_ids(path, what: str) -> list[str]:
    """Reads an image-set file (one id per line), raising a clear error if it is missing."""
    path = Path(str(path))
    if not path.is_file():
        raise ValueError(
            f"Missing {what} list {path}: the archive does not have the official layout."
        )
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def load_image(source, name: str):
    """Opens and fully decodes an image (a path or a file object) with PIL.

    Decoding the whole image here, while the dataset is prepared, turns a truncated or
    corrupt file into an error naming it; TFDS would otherwise fail later with a bare
    "Truncated File Read".
    """
    from PIL import Image

    try:
        image = Image.open(source)
        image.load()
    except (OSError, SyntaxError, ValueError) as error:  # PIL's errors for broken files
        raise ValueError(
            f"Image {name} in the archive is corrupt or truncated ({error}); replace the "
            "archive with an intact copy."
        ) from None
    return image
