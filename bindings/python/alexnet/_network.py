"""The Network class: an AlexNet built, loaded and run through libalexnet."""
import ctypes

import numpy as np

from ._errors import check
from ._handle import Owned, NativeHandle, WrappedArray, as_float32, tensor_view
from ._native import Config, MemoryInfo, Preprocessing, c_float, c_int32_p, lib
from ._data import preprocess, preprocessing_dict, preprocessing_struct
from . import _values

ARCHS = {"paper": 0, "torchvision": 1, "mini": 2}
INITS = {"paper": 0, "he": 1}
ACTIVATIONS = {"relu": 0, "tanh": 1}


class Network(Owned):
    """An AlexNet: ALEXNET_ARCH_PAPER ("paper"), TORCHVISION ("torchvision") or MINI ("mini").

    Arguments left as None take the architecture's defaults (alexnet_config_init): pool_ceil
    (Caffe's rounding of pooled sizes) and the LRN constants (lrn_size, lrn_alpha in PyTorch's
    convention, lrn_beta, lrn_k) are for networks trained elsewhere; activation ("relu" or
    "tanh"), lrn (True or False), pool_size (3: overlapping, or 2) and init_bias (the paper's
    init's bias of 1 in conv2, conv4, conv5, fc6 and fc7) switch the paper's choices for
    ablations. Use it as a
    context manager, or call close(), to release it deterministically; otherwise the garbage
    collector does. A closed network raises on every call.
    """

    _what = "network"

    def __init__(self, arch="mini", in_channels=None, height=None, width=None, num_classes=None,
                 dropout=None, init=None, seed=0, *, pool_ceil=None, lrn_size=None,
                 lrn_alpha=None, lrn_beta=None, lrn_k=None, activation=None, lrn=None,
                 pool_size=None, init_bias=None, _pointer=None):
        if _pointer is None:
            cfg = Config()
            check(lib.alexnet_config_init(ctypes.byref(cfg), _values.enum_code(arch, ARCHS, "arch")))
            for field, value in (("in_channels", in_channels), ("in_height", height),
                                 ("in_width", width), ("num_classes", num_classes),
                                 ("dropout", dropout), ("pool_ceil", pool_ceil),
                                 ("lrn_size", lrn_size), ("lrn_alpha", lrn_alpha),
                                 ("lrn_beta", lrn_beta), ("lrn_k", lrn_k),
                                 ("lrn", None if lrn is None else int(lrn)),
                                 ("pool_size", pool_size), ("init_bias", init_bias)):
                if value is not None:
                    setattr(cfg, field, value)
            if init is not None:
                cfg.init = _values.enum_code(init, INITS, "init")
            if activation is not None:
                cfg.activation = _values.enum_code(activation, ACTIVATIONS, "activation")
            _pointer = ctypes.c_void_p()
            check(lib.alexnet_network_create(ctypes.byref(_pointer), ctypes.byref(cfg),
                                             ctypes.c_uint64(_values.seed(seed))))
        self._native = NativeHandle(_pointer, lib.alexnet_network_free)
        self._batch = 0  # of the last training forward (0: none): backward reads that many labels

    # -- lifetime --------------------------------------------------------------------------
    @classmethod
    def load(cls, path, mapped=False):
        """A network rebuilt from a file written by save() or save_checkpoint(). With
        mapped=True the weights stay in the file, mapped into memory (shared by every process
        that maps it, loaded without a copy): the network is then for inference only, and the
        file must not be modified in place while it lives (replacing it is fine)."""
        pointer = ctypes.c_void_p()
        load = lib.alexnet_network_load_mapped if mapped else lib.alexnet_network_load
        check(load(ctypes.byref(pointer), str(path).encode()))
        return cls(_pointer=pointer)

    def share(self):
        """A new network that reads this one's weights without copying them and owns only its
        own activations: for inference on another thread (one share per thread), with results
        equal to this network's to the bit. While shares exist the weights are read-only
        (training raises StateError); the weights live until the last network reading them is
        closed, in any order."""
        pointer = ctypes.c_void_p()
        check(lib.alexnet_network_share(ctypes.byref(pointer), self._ptr))
        return type(self)(_pointer=pointer)

    def memory(self):
        """What the network holds, in bytes, as a dict: weight_bytes (shared ones counted by
        every handle that reads them), gradient_bytes (0 until training starts),
        activation_bytes (the memory plan), weight_readers (handles reading these weights) and
        weights_mapped."""
        info = MemoryInfo(struct_size=ctypes.sizeof(MemoryInfo))
        check(lib.alexnet_network_memory(self._ptr, ctypes.byref(info)))
        return {"weight_bytes": info.weight_bytes, "gradient_bytes": info.gradient_bytes,
                "activation_bytes": info.activation_bytes,
                "weight_readers": info.weight_readers, "weights_mapped": bool(info.weights_mapped)}

    # -- description -----------------------------------------------------------------------
    @property
    def config(self):
        """The configuration as a dict: arch, in_channels, height, width, num_classes, dropout,
        init, pool_ceil, lrn_size, lrn_alpha, lrn_beta, lrn_k, activation, lrn, pool_size,
        init_bias."""
        cfg = Config()
        check(lib.alexnet_config_init(ctypes.byref(cfg), 0))
        check(lib.alexnet_network_get_config(self._ptr, ctypes.byref(cfg)))
        return {"arch": _values.name_of(cfg.arch, ARCHS), "in_channels": cfg.in_channels,
                "height": cfg.in_height, "width": cfg.in_width, "num_classes": cfg.num_classes,
                "dropout": cfg.dropout, "init": _values.name_of(cfg.init, INITS),
                "pool_ceil": cfg.pool_ceil, "lrn_size": cfg.lrn_size, "lrn_alpha": cfg.lrn_alpha,
                "lrn_beta": cfg.lrn_beta, "lrn_k": cfg.lrn_k,
                "activation": _values.name_of(cfg.activation, ACTIVATIONS), "lrn": bool(cfg.lrn),
                "pool_size": cfg.pool_size, "init_bias": cfg.init_bias}

    @property
    def preprocessing(self):
        """How this network's images are prepared, as a dict (see alexnet.preprocessing()):
        what it was given or its file records, else the usual one for its input. Assign a kind
        name ("imagenet", "caffe", "plain"), a dict, or None (forget it); save() stores it."""
        struct = Preprocessing(struct_size=ctypes.sizeof(Preprocessing))
        check(lib.alexnet_network_get_preprocessing(self._ptr, ctypes.byref(struct)))
        return preprocessing_dict(struct)

    @preprocessing.setter
    def preprocessing(self, value):
        struct = None if value is None else ctypes.byref(preprocessing_struct(value))
        check(lib.alexnet_network_set_preprocessing(self._ptr, struct))

    def prepare(self, image):
        """A decoded image [C, H, W] in [0, 1] prepared for this network: its preprocessing,
        cropped to its input size."""
        _, height, width = self.input_shape
        return preprocess(image, self.preprocessing, height, width)

    @property
    def num_classes(self):
        return self.config["num_classes"]

    @property
    def input_shape(self):
        """(channels, height, width) of one input image."""
        c = self.config
        return (c["in_channels"], c["height"], c["width"])

    @property
    def class_names(self):
        """The class names saved with the network, or None."""
        names = [lib.alexnet_network_class_name(self._ptr, i) for i in range(self.num_classes)]
        return None if names[0] is None else [n.decode() for n in names]

    @class_names.setter
    def class_names(self, names):
        if names is None:
            check(lib.alexnet_network_set_class_names(self._ptr, None, 0))
            return
        encoded = [str(n).encode() for n in names]
        array = (ctypes.c_char_p * len(encoded))(*encoded)
        check(lib.alexnet_network_set_class_names(self._ptr, array, len(encoded)))

    # -- parameters ------------------------------------------------------------------------
    def param_names(self):
        """Canonical parameter names in network order: conv1.weight ... fc8.bias."""
        return [lib.alexnet_network_param_name(self._ptr, i).decode()
                for i in range(lib.alexnet_network_param_count(self._ptr))]

    def param(self, name):
        """A writable numpy view of a parameter, by canonical or torchvision name."""
        value = ctypes.c_void_p()
        check(lib.alexnet_network_param(self._ptr, name.encode(), ctypes.byref(value), None))
        return tensor_view(value, self._native)

    def flat_params(self):
        """Every parameter in one writable flat numpy view (alexnet_network_param_buffers): the
        parameters in param_names() order, each 64-byte aligned, the floats between them 0. For
        moving all the weights at once (a broadcast, an average of several networks)."""
        values = ctypes.c_void_p()
        check(lib.alexnet_network_param_buffers(self._ptr, ctypes.byref(values), None))
        return tensor_view(values, self._native)

    def flat_grads(self):
        """Every gradient in one flat numpy view, laid out as flat_params(): for summing them
        over processes between backward and the optimizer's step. Starts training state."""
        grads = ctypes.c_void_p()
        check(lib.alexnet_network_param_buffers(self._ptr, None, ctypes.byref(grads)))
        return tensor_view(grads, self._native)

    def set_first_sample(self, first_sample):
        """Data-parallel training: the training batches that follow start at sample
        `first_sample` of a global batch, so that they draw that batch's dropout."""
        check(lib.alexnet_network_set_first_sample(
            self._ptr, ctypes.c_int64(_values.integer(first_sample, "first_sample"))))

    def grad(self, name):
        """A numpy view of a parameter's gradient (written by backward). Asking for it starts
        training state: the gradients are allocated if they were not."""
        grad = ctypes.c_void_p()
        check(lib.alexnet_network_param(self._ptr, name.encode(), None, ctypes.byref(grad)))
        return tensor_view(grad, self._native)

    def params(self):
        """{name: writable numpy view} for every parameter, in PyTorch layouts."""
        return {name: self.param(name) for name in self.param_names()}

    def grads(self):
        return {name: self.grad(name) for name in self.param_names()}

    # -- running ---------------------------------------------------------------------------
    def forward(self, x, training=False):
        """Logits [N, num_classes] for images x [N, C, H, W] (float32; a C-contiguous float32
        array is used in place, anything else is converted). training=True applies dropout and
        keeps what backward() needs."""
        x = as_float32(x, "x")
        logits = np.empty((x.shape[0] if x.ndim else 0, self.num_classes), dtype=np.float32)
        with WrappedArray(x) as tx, WrappedArray(logits) as ty:
            check(lib.alexnet_network_forward(self._ptr, tx, ty, 1 if training else 0))
        self._batch = x.shape[0] if training else 0
        return logits

    def backward(self, labels):
        """After forward(training=True): the mean cross-entropy against labels, and every
        parameter's gradient written."""
        # Without a training forward the library refuses before reading any label.
        labels = (_values.labels(labels, self._batch, self.num_classes) if self._batch
                  else np.zeros(1, np.int32))
        loss = c_float()
        check(lib.alexnet_network_backward(self._ptr, labels.ctypes.data_as(c_int32_p),
                                           ctypes.byref(loss)))
        return loss.value

    def predict(self, x):
        """Class probabilities (softmax of the logits) for images x [N, C, H, W]."""
        logits = self.forward(x)
        with WrappedArray(logits) as t:
            check(lib.alexnet_softmax(t, t))
        return logits

    def predict_ten_crop(self, image):
        """The paper's test-time averaging over ten crops of one image [C, H, W] at least the
        input size: class probabilities [num_classes]."""
        image = as_float32(image, "image")
        out = np.empty(self.num_classes, dtype=np.float32)
        with WrappedArray(image) as t, WrappedArray(out) as probabilities:
            check(lib.alexnet_predict_ten_crop(self._ptr, t, probabilities))
        return out

    # -- files -----------------------------------------------------------------------------
    def save(self, path):
        """Writes the configuration, seed, class names and weights (safetensors, crash-safe)."""
        check(lib.alexnet_network_save(self._ptr, str(path).encode()))

    def load_weights(self, path):
        """Loads weights from our files or a PyTorch state_dict saved as safetensors; on error
        the network is unchanged."""
        check(lib.alexnet_network_load_weights(self._ptr, str(path).encode()))

    def __repr__(self):
        if self._native is None:
            return "<alexnet.Network (closed)>"
        c = self.config
        return (f"<alexnet.Network {c['arch']} {c['in_channels']}x{c['height']}x{c['width']} "
                f"-> {c['num_classes']} classes>")
