"""The Network and SGD classes: shapes, dtypes, zero-copy and copied inputs, errors, lifetimes."""
import gc

import numpy as np
import pytest

import alexnet


@pytest.fixture
def net():
    with alexnet.Network("mini", init="he", dropout=0.0, seed=3) as network:
        yield network


def batch(n=4, channels=1, side=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, channels, side, side), dtype=np.float32), rng.integers(0, 10, n)


def test_version_and_threads():
    assert alexnet.__version__ == alexnet.version()
    assert alexnet.version().count(".") == 2
    threads = alexnet.get_num_threads()
    alexnet.set_num_threads(1)
    assert alexnet.get_num_threads() == 1
    alexnet.set_num_threads(threads)
    with pytest.raises(alexnet.InvalidArgumentError, match="-5 threads"):
        alexnet.set_num_threads(-5)


def test_config_and_parameters(net):
    assert net.config == {"arch": "mini", "in_channels": 1, "height": 28, "width": 28,
                          "num_classes": 10, "dropout": 0.0, "init": "he", "pool_ceil": 0,
                          "lrn_size": 5, "lrn_alpha": np.float32(5e-4), "lrn_beta": 0.75,
                          "lrn_k": 2.0, "activation": "relu", "lrn": True, "pool_size": 3,
                          "init_bias": 1.0}
    assert net.input_shape == (1, 28, 28)
    names = net.param_names()
    assert names[0] == "conv1.weight" and names[-1] == "fc8.bias" and len(names) == 16
    params = net.params()
    assert params["conv2.weight"].shape == (64, 32, 3, 3)
    assert all(p.dtype == np.float32 for p in params.values())
    # torchvision keys name the same storage, and the views write through.
    same = net.param("features.0.weight")
    same[0, 0, 0, 0] = 0.25
    assert params["conv1.weight"][0, 0, 0, 0] == 0.25


def test_forward_shapes_dtypes_and_zero_copy(net):
    x, _ = batch(5)
    logits = net.forward(x)
    assert logits.shape == (5, 10) and logits.dtype == np.float32
    # Other dtypes and layouts are converted: the same images give the same logits.
    as_double = net.forward(x.astype(np.float64))
    np.testing.assert_array_equal(logits, as_double)
    strided = np.zeros((5, 1, 28, 56), dtype=np.float32)
    strided[..., ::2] = x
    non_contiguous = strided[..., ::2]
    assert not non_contiguous.flags.c_contiguous
    np.testing.assert_array_equal(net.forward(non_contiguous), logits)
    fortran = np.asfortranarray(x)
    np.testing.assert_array_equal(net.forward(fortran), logits)
    # One image inside a bigger batch gives the same answer.
    np.testing.assert_allclose(net.forward(x[2:3])[0], logits[2], rtol=1e-5, atol=1e-6)
    probabilities = net.predict(x)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_errors_carry_status_and_message(net):
    with pytest.raises(alexnet.ShapeError) as info:
        net.forward(np.zeros((2, 3, 28, 28), dtype=np.float32))
    assert info.value.status == 2
    assert "expected [N, 1, 28, 28]" in info.value.message
    assert isinstance(info.value, ValueError)
    with pytest.raises(alexnet.StateError, match="no training forward"):
        net.backward([1, 2])
    x, y = batch(2)
    net.forward(x, training=True)
    with pytest.raises(alexnet.InvalidArgumentError, match="labels must be in"):
        net.backward([1, 10])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        net.backward([1, 2, 3])
    with pytest.raises(alexnet.InvalidArgumentError, match="no parameter is named"):
        net.param("conv9.weight")
    with pytest.raises(alexnet.InvalidArgumentError, match="dropout"):
        alexnet.Network("mini", dropout=1.5)
    with pytest.raises(ValueError, match="arch must be one of"):
        alexnet.Network("vgg")
    with pytest.raises(alexnet.ShapeError, match="smallest input is 67x67"):
        alexnet.Network("paper", height=40, width=40)
    with pytest.raises(alexnet.FileError, match="No such file"):
        alexnet.Network.load("/nonexistent/model.safetensors")


def test_backward_matches_finite_difference(net):
    x, y = batch(3, seed=4)
    net.forward(x, training=True)
    net.backward(y)
    grad = net.grad("fc8.bias").copy()
    bias = net.param("fc8.bias")

    def loss():
        logits = net.forward(x).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return -log_p[np.arange(3), y].mean()

    for k in range(10):
        saved = bias[k]
        bias[k] = saved + 1e-2
        up = loss()
        bias[k] = saved - 1e-2
        down = loss()
        bias[k] = saved
        assert abs((up - down) / 2e-2 - grad[k]) < 1e-3


def test_training_lowers_the_loss(net):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 32)
    x = rng.normal(0, 0.3, (32, 1, 28, 28)).astype(np.float32)
    for i, label in enumerate(labels):  # a bright block whose place is the label
        x[i, 0, 2 * label:2 * label + 4, 4:12] += 2.0
    with alexnet.SGD(net, lr=0.02) as opt:
        losses = [opt.train_step(x, labels) for _ in range(40)]
        assert opt.steps == 40
    assert losses[-1] < 0.3 * losses[0]
    assert (net.predict(x).argmax(axis=1) == labels).mean() > 0.9


def test_paper_switches_round_trip(tmp_path):
    # tanh, no LRN, adjacent 2x2 pooling and biases starting at 0.5: the network the file holds
    # is rebuilt with the same switches, and computes the same logits.
    with alexnet.Network("mini", init="paper", seed=5, activation="tanh", lrn=False, pool_size=2,
                         init_bias=0.5) as net:
        config = net.config
        assert (config["activation"], config["lrn"], config["pool_size"],
                config["init_bias"]) == ("tanh", False, 2, 0.5)
        assert net.param("fc6.weight").shape == (512, 64 * 3 * 3)  # 28 -> 14 -> 7 -> 3
        assert np.all(net.param("conv2.bias") == 0.5) and np.all(net.param("conv1.bias") == 0)
        path = tmp_path / "switches.safetensors"
        net.save(path)
        with alexnet.Network.load(path) as loaded:
            assert loaded.config == config
            x, _ = batch(3)
            np.testing.assert_array_equal(loaded.forward(x), net.forward(x))
    with pytest.raises(alexnet.InvalidArgumentError, match="config.pool_size is 4"):
        alexnet.Network("mini", pool_size=4)
    with pytest.raises(alexnet.InvalidArgumentError, match="ALEXNET_ARCH_TORCHVISION has no LRN"):
        alexnet.Network("torchvision", lrn=True)
    with pytest.raises(ValueError, match="activation must be one of"):
        alexnet.Network("mini", activation="sigmoid")


def test_save_load_round_trip(net, tmp_path):
    net.class_names = [f"class {i}" for i in range(10)]
    path = tmp_path / "net.safetensors"
    net.save(path)
    with alexnet.Network.load(path) as loaded:
        assert loaded.config == net.config
        assert loaded.class_names == net.class_names
        for name, value in net.params().items():
            np.testing.assert_array_equal(loaded.param(name), value)
        x, _ = batch(2)
        np.testing.assert_array_equal(loaded.forward(x), net.forward(x))
    other = alexnet.Network("mini", init="he", dropout=0.0, seed=99)
    other.load_weights(path)
    np.testing.assert_array_equal(other.param("fc7.weight"), net.param("fc7.weight"))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    before = other.param("conv1.weight").copy()
    with pytest.raises(alexnet.FormatError, match="bad.safetensors"):
        other.load_weights(bad)
    np.testing.assert_array_equal(other.param("conv1.weight"), before)


def test_checkpoint_resumes_exactly(tmp_path):
    x, y = batch(8, seed=5)

    def run(split):
        net = alexnet.Network("mini", init="he", seed=7)
        opt = alexnet.SGD(net, lr=0.02)
        for step in range(6):
            if step == split:
                alexnet.save_checkpoint(net, opt, tmp_path / "ckpt.safetensors")
                net, opt = alexnet.load_checkpoint(tmp_path / "ckpt.safetensors")
            opt.train_step(x, y)
        return net

    np.testing.assert_array_equal(run(None).param("fc6.weight"), run(3).param("fc6.weight"))


def test_schedules(net):
    opt = alexnet.SGD(net, lr=0.1)
    opt.set_schedule("step", step_epochs=2)
    assert [opt.end_epoch() for _ in range(4)] == [False, True, False, True]
    assert opt.learning_rate == pytest.approx(0.001)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(alexnet.InvalidArgumentError, match="not finite and > 0"):
        opt.learning_rate = -1.0


def test_closed_handles_raise_and_views_stay_valid():
    net = alexnet.Network("mini", seed=1)
    weights = net.param("fc8.weight")
    opt = alexnet.SGD(net)
    net.close()
    with pytest.raises(alexnet.StateError, match="network has been closed"):
        net.forward(np.zeros((1, 1, 28, 28), np.float32))
    with pytest.raises(alexnet.StateError):
        net.save("x.safetensors")
    # The view and the optimizer keep the memory they point into alive.
    gc.collect()
    assert np.isfinite(weights).all()
    opt.close()
    with pytest.raises(alexnet.StateError, match="optimizer has been closed"):
        opt.step()
    assert "closed" in repr(net)


def test_garbage_collection_frees_handles():
    for _ in range(30):  # 30 networks of ~2 MiB each would pile up if never freed
        net = alexnet.Network("mini", seed=1)
        alexnet.SGD(net)
        del net
    gc.collect()


def test_inference_holds_no_gradients_until_training(net):
    x, labels = batch()
    net.forward(x)
    memory = net.memory()
    assert memory["gradient_bytes"] == 0 and memory["weight_readers"] == 1
    assert memory["weight_bytes"] > 0 and memory["activation_bytes"] > 0
    net.param("fc8.bias")  # a value view starts nothing
    assert net.memory()["gradient_bytes"] == 0
    net.forward(x, training=True)
    assert net.memory()["gradient_bytes"] == memory["weight_bytes"]


def test_shares_read_one_copy_of_the_weights(net, tmp_path):
    x, labels = batch(n=3, seed=5)
    expected = net.forward(x)
    share = net.share()
    assert share.memory()["weight_readers"] == 2
    assert np.shares_memory(share.param("fc6.weight"), net.param("fc6.weight"))
    np.testing.assert_array_equal(share.forward(x), expected)
    with pytest.raises(alexnet.StateError, match="inference only"):
        share.forward(x, training=True)
    with pytest.raises(alexnet.StateError, match="share of this network"):
        net.forward(x, training=True)
    net.close()  # the share keeps the weights
    np.testing.assert_array_equal(share.forward(x), expected)
    share.close()


def test_mapped_load_and_threads_with_shares(net, tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    path = tmp_path / "mini.safetensors"
    net.save(path)
    inputs = [batch(n=1 + i % 3, seed=i)[0] for i in range(12)]
    expected = [net.forward(x) for x in inputs]
    with alexnet.Network.load(path, mapped=True) as mapped:
        assert mapped.memory()["weights_mapped"]
        with pytest.raises(alexnet.StateError, match="mapped"):
            mapped.forward(inputs[0], training=True)
        shares = [mapped.share() for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:  # ctypes releases the GIL during each forward
            results = pool.map(lambda share: [share.forward(x) for x in inputs], shares)
            for got in results:
                for a, b in zip(got, expected):
                    np.testing.assert_array_equal(a, b)
        for share in shares:
            share.close()


def test_flat_buffers_hold_every_parameter_and_gradient():
    a = alexnet.Network("mini", dropout=0.0, init="he", seed=5)
    b = alexnet.Network("mini", dropout=0.0, init="he", seed=6)
    flat = a.flat_params()
    assert flat.ndim == 1 and flat.dtype == np.float32
    assert flat.size >= sum(a.param(name).size for name in a.param_names())
    b.flat_params()[...] = flat                       # every weight at once, as a broadcast does
    for name in a.param_names():
        np.testing.assert_array_equal(a.param(name), b.param(name))
    x = np.random.default_rng(1).random((4, 1, 28, 28), dtype=np.float32)
    a.forward(x, training=True)
    a.backward(np.arange(4))
    grads = a.flat_grads()
    assert grads.shape == flat.shape
    np.testing.assert_array_equal(grads[:a.grad("conv1.weight").size],
                                  a.grad("conv1.weight").reshape(-1))
    with a.share() as reader:
        with pytest.raises(alexnet.StateError, match="alexnet_network_param_buffers"):
            reader.flat_grads()
    with pytest.raises(alexnet.InvalidArgumentError, match="first_sample -2"):
        a.set_first_sample(-2)
    a.set_first_sample(4)
