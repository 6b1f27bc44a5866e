"""Loading libalexnet and declaring its C functions for ctypes.

The library is found, in order, through the ALEXNET_LIBRARY environment variable (a path to the
shared object), in the build tree next to this package (build/lib/libalexnet.so), and on the
system (ctypes.util.find_library). Every function's argument and result types are declared here,
so a wrong argument is a Python TypeError rather than a crash.
"""
import ctypes
import ctypes.util
import os
import subprocess

from ctypes import POINTER, c_char_p, c_float, c_int, c_int32, c_int64, c_size_t, c_uint, c_uint64
from ctypes import c_void_p

HERE = os.path.dirname(os.path.abspath(__file__))

c_float_p = POINTER(c_float)
c_int64_p = POINTER(c_int64)
c_int32_p = POINTER(c_int32)


class Config(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("arch", c_int), ("in_channels", c_int),
                ("in_height", c_int), ("in_width", c_int), ("num_classes", c_int),
                ("dropout", c_float), ("init", c_int), ("pool_ceil", c_int), ("lrn_size", c_int),
                ("lrn_alpha", c_float), ("lrn_beta", c_float), ("lrn_k", c_float),
                ("activation", c_int), ("lrn", c_int), ("pool_size", c_int),
                ("init_bias", c_float)]


class Preprocessing(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("resize", c_int), ("resize_side", c_int),
                ("bgr", c_int), ("scale", c_float), ("mean", c_float * 3), ("std", c_float * 3)]


class SgdConfig(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("learning_rate", c_float), ("momentum", c_float),
                ("weight_decay", c_float)]


class ScheduleConfig(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("kind", c_int), ("factor", c_float),
                ("step_epochs", c_int), ("patience", c_int), ("threshold", c_float),
                ("min_learning_rate", c_float)]


class ColorPca(ctypes.Structure):
    _fields_ = [("eigenvalues", c_float * 3), ("eigenvectors", (c_float * 3) * 3)]


BAD_SAMPLE_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, c_char_p)


class LoaderConfig(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("batch_size", c_int), ("shuffle", c_int),
                ("seed", c_uint64), ("channels", c_int), ("height", c_int), ("width", c_int),
                ("resize_shorter", c_int), ("random_crop", c_int), ("pad", c_int),
                ("flip", c_int), ("pca_std", c_float), ("pca", ColorPca),
                ("mean", c_float * 3), ("std", c_float * 3), ("prefetch", c_int),
                ("on_bad_sample", c_int), ("bad_sample_callback", BAD_SAMPLE_CALLBACK),
                ("callback_user", c_void_p), ("shard_count", c_int), ("shard_index", c_int)]


class Limits(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_model_bytes", c_int64),
                ("max_dataset_bytes", c_int64), ("max_image_bytes", c_int64),
                ("max_image_pixels", c_int64), ("max_image_side", c_int64)]


class MemoryInfo(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("weight_bytes", c_int64), ("gradient_bytes", c_int64),
                ("activation_bytes", c_int64), ("weight_readers", c_int),
                ("weights_mapped", c_int)]


P = c_void_p  # every handle is an opaque pointer
PP = POINTER(c_void_p)

# name: (result type, argument types); a result of c_int is an alexnet_status.
PROTOTYPES = {
    "alexnet_version": (c_uint, []),
    "alexnet_version_string": (c_char_p, []),
    "alexnet_status_string": (c_char_p, [c_int]),
    "alexnet_last_error": (c_char_p, []),
    "alexnet_set_last_error": (c_int, [c_int, c_char_p]),
    "alexnet_tensor_create": (c_int, [PP, c_int, c_int64_p]),
    "alexnet_tensor_wrap": (c_int, [PP, c_int, c_int64_p, c_float_p]),
    "alexnet_tensor_free": (None, [P]),
    "alexnet_tensor_ndim": (c_int, [P]),
    "alexnet_tensor_dim": (c_int64, [P, c_int]),
    "alexnet_tensor_numel": (c_int64, [P]),
    "alexnet_tensor_data": (c_float_p, [P]),
    "alexnet_set_num_threads": (c_int, [c_int]),
    "alexnet_get_num_threads": (c_int, []),
    "alexnet_limits_init": (c_int, [POINTER(Limits)]),
    "alexnet_limits_get": (c_int, [POINTER(Limits)]),
    "alexnet_limits_set": (c_int, [POINTER(Limits)]),
    "alexnet_config_init": (c_int, [POINTER(Config), c_int]),
    "alexnet_network_create": (c_int, [PP, POINTER(Config), c_uint64]),
    "alexnet_network_free": (None, [P]),
    "alexnet_network_share": (c_int, [PP, P]),
    "alexnet_network_memory": (c_int, [P, POINTER(MemoryInfo)]),
    "alexnet_network_get_config": (c_int, [P, POINTER(Config)]),
    "alexnet_network_param_buffers": (c_int, [P, PP, PP]),
    "alexnet_network_set_first_sample": (c_int, [P, c_int64]),
    "alexnet_network_forward": (c_int, [P, P, P, c_int]),
    "alexnet_network_backward": (c_int, [P, c_int32_p, c_float_p]),
    "alexnet_network_param": (c_int, [P, c_char_p, PP, PP]),
    "alexnet_network_param_count": (c_int, [P]),
    "alexnet_network_param_name": (c_char_p, [P, c_int]),
    "alexnet_network_set_class_names": (c_int, [P, POINTER(c_char_p), c_int]),
    "alexnet_network_class_name": (c_char_p, [P, c_int]),
    "alexnet_network_save": (c_int, [P, c_char_p]),
    "alexnet_network_load": (c_int, [PP, c_char_p]),
    "alexnet_network_load_mapped": (c_int, [PP, c_char_p]),
    "alexnet_network_load_weights": (c_int, [P, c_char_p]),
    "alexnet_sgd_config_init": (c_int, [POINTER(SgdConfig)]),
    "alexnet_optimizer_create": (c_int, [PP, P, POINTER(SgdConfig)]),
    "alexnet_optimizer_get_config": (c_int, [P, POINTER(SgdConfig)]),
    "alexnet_optimizer_free": (None, [P]),
    "alexnet_optimizer_step": (c_int, [P]),
    "alexnet_optimizer_set_learning_rate": (c_int, [P, c_float]),
    "alexnet_optimizer_learning_rate": (c_float, [P]),
    "alexnet_optimizer_steps": (c_int64, [P]),
    "alexnet_optimizer_epochs": (c_int64, [P]),
    "alexnet_schedule_config_init": (c_int, [POINTER(ScheduleConfig), c_int]),
    "alexnet_optimizer_set_schedule": (c_int, [P, POINTER(ScheduleConfig)]),
    "alexnet_optimizer_end_epoch": (c_int, [P, c_float, POINTER(c_int)]),
    "alexnet_train_step": (c_int, [P, P, P, c_int32_p, c_float_p]),
    "alexnet_checkpoint_save": (c_int, [P, P, c_char_p]),
    "alexnet_checkpoint_load": (c_int, [PP, PP, c_char_p]),
    "alexnet_image_decode": (c_int, [PP, c_void_p, c_size_t, c_int]),
    "alexnet_image_load": (c_int, [PP, c_char_p, c_int]),
    "alexnet_image_save_png": (c_int, [P, c_char_p]),
    "alexnet_image_resize": (c_int, [PP, P, c_int, c_int]),
    "alexnet_image_resize_shorter": (c_int, [PP, P, c_int]),
    "alexnet_image_crop": (c_int, [PP, P, c_int, c_int, c_int, c_int]),
    "alexnet_image_flip": (c_int, [P]),
    "alexnet_image_normalize": (c_int, [P, c_float_p, c_float_p]),
    "alexnet_color_pca_fit": (c_int, [POINTER(ColorPca), POINTER(c_void_p), c_int]),
    "alexnet_image_color_jitter": (c_int, [P, POINTER(ColorPca), c_float_p]),
    "alexnet_predict_ten_crop": (c_int, [P, P, P]),
    "alexnet_preprocessing_init": (c_int, [POINTER(Preprocessing), c_int]),
    "alexnet_image_preprocess": (c_int, [PP, P, POINTER(Preprocessing), c_int, c_int]),
    "alexnet_network_get_preprocessing": (c_int, [P, POINTER(Preprocessing)]),
    "alexnet_network_set_preprocessing": (c_int, [P, POINTER(Preprocessing)]),
    "alexnet_softmax": (c_int, [P, P]),
    "alexnet_dataset_open_idx": (c_int, [PP, c_char_p, c_char_p]),
    "alexnet_dataset_open_folder": (c_int, [PP, c_char_p, c_int]),
    "alexnet_dataset_free": (None, [P]),
    "alexnet_dataset_size": (c_int64, [P]),
    "alexnet_dataset_num_classes": (c_int, [P]),
    "alexnet_dataset_class_name": (c_char_p, [P, c_int]),
    "alexnet_dataset_get": (c_int, [P, c_int64, PP, c_int32_p]),
    "alexnet_dataset_color_pca": (c_int, [P, c_int64, c_uint64, POINTER(ColorPca)]),
    "alexnet_loader_config_init": (c_int, [POINTER(LoaderConfig), c_int, c_int, c_int]),
    "alexnet_loader_create": (c_int, [PP, P, POINTER(LoaderConfig)]),
    "alexnet_loader_free": (None, [P]),
    "alexnet_loader_start_epoch": (c_int, [P, c_int64]),
    "alexnet_loader_next": (c_int, [P, PP, POINTER(c_int32_p)]),
    "alexnet_loader_batches": (c_int64, [P]),
}


# The library this package is written for: its major version, and the oldest minor version that
# has every function in PROTOTYPES.
MAJOR, MINIMUM_MINOR = 1, 1


def _in_directory(directory):
    """The library in `directory` (its SONAME first), or None."""
    for name in ("libalexnet.so." + str(MAJOR), "libalexnet.so"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    return None


def _recorded_directory():
    """Where the library was installed when this package was built (setup.py writes _install.py;
    a package used from the source tree has none)."""
    try:
        from . import _install
    except ImportError:
        return None
    return _install.LIBRARY_DIR


def _pkg_config_directory():
    try:
        result = subprocess.run(["pkg-config", "--variable=libdir", "alexnet"],
                                capture_output=True, text=True, check=False)
    except OSError:
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def _candidates():
    """ALEXNET_LIBRARY (a file or a directory), the directory recorded at install, pkg-config's,
    the source tree's build, then the loader's own search."""
    path = os.environ.get("ALEXNET_LIBRARY")
    if path:
        yield (_in_directory(path) or os.path.join(path, "libalexnet.so")) if os.path.isdir(path) \
            else path
    for where in (_recorded_directory, _pkg_config_directory):  # asked only when needed
        directory = where()
        found = directory and _in_directory(directory)
        if found:
            yield found
    root = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
    yield os.path.join(root, "build", "lib", "libalexnet.so")
    found = ctypes.util.find_library("alexnet")
    if found:
        yield found


def _bind(library, path):
    """Checks the library's version and gives every function its prototype."""
    library.alexnet_version.restype, library.alexnet_version.argtypes = c_uint, []
    code = library.alexnet_version()
    major, minor, patch = code // 10000, code // 100 % 100, code % 100
    found = f"{path} is libalexnet {major}.{minor}.{patch}"
    if major != MAJOR or minor < MINIMUM_MINOR:
        raise ImportError(f"{found}; this package needs libalexnet {MAJOR}.{MINIMUM_MINOR} or a "
                          f"later {MAJOR}.x (set ALEXNET_LIBRARY to such a library)")
    for name, (result, arguments) in PROTOTYPES.items():
        try:
            function = getattr(library, name)
        except AttributeError:
            raise ImportError(f"{found} but lacks {name}; is it a complete build?") from None
        function.restype = result
        function.argtypes = arguments
    return library


def _load():
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(f"{path} (missing)")
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError as error:
            tried.append(f"{path} ({error})")
            continue
        return _bind(library, path)
    raise ImportError("libalexnet not found; set ALEXNET_LIBRARY to libalexnet.so or the directory "
                      "that holds it, build the project (build/lib/), or install it. Tried: "
                      + "; ".join(tried or ["the system library path"]))


lib = _load()
