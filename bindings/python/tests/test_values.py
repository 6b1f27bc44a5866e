"""Values the C side would silently wrap around, truncate or misread are refused (or converted
correctly) by the Python layer, each with an exception that says what was expected."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import alexnet


@pytest.fixture
def net():
    with alexnet.Network("mini", init="he", dropout=0.0, seed=3) as network:
        yield network


def images(n=2):
    return np.random.default_rng(0).random((n, 1, 28, 28), dtype=np.float32)


@pytest.mark.parametrize("labels, error, phrase", [
    ([2 ** 32 + 3, 2 ** 32 + 1], alexnet.InvalidArgumentError, "label 4294967299"),
    ([0.9, 9.99], TypeError, "labels must be integers"),
    (["1", "2"], TypeError, "labels must be integers"),
    ([True, False], TypeError, "labels must be integers"),
    ([-1, 2], alexnet.InvalidArgumentError, r"label -1 \(at index 0\) is out of range"),
    ([1, 10], alexnet.InvalidArgumentError, r"labels must be in \[0, 10\)"),
    ([1], alexnet.ShapeError, "one label per image"),
    ([[1, 2]], alexnet.ShapeError, r"not \(1, 2\)"),
])
def test_bad_labels_are_refused_before_training(net, labels, error, phrase):
    before = net.param("fc8.bias").copy()
    with alexnet.SGD(net) as opt:
        with pytest.raises(error, match=phrase):
            opt.train_step(images(), labels)
        assert opt.steps == 0
    net.forward(images(), training=True)
    with pytest.raises(error, match=phrase):
        net.backward(labels)
    np.testing.assert_array_equal(net.param("fc8.bias"), before)


def test_integer_labels_of_any_integer_dtype_are_accepted(net):
    for dtype in (np.int64, np.uint8, np.int16, np.uint64):
        net.forward(images(), training=True)
        loss = net.backward(np.array([3, 7], dtype=dtype))
        net.forward(images(), training=True)
        assert loss == net.backward([3, 7])


@pytest.mark.parametrize("seed, error", [(-1, alexnet.InvalidArgumentError),
                                         (2 ** 64, alexnet.InvalidArgumentError),
                                         (1.5, TypeError), ("7", TypeError)])
def test_seeds_outside_uint64_are_refused(seed, error):
    with pytest.raises(error, match="seed"):
        alexnet.Network("mini", seed=seed)


def test_largest_seed_is_accepted_and_numpy_integers_work():
    a = alexnet.Network("mini", seed=2 ** 64 - 1)
    b = alexnet.Network("mini", seed=np.uint64(2 ** 64 - 1))
    np.testing.assert_array_equal(a.param("conv1.weight"), b.param("conv1.weight"))


def test_misaligned_and_foreign_float_arrays_are_converted(net):
    x = images()
    reference = net.forward(x)
    raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
    misaligned = np.frombuffer(raw.data, dtype=np.float32, count=x.size, offset=1).reshape(x.shape)
    assert not misaligned.flags.aligned
    misaligned[...] = x
    np.testing.assert_array_equal(net.forward(misaligned), reference)
    np.testing.assert_array_equal(net.forward(x.astype(">f4")), reference)  # big-endian
    np.testing.assert_array_equal(net.forward(x.astype(np.float64)), reference)


def test_unknown_schedule_lists_the_choices(net):
    with alexnet.SGD(net) as opt:
        with pytest.raises(ValueError, match=r"schedule must be one of \['constant', 'plateau', "
                                             r"'step'\], not 'cosine'"):
            opt.set_schedule("cosine")
        with pytest.raises(ValueError, match="schedule must be one of"):
            opt.set_schedule(7)
        opt.set_schedule("STEP", step_epochs=1)
        assert opt.end_epoch(0.5)
    with pytest.raises(ValueError, match="init must be one of"):
        alexnet.Network("mini", init="xavier")


def test_optimizer_repr_shows_its_settings(net):
    opt = alexnet.SGD(net, lr=0.05, momentum=0.8, weight_decay=0.001)
    assert repr(opt) == "<alexnet.SGD lr=0.05 momentum=0.8 weight_decay=0.001 steps=0 epochs=0>"
    opt.close()
    assert repr(opt) == "<alexnet.SGD (closed)>"


def test_error_status_is_an_enum(net):
    with pytest.raises(alexnet.ShapeError) as info:
        net.forward(np.zeros((2, 3, 28, 28), dtype=np.float32))
    assert info.value.status is alexnet.Status.SHAPE
    assert info.value.status == 2
    assert str(info.value.status) in ("Status.SHAPE", "2")
    assert repr(info.value.status) == "<Status.SHAPE: 2>"
    with pytest.raises(TypeError, match="threads must be an integer"):
        alexnet.set_num_threads(1.5)


def _import_with(library, tmp_path):
    """Imports the package in a fresh interpreter with ALEXNET_LIBRARY=library; (returncode,
    output)."""
    package = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    env = dict(os.environ, ALEXNET_LIBRARY=str(library), PYTHONPATH=package)
    result = subprocess.run([sys.executable, "-c", "import alexnet; print(alexnet.__version__)"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def test_library_found_by_directory_and_version_checked(tmp_path):
    library = os.environ["ALEXNET_LIBRARY"]
    code, output = _import_with(os.path.dirname(os.path.realpath(library)), tmp_path)
    assert code == 0, output
    assert output.strip() == alexnet.version()
    if shutil.which("cc") is None:
        pytest.skip("no C compiler for the fake library")
    # A library of another major version is refused with both versions named.
    (tmp_path / "fake.c").write_text("unsigned alexnet_version(void) { return 20300; }\n")
    fake = tmp_path / "libalexnet.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(fake), str(tmp_path / "fake.c")],
                   check=True)
    code, output = _import_with(fake, tmp_path)
    assert code != 0
    assert "is libalexnet 2.3.0" in output and "needs libalexnet 1.1" in output, output
