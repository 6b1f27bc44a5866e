"""SGD with the paper's update rule, learning-rate schedules, and checkpoints."""
import ctypes

from ._errors import check
from ._handle import Owned, NativeHandle, WrappedArray, as_float32
from ._native import ScheduleConfig, SgdConfig, c_float, c_int32_p, lib
from ._network import Network
from . import _values

SCHEDULES = {"constant": 0, "step": 1, "plateau": 2}


class SGD(Owned):
    """SGD with momentum and weight decay: v <- m v - wd lr w - lr g; w <- w + v (the paper's
    rule; at a constant rate, torch.optim.SGD's). Defaults are the paper's."""

    _what = "optimizer"

    def __init__(self, network, lr=0.01, momentum=0.9, weight_decay=0.0005, *, _pointer=None):
        if _pointer is None:
            cfg = SgdConfig()
            check(lib.alexnet_sgd_config_init(ctypes.byref(cfg)))
            cfg.learning_rate, cfg.momentum, cfg.weight_decay = lr, momentum, weight_decay
            _pointer = ctypes.c_void_p()
            check(lib.alexnet_optimizer_create(ctypes.byref(_pointer), network._ptr,
                                               ctypes.byref(cfg)))
        self.network = network
        # The optimizer points into the network: its handle keeps the network's alive.
        self._native = NativeHandle(_pointer, lib.alexnet_optimizer_free, keep=(network._native,))

    def step(self):
        """One update from the gradients of the network's last backward()."""
        check(lib.alexnet_optimizer_step(self._ptr))

    def train_step(self, x, labels):
        """Forward (training), backward and update on one batch; returns the batch's loss."""
        x = as_float32(x, "x")
        labels = _values.labels(labels, x.shape[0] if x.ndim else 0, self.network.num_classes)
        loss = c_float()
        with WrappedArray(x) as tx:
            check(lib.alexnet_train_step(self.network._ptr, self._ptr, tx,
                                         labels.ctypes.data_as(c_int32_p), ctypes.byref(loss)))
        return loss.value

    @property
    def learning_rate(self):
        return lib.alexnet_optimizer_learning_rate(self._ptr)

    @learning_rate.setter
    def learning_rate(self, value):
        check(lib.alexnet_optimizer_set_learning_rate(self._ptr, value))

    @property
    def steps(self):
        return lib.alexnet_optimizer_steps(self._ptr)

    @property
    def epochs(self):
        return lib.alexnet_optimizer_epochs(self._ptr)

    def set_schedule(self, kind="plateau", factor=0.1, step_epochs=30, patience=1,
                     threshold=1e-4, min_learning_rate=1e-6):
        """Attaches a learning-rate schedule ("constant", "step" or "plateau"), driven by
        end_epoch()."""
        cfg = ScheduleConfig()
        check(lib.alexnet_schedule_config_init(ctypes.byref(cfg),
                                               _values.enum_code(kind, SCHEDULES, "schedule")))
        cfg.factor, cfg.step_epochs, cfg.patience = factor, step_epochs, patience
        cfg.threshold, cfg.min_learning_rate = threshold, min_learning_rate
        check(lib.alexnet_optimizer_set_schedule(self._ptr, ctypes.byref(cfg)))

    def __repr__(self):
        if self._native is None:
            return "<alexnet.SGD (closed)>"
        cfg = SgdConfig()
        check(lib.alexnet_sgd_config_init(ctypes.byref(cfg)))
        check(lib.alexnet_optimizer_get_config(self._ptr, ctypes.byref(cfg)))
        return (f"<alexnet.SGD lr={cfg.learning_rate:g} momentum={cfg.momentum:g} "
                f"weight_decay={cfg.weight_decay:g} steps={self.steps} epochs={self.epochs}>")

    def end_epoch(self, validation_error=0.0):
        """Counts an epoch and lets the schedule act on its validation error; returns True when
        the learning rate changed."""
        changed = ctypes.c_int()
        check(lib.alexnet_optimizer_end_epoch(self._ptr, validation_error, ctypes.byref(changed)))
        return bool(changed.value)


def save_checkpoint(network, optimizer, path):
    """Weights, momentum buffers and optimizer state: load_checkpoint resumes exactly."""
    check(lib.alexnet_checkpoint_save(network._ptr, optimizer._ptr, str(path).encode()))


def load_checkpoint(path):
    """(network, optimizer) restored from save_checkpoint's file."""
    net, opt = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.alexnet_checkpoint_load(ctypes.byref(net), ctypes.byref(opt), str(path).encode()))
    network = Network(_pointer=net)
    return network, SGD(network, _pointer=opt)
