"""Network.forward equals PyTorch's on the same weights (torchvision's AlexNet)."""
import numpy as np
import pytest

import alexnet

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

TORCH_TO_CANONICAL = {"features.0": "conv1", "features.3": "conv2", "features.6": "conv3",
                      "features.8": "conv4", "features.10": "conv5", "classifier.1": "fc6",
                      "classifier.4": "fc7", "classifier.6": "fc8"}


def test_forward_matches_torchvision():
    torch.manual_seed(0)
    model = torchvision.models.alexnet(num_classes=10).eval()
    with alexnet.Network("torchvision", num_classes=10) as net:
        for key, tensor in model.state_dict().items():  # torchvision keys are accepted as-is
            net.param(key)[...] = tensor.numpy()
        x = np.random.default_rng(1).standard_normal((2, 3, 224, 224), dtype=np.float32)
        ours = net.forward(x)
        with torch.no_grad():
            theirs = model(torch.from_numpy(x)).numpy()
        assert np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)) < 1e-4
        np.testing.assert_allclose(net.predict(x), torch.softmax(torch.from_numpy(theirs), 1),
                                   rtol=1e-4, atol=1e-6)
        # Canonical names view the same tensors.
        layer, kind = "features.3", "weight"
        np.testing.assert_array_equal(net.param(f"{TORCH_TO_CANONICAL[layer]}.{kind}"),
                                      model.state_dict()[f"{layer}.{kind}"].numpy())
