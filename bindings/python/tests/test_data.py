"""Images, data sets and loaders from Python."""
import gzip
import struct

import numpy as np
import pytest

import alexnet


def write_idx(tmp_path, n=20, side=8, compressed=True):
    images = (np.arange(n * side * side) % 256).astype(np.uint8).reshape(n, side, side)
    labels = (np.arange(n) % 4).astype(np.uint8)
    raw_images = struct.pack(">BBBBIII", 0, 0, 8, 3, n, side, side) + images.tobytes()
    raw_labels = struct.pack(">BBBBI", 0, 0, 8, 1, n) + labels.tobytes()
    opener = gzip.open if compressed else open
    paths = tmp_path / "images.idx.gz", tmp_path / "labels.idx.gz"
    with opener(paths[0], "wb") as f:
        f.write(raw_images)
    with opener(paths[1], "wb") as f:
        f.write(raw_labels)
    return paths, images, labels


def test_png_round_trip_and_decoding(tmp_path):
    image = np.random.default_rng(0).random((3, 9, 13), dtype=np.float32)
    alexnet.save_png(image, tmp_path / "a.png")
    loaded = alexnet.load_image(tmp_path / "a.png", channels=3)
    assert loaded.shape == (3, 9, 13) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, np.round(image * 255) / 255, atol=1e-6)
    grey = alexnet.decode_image((tmp_path / "a.png").read_bytes(), channels=1)
    assert grey.shape == (1, 9, 13)
    assert alexnet.resize_shorter(loaded, 18).shape == (3, 18, 26)
    assert alexnet.resize(loaded, 4, 5).shape == (3, 4, 5)
    with pytest.raises(alexnet.FormatError, match="neither a PNG nor a JPEG"):
        alexnet.decode_image(b"hello, world")


def test_limits_bound_untrusted_files(tmp_path):
    defaults = alexnet.get_limits()
    assert defaults["max_image_pixels"] == 1 << 26 and defaults["max_model_bytes"] == 4 << 30
    image = np.zeros((1, 20, 30), dtype=np.float32)
    alexnet.save_png(image, tmp_path / "a.png")
    try:
        alexnet.set_limits(max_image_pixels=599)
        assert alexnet.get_limits() == dict(defaults, max_image_pixels=599)
        with pytest.raises(alexnet.FormatError, match=r"claims 30x20 pixels.*max_image_pixels"):
            alexnet.load_image(tmp_path / "a.png")
        with pytest.raises(alexnet.InvalidArgumentError, match="max_image_side is 0"):
            alexnet.set_limits(max_image_side=0)
        with pytest.raises(TypeError, match="unknown limit max_pixels"):
            alexnet.set_limits(max_pixels=1)
        assert alexnet.get_limits()["max_image_pixels"] == 599  # refused calls change nothing
    finally:
        alexnet.reset_limits()
    assert alexnet.get_limits() == defaults
    assert alexnet.load_image(tmp_path / "a.png", channels=1).shape == (1, 20, 30)


def test_idx_dataset_and_loader(tmp_path):
    (images_path, labels_path), images, labels = write_idx(tmp_path)
    with alexnet.Dataset.idx(images_path, labels_path) as ds:
        assert len(ds) == 20
        assert ds.class_names == ["0", "1", "2", "3"]
        image, label = ds[3]
        np.testing.assert_allclose(image[0], images[3] / 255.0, atol=1e-7)
        assert label == labels[3]
        loader = alexnet.Loader(ds, batch_size=6, seed=2, random_crop=True, pad=1, flip=True)
        assert len(loader) == 4
        seen = []
        for x, y in loader.epoch(0):
            assert x.dtype == np.float32 and x.shape[1:] == (1, 8, 8)
            seen.extend(y.tolist())
        assert sorted(seen) == sorted(labels.tolist())
        again = [y.tolist() for _, y in loader.epoch(0)]
        assert sum(again, []) == seen  # the same epoch, the same order
    with pytest.raises(alexnet.FormatError, match="magic number"):
        alexnet.Dataset.idx(labels_path, labels_path)
