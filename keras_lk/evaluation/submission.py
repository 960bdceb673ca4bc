"""Test-set submissions for the PASCAL VOC 2012 and Cityscapes evaluation servers.

Neither test set has public labels (GCN Tables 8 and 10, FCRN Tables 5 and 6): a model's
test score comes from uploading its label maps. This module reads the test images from
the official archives, predicts each with a test-time protocol (the one the model was
validated with: scales, flip, sliding window, CRF) and writes the archive each server
takes:

- VOC 2012: ``results/VOC2012/Segmentation/comp6_test_cls/<id>.png``, palette PNGs of
  the 21 class indices, in a ``.tar.gz`` (comp6: trained with data beyond VOC, as GCN's
  COCO stage is; ``competition="comp5"`` for VOC-only training). Test images: the
  server's ``VOC2012test.tar`` (1,456 segmentation test images).
- Cityscapes: one PNG of labelIds (not trainIds) per image, named
  ``<city>_<seq>_<frame>_pred.png`` under ``<city>/``, in a ``.zip``. Test images:
  ``leftImg8bit/test`` of ``leftImg8bit_trainvaltest.zip`` (1,525 images).
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zipfile

import numpy as np

from keras_lk.data.builders._archives import load_image, require_archive

VOC_TEST_ARCHIVE = "VOC2012test.tar"
VOC_TEST_SOURCE = "the PASCAL VOC evaluation server (http://host.robots.ox.ac.uk:8080/)"
VOC_TEST_IMAGES = 1456
CITYSCAPES_ARCHIVE = "leftImg8bit_trainvaltest.zip"
CITYSCAPES_SOURCE = "https://www.cityscapes-dataset.com/downloads/"
CITYSCAPES_TEST_IMAGES = 1525

_VOC_LIST = re.compile(r"(^|/)VOC2012/ImageSets/Segmentation/test\.txt$")
_CITYSCAPES_TEST = re.compile(r"^leftImg8bit/test/([^/]+)/([^/]+)_leftImg8bit\.png$")


def voc_test_images(manual_dir, num_images=None):
    """``(id, uint8 H×W×3 image)`` of the VOC 2012 segmentation test set, in list order.

    Args:
        manual_dir: directory holding ``VOC2012test.tar``.
        num_images: only the first this many (None: all, checked to be 1,456).
    """
    path = require_archive(manual_dir, VOC_TEST_ARCHIVE, "tar", VOC_TEST_SOURCE)
    with tarfile.open(path, mode="r:*") as archive:
        members = {member.name: member for member in archive.getmembers() if member.isfile()}
        lists = [name for name in members if _VOC_LIST.search(name)]
        if not lists:
            raise ValueError(f"{path} has no VOC2012/ImageSets/Segmentation/test.txt; is it "
                             f"the test archive from {VOC_TEST_SOURCE}?")
        root = lists[0][: -len("ImageSets/Segmentation/test.txt")]
        ids = archive.extractfile(members[lists[0]]).read().decode().split()
        _check_count(len(ids), VOC_TEST_IMAGES, num_images, path)
        for image_id in ids[:num_images]:
            name = f"{root}JPEGImages/{image_id}.jpg"
            if name not in members:
                raise ValueError(f"{path}: test image {name} of test.txt is missing.")
            data = archive.extractfile(members[name]).read()
            with load_image(io.BytesIO(data), name=name) as image:
                yield image_id, np.asarray(image.convert("RGB"))


def cityscapes_test_images(manual_dir, num_images=None):
    """``(<city>_<seq>_<frame>, uint8 image)`` of the Cityscapes test set, sorted by name.

    Args:
        manual_dir: directory holding ``leftImg8bit_trainvaltest.zip``.
        num_images: only the first this many (None: all, checked to be 1,525).
    """
    path = require_archive(manual_dir, CITYSCAPES_ARCHIVE, "zip", CITYSCAPES_SOURCE)
    with zipfile.ZipFile(path) as archive:
        names = sorted(name for name in archive.namelist() if _CITYSCAPES_TEST.match(name))
        _check_count(len(names), CITYSCAPES_TEST_IMAGES, num_images, path)
        for name in names[:num_images]:
            stem = _CITYSCAPES_TEST.match(name).group(2)
            with load_image(io.BytesIO(archive.read(name)), name=name) as image:
                yield stem, np.asarray(image.convert("RGB"))


def _check_count(found, expected, num_images, path):
    if num_images is None and found != expected:
        raise ValueError(f"{path} holds {found} test images, the server expects {expected}; "
                         "pass num_images to write a partial archive on purpose.")
    if num_images is not None and found < num_images:
        raise ValueError(f"{path} holds {found} test images, fewer than num_images "
                         f"({num_images}).")


def cityscapes_label_ids(train_ids):
    """trainIds (0..18, 255) → Cityscapes labelIds, the server's format (255 → 0)."""
    from keras_lk.data.builders.cityscapes import LABEL_ID_TO_TRAIN_ID

    table = np.zeros(256, np.uint8)
    for label_id, train_id in LABEL_ID_TO_TRAIN_ID.items():
        table[train_id] = label_id
    return table[np.asarray(train_ids, np.uint8)]


def write_submission(model, images, output_path, benchmark, *, scales=(1.0,), flip=False,
                     tile=None, overlap=1 / 3, crf=None, competition="comp6", verbose=1):
    """Predicts every test image and writes the server's archive; returns its path.

    Args:
        model: a `keras_lk.models.SegmentationModel` of the benchmark's classes.
        images: ``(name, image)`` pairs (`voc_test_images`, `cityscapes_test_images`).
        output_path: the archive to write (``.tar.gz`` for VOC, ``.zip`` for
            Cityscapes); written to a temporary name and renamed when complete.
        benchmark: ``"voc"`` or ``"cityscapes"``.
        scales, flip, tile, overlap, crf: the test-time protocol
            (`keras_lk.evaluation.evaluate_segmentation`).
        competition: the VOC competition folder, ``"comp6"`` (outside training data)
            or ``"comp5"`` (VOC only).
        verbose: print progress every 100 images.
    """
    from PIL import Image

    from keras_lk.data.palettes import voc_palette
    from keras_lk.evaluation.evaluate import predict_labels

    expected = {"voc": 21, "cityscapes": 19}
    if benchmark not in expected:
        raise ValueError(f"`benchmark` must be one of {tuple(expected)}, received {benchmark!r}.")
    if model.num_classes != expected[benchmark]:
        raise ValueError(f"the {benchmark} server scores {expected[benchmark]} classes, the "
                         f"model predicts {model.num_classes}.")
    if competition not in ("comp5", "comp6"):
        raise ValueError(f"`competition` must be 'comp5' or 'comp6', received {competition!r}.")
    suffix = ".tar.gz" if benchmark == "voc" else ".zip"
    if not str(output_path).endswith(suffix):
        raise ValueError(f"the {benchmark} submission is a {suffix} file, received "
                         f"{output_path!r}.")
    os.makedirs(os.path.dirname(os.path.abspath(output_path)) or ".", exist_ok=True)
    partial = f"{output_path}.partial"
    palette = voc_palette().reshape(-1).tolist()
    count = 0
    with (tarfile.open(partial, "w:gz") if benchmark == "voc"
          else zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED)) as archive:
        for name, image in images:
            labels = predict_labels(model, image[None], scales=scales, flip=flip, tile=tile,
                                    overlap=overlap, crf=crf)[0].astype(np.uint8)
            buffer = io.BytesIO()
            if benchmark == "voc":
                png = Image.fromarray(labels, mode="P")
                png.putpalette(palette)
                png.save(buffer, format="PNG")
                member = tarfile.TarInfo(
                    f"results/VOC2012/Segmentation/{competition}_test_cls/{name}.png")
                member.size = buffer.tell()
                buffer.seek(0)
                archive.addfile(member, buffer)
            else:
                Image.fromarray(cityscapes_label_ids(labels)).save(buffer, format="PNG")
                archive.writestr(f"{name.split('_')[0]}/{name}_pred.png", buffer.getvalue())
            count += 1
            if verbose and count % 100 == 0:
                print(f"keras-lk: {count} test images predicted", flush=True)
    if not count:
        os.remove(partial)
        raise ValueError("no test image to predict.")
    os.replace(partial, output_path)
    if verbose:
        print(f"keras-lk: wrote {count} label maps to {output_path}", flush=True)
    return output_path
