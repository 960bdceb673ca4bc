"""Server submissions (GCN Tables 8 and 10): test images read from the official
archives, label maps written in each server's layout and format."""

import io
import os
import sys
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from keras_lk.data.builders.cityscapes import LABEL_ID_TO_TRAIN_ID
from keras_lk.evaluation import submission
from keras_lk.models import GCNSeg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "data"))
import archives
from test_cityscapes import FRAMES, write_cityscapes


def _model(num_classes):
    return GCNSeg(num_classes=num_classes, k=3, backbone="resnet10_narrow")


def test_voc_submission_has_the_server_layout(tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "VOC_TEST_IMAGES", 2)
    archives.write_voc_test(tmp_path)
    images = list(submission.voc_test_images(tmp_path))
    assert [name for name, _ in images] == ["2008_000001", "2008_000002"]
    assert images[0][1].shape == (40, 56, 3) and images[0][1].dtype == np.uint8
    path = submission.write_submission(_model(21), images, str(tmp_path / "voc.tar.gz"), "voc",
                                       flip=True, verbose=0)
    with tarfile.open(path) as archive:
        names = archive.getnames()
        assert names == [f"results/VOC2012/Segmentation/comp6_test_cls/2008_00000{i}.png"
                         for i in (1, 2)]
        png = Image.open(io.BytesIO(archive.extractfile(names[0]).read()))
    assert png.mode == "P" and png.size == (56, 40)
    assert np.asarray(png).max() <= 20 and png.getpalette()[3:6] == [128, 0, 0]
    assert not os.path.exists(path + ".partial")


def test_cityscapes_submission_writes_label_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "CITYSCAPES_TEST_IMAGES", len(FRAMES["test"]))
    write_cityscapes(tmp_path, "gtFine", submission.CITYSCAPES_ARCHIVE,
                     "gtFine_trainvaltest.zip", ["train", "val", "test"])
    images = list(submission.cityscapes_test_images(tmp_path))
    assert [name for name, _ in images] == sorted(FRAMES["test"])
    path = submission.write_submission(_model(19), images, str(tmp_path / "cs.zip"),
                                       "cityscapes", verbose=0)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        label = np.asarray(Image.open(io.BytesIO(archive.read(names[0]))))
    stem = min(FRAMES["test"])
    assert names[0] == f"{stem.split('_')[0]}/{stem}_pred.png" and len(names) == len(images)
    assert set(np.unique(label)) <= set(LABEL_ID_TO_TRAIN_ID)  # labelIds, not trainIds
    np.testing.assert_array_equal(submission.cityscapes_label_ids(np.arange(19)),
                                  sorted(LABEL_ID_TO_TRAIN_ID))


def test_bad_submissions_are_refused(tmp_path):
    archives.write_voc_test(tmp_path)
    with pytest.raises(ValueError, match="holds 2 test images, the server expects 1456"):
        list(submission.voc_test_images(tmp_path))
    images = list(submission.voc_test_images(tmp_path, num_images=1))
    assert len(images) == 1
    with pytest.raises(ValueError, match="scores 21 classes, the model predicts 19"):
        submission.write_submission(_model(19), images, str(tmp_path / "a.tar.gz"), "voc")
    with pytest.raises(ValueError, match="is a .tar.gz file"):
        submission.write_submission(_model(21), images, str(tmp_path / "a.zip"), "voc")
    with pytest.raises(ValueError, match="Missing archive 'leftImg8bit_trainvaltest.zip'"):
        list(submission.cityscapes_test_images(tmp_path / "empty"))
