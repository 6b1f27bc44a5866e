"""Images, data sets and batch loaders."""
import contextlib
import ctypes
from ctypes import c_void_p

import numpy as np

from ._errors import check
from . import _values
from ._handle import Owned, NativeHandle, WrappedArray, as_float32, owned_tensor, tensor_view
from ._native import ColorPca, LoaderConfig, Preprocessing, c_float_p, c_int32, c_int32_p, lib


def load_image(path, channels=3):
    """A PNG or JPEG file as float32 [channels, H, W] in [0, 1] (channels 1 or 3)."""
    pointer = ctypes.c_void_p()
    check(lib.alexnet_image_load(ctypes.byref(pointer), str(path).encode(), channels))
    return owned_tensor(pointer)


def decode_image(data, channels=3):
    """PNG or JPEG bytes as float32 [channels, H, W] in [0, 1]."""
    data = bytes(data)
    pointer = ctypes.c_void_p()
    check(lib.alexnet_image_decode(ctypes.byref(pointer), data, len(data), channels))
    return owned_tensor(pointer)


def save_png(image, path):
    """Writes [C, H, W] (C 1 or 3, values clamped to [0, 1]) as an 8-bit PNG."""
    with WrappedArray(as_float32(image, "image")) as t:
        check(lib.alexnet_image_save_png(t, str(path).encode()))


def resize(image, height, width):
    """[C, H, W] resized to [C, height, width] (stb_image_resize)."""
    pointer = ctypes.c_void_p()
    with WrappedArray(as_float32(image, "image")) as t:
        check(lib.alexnet_image_resize(ctypes.byref(pointer), t, height, width))
    return owned_tensor(pointer)


def resize_shorter(image, side):
    """[C, H, W] resized so that the shorter side is `side` (the paper: 256)."""
    pointer = ctypes.c_void_p()
    with WrappedArray(as_float32(image, "image")) as t:
        check(lib.alexnet_image_resize_shorter(ctypes.byref(pointer), t, side))
    return owned_tensor(pointer)


def crop(image, top, left, height, width):
    """The window of image [C, H, W] at (top, left), height x width; parts of the window past the
    image are 0 (so padding and cropping is one call)."""
    pointer = ctypes.c_void_p()
    with WrappedArray(as_float32(image, "image")) as t:
        check(lib.alexnet_image_crop(ctypes.byref(pointer), t, top, left, height, width))
    return owned_tensor(pointer)


PREPROCESSING_KINDS = {"plain": 0, "imagenet": 1, "caffe": 2}
RESIZE_MODES = {"none": 0, "shorter": 1, "square": 2}
CHANNEL_ORDERS = {"rgb": 0, "bgr": 1}


def preprocessing(kind="imagenet"):
    """A preprocessing as a dict (resize "none" / "shorter" / "square", side, channels "rgb" /
    "bgr", scale, mean, std), the form Network.preprocessing and preprocess() take: "plain"
    (pixels as decoded), "imagenet" (torchvision's: shorter side 256, ImageNet mean and std) or
    "caffe" (bvlc_alexnet's: 256 x 256, BGR in [0, 255] minus the mean pixel)."""
    struct = Preprocessing()
    check(lib.alexnet_preprocessing_init(ctypes.byref(struct),
                                         _values.enum_code(kind, PREPROCESSING_KINDS, "kind")))
    return preprocessing_dict(struct)


def preprocessing_dict(struct):
    return {"resize": _values.name_of(struct.resize, RESIZE_MODES), "side": struct.resize_side,
            "channels": _values.name_of(struct.bgr, CHANNEL_ORDERS), "scale": struct.scale,
            "mean": tuple(struct.mean), "std": tuple(struct.std)}


def preprocessing_struct(value):
    """The C struct of a preprocessing given as a kind name or a dict (keys left out keep the
    "plain" values)."""
    if isinstance(value, str):
        value = preprocessing(value)
    unknown = sorted(set(value) - {"resize", "side", "channels", "scale", "mean", "std"})
    if unknown:
        raise TypeError(f"unknown preprocessing key {', '.join(unknown)}; the keys are resize, "
                        "side, channels, scale, mean, std")
    struct = Preprocessing()
    check(lib.alexnet_preprocessing_init(ctypes.byref(struct), 0))
    struct.resize = _values.enum_code(value.get("resize", "none"), RESIZE_MODES, "resize")
    struct.resize_side = _values.integer(value.get("side", 0), "side")
    struct.bgr = _values.enum_code(value.get("channels", "rgb"), CHANNEL_ORDERS, "channels")
    struct.scale = float(value.get("scale", 1.0))
    for key in ("mean", "std"):
        values = [float(v) for v in np.asarray(value.get(key, getattr(struct, key)),
                                               dtype=np.float64).reshape(-1)]
        if len(values) == 1:
            values *= 3
        if len(values) != 3:
            raise ValueError(f"preprocessing {key} needs 1 or 3 values, not {len(values)}")
        getattr(struct, key)[:] = values
    return struct


def preprocess(image, preprocessing="imagenet", height=224, width=224):
    """A decoded image [C, H, W] in [0, 1] prepared in one call (alexnet_image_preprocess):
    resized, centre cropped to height x width (0, 0: not cropped), channels swapped for BGR,
    scaled, normalised. `preprocessing` is a kind name or a dict as preprocessing() gives; the
    default is the standard ImageNet preprocessing at 224 x 224."""
    struct = preprocessing_struct(preprocessing)
    pointer = ctypes.c_void_p()
    with WrappedArray(as_float32(image, "image")) as t:
        check(lib.alexnet_image_preprocess(ctypes.byref(pointer), t, ctypes.byref(struct),
                                           _values.integer(height, "height"),
                                           _values.integer(width, "width")))
    return owned_tensor(pointer)


def _copy_float32(array, name):
    """A new C-contiguous float32 copy, for the library's in-place image functions."""
    return np.array(as_float32(array, name), dtype=np.float32, order="C", copy=True)


def _per_channel(values, channels, name):
    values = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if values.shape[0] != channels:
        raise ValueError(f"{name} has {values.shape[0]} values; the image has {channels} channels")
    return values


def flip(image):
    """A copy of an image [C, H, W] or a batch [N, C, H, W], mirrored left to right."""
    out = _copy_float32(image, "image")
    with WrappedArray(out) as t:
        check(lib.alexnet_image_flip(t))
    return out


def normalize(image, mean, std):
    """A copy of an image [C, H, W] or a batch [N, C, H, W] with (x - mean[c]) / std[c] for every
    channel c."""
    out = _copy_float32(image, "image")
    channels = out.shape[-3] if out.ndim >= 3 else 0
    mean, std = _per_channel(mean, channels, "mean"), _per_channel(std, channels, "std")
    with WrappedArray(out) as t:
        check(lib.alexnet_image_normalize(t, mean.ctypes.data_as(c_float_p),
                                          std.ctypes.data_as(c_float_p)))
    return out


def _pca_struct(pca):
    eigenvalues, eigenvectors = pca
    struct = ColorPca()
    struct.eigenvalues[:] = [float(v) for v in np.asarray(eigenvalues, dtype=np.float32)]
    vectors = np.asarray(eigenvectors, dtype=np.float32).reshape(3, 3)
    for row in range(3):
        struct.eigenvectors[row][:] = [float(v) for v in vectors[row]]
    return struct


def color_pca_fit(images):
    """The principal components of the RGB pixel values of `images` (each [3, H, W]), as
    (eigenvalues [3] in decreasing order, eigenvectors [3, 3] as columns): the paper's colour
    augmentation (section 4.1) draws along them."""
    arrays = [as_float32(image, "image") for image in images]
    with contextlib.ExitStack() as stack:
        tensors = (c_void_p * max(len(arrays), 1))(
            *[stack.enter_context(WrappedArray(a)) for a in arrays])
        pca = ColorPca()
        check(lib.alexnet_color_pca_fit(ctypes.byref(pca), tensors, len(arrays)))
    return (np.array(pca.eigenvalues, dtype=np.float32),
            np.array([list(row) for row in pca.eigenvectors], dtype=np.float32))


def color_jitter(image, pca, alpha):
    """A copy of an RGB image [3, H, W] with eigenvectors @ (alpha * eigenvalues) added to every
    pixel, for pca = (eigenvalues, eigenvectors) as color_pca_fit returns; the paper draws each
    alpha from N(0, 0.1) once per image."""
    out = _copy_float32(image, "image")
    alpha = _per_channel(alpha, 3, "alpha")
    struct = _pca_struct(pca)
    with WrappedArray(out) as t:
        check(lib.alexnet_image_color_jitter(t, ctypes.byref(struct),
                                             alpha.ctypes.data_as(c_float_p)))
    return out


class Dataset(Owned):
    """A data set: Dataset.idx(images, labels) for MNIST-style IDX files (gzipped or not), or
    Dataset.folder(root, channels) for one subfolder of PNG/JPEG files per class.
    len(ds) samples; ds[i] is (image [C, H, W] float32 in [0, 1], label)."""

    _what = "data set"

    def __init__(self, pointer):
        self._native = NativeHandle(pointer, lib.alexnet_dataset_free)

    @classmethod
    def idx(cls, images_path, labels_path):
        pointer = ctypes.c_void_p()
        check(lib.alexnet_dataset_open_idx(ctypes.byref(pointer), str(images_path).encode(),
                                           str(labels_path).encode()))
        return cls(pointer)

    @classmethod
    def folder(cls, root, channels=3):
        pointer = ctypes.c_void_p()
        check(lib.alexnet_dataset_open_folder(ctypes.byref(pointer), str(root).encode(),
                                              channels))
        return cls(pointer)

    def __len__(self):
        return lib.alexnet_dataset_size(self._ptr)

    @property
    def class_names(self):
        return [lib.alexnet_dataset_class_name(self._ptr, i).decode()
                for i in range(lib.alexnet_dataset_num_classes(self._ptr))]

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        pointer, label = ctypes.c_void_p(), c_int32()
        check(lib.alexnet_dataset_get(self._ptr, index, ctypes.byref(pointer),
                                      ctypes.byref(label)))
        return owned_tensor(pointer), label.value

    def color_pca(self, max_images=1000, seed=0):
        """(eigenvalues [3], eigenvectors [3, 3] as columns) of the RGB covariance."""
        pca = ColorPca()
        check(lib.alexnet_dataset_color_pca(self._ptr, max_images, _values.seed(seed),
                                            ctypes.byref(pca)))
        return (np.array(pca.eigenvalues, dtype=np.float32),
                np.array([list(row) for row in pca.eigenvectors], dtype=np.float32))


class Loader(Owned):
    """Batches of a Dataset, shuffled per epoch and augmented as the paper does, prepared on a
    background thread. `for images, labels in loader.epoch(e)` yields copies (float32
    [N, C, H, W], int32 [N]). shard_count / shard_index give each of several processes its part
    of every global batch (data-parallel training)."""

    _what = "loader"

    def __init__(self, dataset, batch_size=128, channels=None, height=None, width=None,
                 shuffle=True, seed=0, resize_shorter=0, random_crop=False, pad=0, flip=False,
                 pca_std=0.0, pca=None, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                 prefetch=True, shard_count=1, shard_index=0):
        if channels is None or height is None or width is None:
            image, _ = dataset[0]
            channels = channels or image.shape[0]
            height = height or image.shape[1]
            width = width or image.shape[2]
        cfg = LoaderConfig()
        check(lib.alexnet_loader_config_init(ctypes.byref(cfg), channels, height, width))
        cfg.batch_size, cfg.shuffle, cfg.seed = batch_size, int(shuffle), _values.seed(seed)
        cfg.resize_shorter, cfg.random_crop, cfg.pad = resize_shorter, int(random_crop), pad
        cfg.flip, cfg.pca_std, cfg.prefetch = int(flip), pca_std, int(prefetch)
        cfg.shard_count = _values.integer(shard_count, "shard_count")
        cfg.shard_index = _values.integer(shard_index, "shard_index")
        mean = np.broadcast_to(np.asarray(mean, dtype=np.float32), (3,))
        std = np.broadcast_to(np.asarray(std, dtype=np.float32), (3,))
        for k in range(3):
            cfg.mean[k], cfg.std[k] = float(mean[k]), float(std[k])
        if pca is not None:
            values, vectors = pca
            for k in range(3):
                cfg.pca.eigenvalues[k] = float(values[k])
                for r in range(3):
                    cfg.pca.eigenvectors[r][k] = float(vectors[r][k])
        pointer = ctypes.c_void_p()
        check(lib.alexnet_loader_create(ctypes.byref(pointer), dataset._ptr, ctypes.byref(cfg)))
        # The loader reads the data set: its handle keeps the data set's alive.
        self._native = NativeHandle(pointer, lib.alexnet_loader_free, keep=(dataset._native,))

    def __len__(self):
        return lib.alexnet_loader_batches(self._ptr)

    def epoch(self, epoch=0):
        """Yields the batches of one epoch (the order depends on the seed and `epoch`)."""
        check(lib.alexnet_loader_start_epoch(self._ptr, epoch))
        while True:
            images, labels = ctypes.c_void_p(), c_int32_p()
            check(lib.alexnet_loader_next(self._ptr, ctypes.byref(images), ctypes.byref(labels)))
            if not images:
                return
            batch = tensor_view(images, self._native).copy()
            yield batch, np.ctypeslib.as_array(labels, shape=(batch.shape[0],)).copy()
