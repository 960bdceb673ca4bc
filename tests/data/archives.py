"""Writers of tiny archives with the official layouts and formats, for builder tests."""

import contextlib
import gzip
import io
import json
import tarfile
import zipfile

import numpy as np
from PIL import Image

from keras_lk.data import voc_palette


def jpeg_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def png_bytes(array, palette=False):
    """A grey PNG, or a palette PNG (VOC colours) whose indices are `array`."""
    buffer = io.BytesIO()
    if palette:
        image = Image.frombytes("P", array.shape[::-1], np.ascontiguousarray(array).tobytes())
        image.putpalette(voc_palette().ravel().tolist())
    else:
        image = Image.fromarray(array, mode="L")
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rgb_png_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


MAT_HEADER = b"MATLAB 5.0 MAT-file, written by the keras_lk tests".ljust(116)


def mat_bytes(mask):
    import scipy.io

    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {"GTcls": {"Segmentation": mask, "Boundaries": np.zeros(1)}})
    # The 116-byte text header carries the time of writing ("Created on: ..."): a fixed
    # one makes the same mask give the same bytes (see `write_tar`).
    return MAT_HEADER + buffer.getvalue()[len(MAT_HEADER):]


def write_tar(path, files, mode="w"):
    """`files`: {member name: bytes}; `mode` ``"w"`` or ``"w:gz"``. The same files give
    the same bytes: the members' and the gzip header's times are 0 and the header names
    no file (with the time of writing, a .tgz written twice in different seconds
    differed, and a test that keys extraction by the archive's checksum saw two)."""
    if mode not in ("w", "w:gz"):
        raise ValueError(f"`mode` must be 'w' or 'w:gz', received {mode!r}.")
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(path, "wb"))
        if mode == "w:gz":
            out = stack.enter_context(gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0))
        archive = stack.enter_context(tarfile.open(fileobj=out, mode="w"))
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


def write_zip(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)


def lines(ids):
    return ("\n".join(ids) + "\n").encode()


def json_bytes(value):
    return json.dumps(value).encode()


def write_voc_test(manual_dir, ids=("2008_000001", "2008_000002"), size=(40, 56)):
    """A tiny `VOC2012test.tar` of the server's layout: the test list and its JPEGs."""
    manual_dir.mkdir(parents=True, exist_ok=True)
    root = "VOCdevkit/VOC2012/"
    files = {root + "ImageSets/Segmentation/test.txt": lines(ids)}
    for k, image_id in enumerate(ids):
        files[f"{root}JPEGImages/{image_id}.jpg"] = jpeg_bytes(
            np.full((*size, 3), 40 * (k + 1), np.uint8))
    write_tar(manual_dir / "VOC2012test.tar", files)


def write_imagenet(manual_dir, images_per_class=2, num_val=2, size=(40, 48)):
    """Tiny `ILSVRC2012_img_train.tar` (a tar of per-synset tars) and
    `ILSVRC2012_img_val.tar` of the official layout, for the TFDS imagenet2012 builder.
    Classes: the first two synsets of TFDS's label list; the validation images take the
    first labels of TFDS's validation list (which names them by sorted file name)."""
    import tensorflow_datasets as tfds

    root = tfds.core.tfds_path("datasets/imagenet2012")
    synsets = (root / "labels.txt").read_text().split()[:2]
    manual_dir.mkdir(parents=True, exist_ok=True)
    inner = {}
    for k, synset in enumerate(synsets):
        files = {f"{synset}_{i}.JPEG": jpeg_bytes(np.full((*size, 3), 60 + 120 * k, np.uint8))
                 for i in range(images_per_class)}
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, content in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
        inner[f"{synset}.tar"] = buffer.getvalue()
    write_tar(manual_dir / "ILSVRC2012_img_train.tar", inner)
    write_tar(manual_dir / "ILSVRC2012_img_val.tar", {
        f"ILSVRC2012_val_{i + 1:08d}.JPEG": jpeg_bytes(np.full((*size, 3), 90, np.uint8))
        for i in range(num_val)})
    return synsets
