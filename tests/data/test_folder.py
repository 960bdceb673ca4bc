"""Your own dataset: a folder of images and label PNGs, from Python and the CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_lk.data import DATASETS, folder_dataset
from keras_lk.data.folder import folder_info

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _save_image(path, k, size=(24, 32)):
    image = np.zeros((*size, 3), np.uint8)
    image[..., 0] = (40 * k) % 256
    image[size[0] // 2:, :, 1] = 200
    Image.fromarray(image).save(path)


def _save_label(path, values, size=(24, 32), mode="P"):
    label = np.zeros(size, np.uint8)
    label[size[0] // 2:, : size[1] // 2] = values[0]
    label[size[0] // 2:, size[1] // 2:] = values[1]
    image = Image.fromarray(label, mode="L")
    if mode == "P":
        image = image.convert("P")
        image.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [255] * 759)
    image.save(path)


def write_folder(root, count=6, layout=("images", "labels"), classes=("background", "cat", "dog"),
                 spec=None):
    """A folder dataset: `count` images (.jpg) and palette label PNGs (0..2, 255)."""
    image_dir, label_dir = root / layout[0], root / layout[1]
    image_dir.mkdir(parents=True)
    label_dir.mkdir(parents=True)
    for k in range(count):
        _save_image(image_dir / f"photo_{k}.jpg", k)
        _save_label(label_dir / f"photo_{k}.png", (1 + k % 2, 255))
    if classes is not None:
        (root / "dataset.json").write_text(json.dumps(
            {"classes": list(classes), "val_fraction": 0.34, **(spec or {})}))
    return root


def test_folder_examples_match_the_builders_and_splits_are_stable(tmp_path):
    root = write_folder(tmp_path / "data")
    train = list(folder_dataset(root, "train").as_numpy_iterator())
    val = list(folder_dataset(root, "val").as_numpy_iterator())
    names = sorted(e["file_name"].decode() for e in train + val)
    assert names == [f"photo_{k}.jpg" for k in range(6)] and train and val
    example = train[0]
    assert example["image"].shape == (24, 32, 3) and example["image"].dtype == np.uint8
    mask = example["segmentation_mask"]
    assert mask.shape == (24, 32, 1) and set(np.unique(mask)) <= {0, 1, 2, 255}
    # Adding an image moves no other between splits (the split is a hash of the stem).
    _save_image(root / "images" / "photo_9.jpg", 9)
    _save_label(root / "labels" / "photo_9.png", (1, 2))
    again = {e["file_name"].decode() for e in folder_dataset(root, "val").as_numpy_iterator()}
    assert {e["file_name"].decode() for e in val} <= again
    info = DATASETS["folder"].for_data_dir(str(root))
    assert (info.num_classes, info.class_names, info.splits) == (
        3, ("background", "cat", "dog"), ("train", "val"))
    assert info.model_arguments()["class_names"] == ["background", "cat", "dog"]


def test_voc_and_labelme_layouts_with_split_lists(tmp_path):
    root = write_folder(tmp_path / "voc", layout=("JPEGImages", "SegmentationClassPNG"),
                        classes=None)
    (root / "class_names.txt").write_text("__ignore__\n_background_\ncat\ndog\n")
    lists = root / "ImageSets" / "Segmentation"
    lists.mkdir(parents=True)
    (lists / "train.txt").write_text("photo_0\nphoto_1\nphoto_2\n")
    (lists / "val.txt").write_text("photo_3\n")
    (lists / "trainval.txt").write_text("photo_0\nphoto_3\n")
    info = folder_info(str(root))
    assert info.class_names == ("_background_", "cat", "dog")
    assert info.splits == ("train", "trainval", "val")
    assert len(list(info.load("trainval", data_dir=str(root)).as_numpy_iterator())) == 2
    with pytest.raises(ValueError, match="`split` of dataset 'folder' must be one of"):
        info.load("test", data_dir=str(root))


@pytest.mark.parametrize(("break_it", "message"), [
    (lambda r: os.remove(r / "labels" / "photo_2.png"),
     r"photo_2.jpg has no label with the stem 'photo_2'"),
    (lambda r: _save_label(r / "labels" / "photo_0.png", (3, 1)),
     r"photo_0.png holds values \[3\], outside 0..2 and the ignore label 255"),
    (lambda r: _save_label(r / "labels" / "photo_0.png", (1, 2), size=(20, 32)),
     r"photo_0.png is 32×20, its image .*photo_0.jpg 32×24"),
    (lambda r: (r / "images" / "photo_0.jpg").write_bytes(b"not a jpeg"),
     r"Image .*photo_0.jpg cannot be read"),
    (lambda r: Image.new("RGB", (32, 24), (128, 0, 0)).save(r / "labels" / "photo_0.png"),
     r"photo_0.png is a PIL mode 'RGB' image; labels must be palette"),
    (lambda r: _save_image(r / "images" / "photo_0.png", 0),
     r"share the stem 'photo_0'"),
    (lambda r: (r / "dataset.json").write_text('{"classes": []}'),
     r"'classes' must be a non-empty list"),
])
def test_every_bad_folder_names_the_file(tmp_path, break_it, message):
    root = write_folder(tmp_path / "data")
    break_it(root)
    with pytest.raises(ValueError, match=message):
        for split in ("train", "val"):
            list(folder_dataset(root, split).as_numpy_iterator())


def test_a_missing_folder_or_class_list_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        DATASETS["folder"].for_data_dir(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither dataset.json nor class_names.txt"):
        folder_info(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="read from its --data-dir"):
        DATASETS["folder"].load("train", data_dir=str(tmp_path))


@pytest.mark.slow
def test_train_and_evaluate_a_folder_from_the_cli(tmp_path):
    root = write_folder(tmp_path / "data", count=8,
                        spec={"palette": [[0, 0, 0], [200, 0, 0], [0, 200, 0]]})
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    run = [sys.executable, "-m", "keras_lk.cli"]
    out = tmp_path / "run"
    subprocess.run([*run, "train", "--dataset", "folder", "--data-dir", str(root),
                    "--backbone", "resnet10_narrow", "--model-option", "k=3",
                    "--crop-size", "32", "--batch-size", "2", "--steps", "2",
                    "--steps-per-epoch", "1", "--output-dir", str(out), "--no-tensorboard",
                    "--verbose", "0"], env=env, check=True, capture_output=True, text=True)
    result = subprocess.run([*run, "evaluate", "--model-path", str(out / "model.keras"),
                             "--dataset", "folder", "--data-dir", str(root)], env=env,
                            check=True, capture_output=True, text=True)
    assert "mIoU" in result.stdout or "miou" in result.stdout
    from keras_lk.models import load_model

    model = load_model(str(out / "model.keras"))
    assert model.class_names == ["background", "cat", "dog"]
    assert [list(c) for c in model.palette] == [[0, 0, 0], [200, 0, 0], [0, 200, 0]]
