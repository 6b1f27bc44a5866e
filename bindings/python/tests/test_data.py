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
        # Two shards of batch 3 split each batch of 6 between them.
        shards = [alexnet.Loader(ds, batch_size=3, seed=2, random_crop=True, pad=1, flip=True,
                                 shard_count=2, shard_index=r) for r in range(2)]
        assert [len(shard) for shard in shards] == [4, 4]
        whole = [x for x, _ in loader.epoch(0)]
        parts = [[x for x, _ in shard.epoch(0)] for shard in shards]
        for b in range(4):
            np.testing.assert_array_equal(np.concatenate([parts[0][b], parts[1][b]]), whole[b])
        with pytest.raises(alexnet.InvalidArgumentError, match="shard_index is 2"):
            alexnet.Loader(ds, shard_count=2, shard_index=2)
    with pytest.raises(alexnet.FormatError, match="magic number"):
        alexnet.Dataset.idx(labels_path, labels_path)


def test_image_transforms_match_numpy():
    rng = np.random.default_rng(7)
    image = rng.random((3, 5, 7), dtype=np.float32)
    np.testing.assert_array_equal(alexnet.flip(image), image[:, :, ::-1])
    batch = rng.random((2, 3, 4, 6), dtype=np.float32)
    np.testing.assert_array_equal(alexnet.flip(batch), batch[..., ::-1])
    mean, std = np.array([0.5, 0.4, 0.3], np.float32), np.array([0.2, 0.25, 0.3], np.float32)
    np.testing.assert_allclose(alexnet.normalize(image, mean, std),
                               (image - mean[:, None, None]) / std[:, None, None], rtol=1e-6)
    before = image.copy()
    alexnet.flip(image), alexnet.normalize(image, mean, std)
    np.testing.assert_array_equal(image, before)  # the inputs are not changed
    window = alexnet.crop(image, -1, 2, 4, 7)  # one row above the image, three columns past it
    assert window.shape == (3, 4, 7)
    np.testing.assert_array_equal(window[:, 1:, :5], image[:, :3, 2:])
    assert not window[:, 0].any() and not window[:, :, 5:].any()
    with pytest.raises(ValueError, match="mean has 2 values"):
        alexnet.normalize(image, [0.5, 0.5], std)


def test_colour_pca_and_jitter_follow_the_paper():
    rng = np.random.default_rng(3)
    # Pixels with a strong, known correlation between the channels.
    base = rng.random((2, 1, 9, 11), dtype=np.float32)
    images = [np.concatenate([b, 0.5 * b + 0.1, 1.0 - b], axis=0)
              + 0.01 * rng.random((3, 9, 11), dtype=np.float32) for b in base]
    values, vectors = alexnet.color_pca_fit(images)
    pixels = np.concatenate([im.reshape(3, -1) for im in images], axis=1).astype(np.float64)
    expected_values, expected_vectors = np.linalg.eigh(np.cov(pixels, bias=True))
    order = np.argsort(expected_values)[::-1]
    np.testing.assert_allclose(values, expected_values[order], rtol=1e-3, atol=1e-6)
    principal = expected_vectors[:, order[0]]
    assert abs(abs(float(vectors[:, 0] @ principal)) - 1.0) < 1e-4  # the same axis, either sign
    alpha = np.array([0.1, -0.05, 0.02], np.float32)
    shifted = alexnet.color_jitter(images[0], (values, vectors), alpha)
    shift = vectors.astype(np.float64) @ (alpha.astype(np.float64) * values)
    np.testing.assert_allclose(shifted, images[0] + shift[:, None, None], rtol=1e-6, atol=1e-6)
    with pytest.raises(alexnet.ShapeError):
        alexnet.color_pca_fit([np.zeros((1, 4, 4), np.float32)])
    with pytest.raises(alexnet.NumericError):
        alexnet.color_jitter(images[0], (values, vectors), [np.nan, 0.0, 0.0])


def test_preprocessing_in_one_call_matches_numpy():
    rng = np.random.default_rng(3)
    image = rng.random((3, 20, 30), dtype=np.float32)
    # Caffe's, without resizing: the centre 16 x 16, B G R, x 255 minus the mean pixel.
    caffe = dict(alexnet.preprocessing("caffe"), resize="none")
    assert caffe["channels"] == "bgr" and caffe["scale"] == 255.0
    out = alexnet.preprocess(image, caffe, 16, 16)
    centre = image[::-1, 2:18, 7:23] * np.float32(255)
    want = centre - np.asarray(caffe["mean"], np.float32)[:, None, None]
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-4)
    # ImageNet's: the shorter side to 256 (256 x 384), then the centre 224 x 224.
    out = alexnet.preprocess(image)
    assert out.shape == (3, 224, 224)
    whole = alexnet.preprocess(image, "imagenet", 0, 0)
    assert whole.shape == (3, 256, 384)
    np.testing.assert_array_equal(out, whole[:, 16:240, 80:304])
    with pytest.raises(alexnet.ShapeError, match="the image is grey"):
        alexnet.preprocess(image[:1], "caffe")
    with pytest.raises(alexnet.InvalidArgumentError, match="preprocessing.scale is 0"):
        alexnet.preprocess(image, dict(caffe, scale=0))
    with pytest.raises(TypeError, match="unknown preprocessing key colour"):
        alexnet.preprocess(image, {"colour": "red"})
    with pytest.raises(ValueError, match="kind must be one of"):
        alexnet.preprocessing("opencv")


def test_networks_carry_caffe_settings_and_preprocessing(tmp_path):
    net = alexnet.Network("mini", in_channels=3, height=30, width=30, pool_ceil=1, lrn_size=3,
                          lrn_alpha=1e-4, lrn_k=1.0, seed=2)
    assert net.config["pool_ceil"] == 1 and net.config["lrn_size"] == 3
    assert net.preprocessing == dict(alexnet.preprocessing("imagenet"), side=34)  # the default
    net.preprocessing = "caffe"
    image = np.random.default_rng(4).random((3, 50, 40), dtype=np.float32)
    prepared = net.prepare(image)
    assert prepared.shape == (3, 30, 30)
    np.testing.assert_array_equal(prepared, alexnet.preprocess(image, "caffe", 30, 30))
    net.save(tmp_path / "caffe.safetensors")
    with alexnet.Network.load(tmp_path / "caffe.safetensors") as back:
        assert back.config == net.config
        assert back.preprocessing == alexnet.preprocessing("caffe")
        np.testing.assert_array_equal(back.forward(prepared[None]), net.forward(prepared[None]))
    net.preprocessing = None
    assert net.preprocessing["channels"] == "rgb"
    with pytest.raises(alexnet.InvalidArgumentError, match="config.lrn_size is 0"):
        alexnet.Network("mini", lrn_size=0)
    grey = alexnet.Network("mini")
    with pytest.raises(alexnet.InvalidArgumentError, match="BGR input asked of a network of 1"):
        grey.preprocessing = "caffe"
