import archives
import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_lk.data.builders import coco_voc

# pycocotools 2.0.11 under NumPy 2 warns inside its own mask decoding.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CATEGORIES = [
    {"id": i, "name": n, "supercategory": "x"}
    for i, n in [(1, "person"), (3, "car"), (18, "dog"), (25, "giraffe"), (62, "chair")]
]


def _rect(annotation_id, image_id, category, x0, y0, x1, y1, crowd=0):
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category,
        "iscrowd": crowd,
        "segmentation": [[x0, y0, x1, y0, x1, y1, x0, y1]],
        "area": float((x1 - x0) * (y1 - y0)),
        "bbox": [x0, y0, x1 - x0, y1 - y0],
    }


def _image(image_id, height=60, width=80):
    return {"id": image_id, "file_name": f"{image_id:012d}.jpg", "height": height, "width": width}


TRAIN = {
    "images": [_image(1), _image(2), _image(3), _image(4)],
    "annotations": [
        _rect(1, 1, 1, 10, 10, 50, 50),  # person 40×40: kept
        _rect(2, 2, 3, 0, 0, 20, 20),  # car 20×20 = 400 px: dropped ...
        _rect(3, 2, 25, 0, 0, 80, 60),  # ... the giraffe (not VOC) does not count
        _rect(4, 3, 1, 0, 0, 40, 40),  # person and dog overlap: 255
        _rect(5, 3, 18, 20, 20, 60, 60),
        _rect(6, 4, 25, 0, 0, 60, 60),  # giraffe only: dropped
    ],
    "categories": CATEGORIES,
}
VAL = {
    "images": [_image(5), _image(6, 30, 40)],
    "annotations": [_rect(7, 5, 62, 0, 0, 50, 50), _rect(8, 5, 1, 60, 0, 80, 20, crowd=1)],
    "categories": CATEGORIES,
}


def write_coco(manual_dir):
    manual_dir.mkdir(parents=True, exist_ok=True)
    archives.write_zip(
        manual_dir / coco_voc.ANNOTATIONS_ZIP,
        {
            "annotations/instances_train2017.json": archives.json_bytes(TRAIN),
            "annotations/instances_val2017.json": archives.json_bytes(VAL),
        },
    )
    for split, content in (("train", TRAIN), ("val", VAL)):
        files = {}
        for info in content["images"]:
            image = np.full((info["height"], info["width"], 3), 128, np.uint8)
            files[f"{split}2017/{info['file_name']}"] = archives.jpeg_bytes(image)
        archives.write_zip(manual_dir / coco_voc.IMAGE_ZIPS[split], files)


def test_coco_voc_builder(tmp_path, monkeypatch):
    monkeypatch.setattr(coco_voc.CocoVoc, "EXPECTED_IMAGES", {"train": 4, "val": 2})
    write_coco(tmp_path / "manual")
    config = tfds.download.DownloadConfig(manual_dir=str(tmp_path / "manual"))
    splits = tfds.load(
        "coco_voc",
        data_dir=str(tmp_path / "data"),
        download_and_prepare_kwargs={"download_config": config},
    )
    train = {ex["file_name"].decode(): ex for ex in splits["train"].as_numpy_iterator()}
    val = {ex["file_name"].decode(): ex for ex in splits["val"].as_numpy_iterator()}
    assert sorted(train) == ["000000000001.jpg", "000000000003.jpg"]
    assert sorted(val) == ["000000000005.jpg"]
    person = train["000000000001.jpg"]["segmentation_mask"][..., 0]
    assert person.shape == (60, 80) and train["000000000001.jpg"]["image"].shape == (60, 80, 3)
    assert set(np.unique(person)) == {0, 15}
    assert abs(np.sum(person == 15) - 1600) < 100
    overlap = train["000000000003.jpg"]["segmentation_mask"][..., 0]
    assert overlap[30, 30] == 255 and overlap[5, 5] == 15 and overlap[55, 55] == 12
    assert abs(np.sum(overlap == 255) - 400) < 60
    chair = val["000000000005.jpg"]["segmentation_mask"][..., 0]
    assert chair[25, 25] == 9 and chair[10, 70] == 255  # crowd person → void


def test_wrong_annotations_are_reported(tmp_path):
    write_coco(tmp_path / "manual")
    builder = coco_voc.CocoVoc(data_dir=str(tmp_path / "data"))
    with pytest.raises(ValueError, match="instances_train2017.json has 4 examples, expected 118287"):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path / "manual"))
        )


def test_voc_coco_mapping_is_a_bijection_onto_voc_classes():
    assert sorted(coco_voc.VOC_TO_COCO) == list(range(1, 21))
    assert len(set(coco_voc.VOC_TO_COCO.values())) == 20
    assert coco_voc.VOC_TO_COCO[15] == 1 and coco_voc.VOC_TO_COCO[20] == 72
