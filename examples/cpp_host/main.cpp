// A C++17 host: trains MINI a few steps on a synthetic task through the RAII wrapper
// (<alexnet/alexnet.hpp>), saves, reloads and checks that the reloaded model agrees, and shows
// an error arriving as an exception.
#include <alexnet/alexnet.hpp>

#include <cmath>
#include <iostream>

int main()
{
    try {
        std::cout << "libalexnet " << alexnet::version() << " from C++\n";
        alexnet_config cfg;
        alexnet::check(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
        cfg.init = ALEXNET_INIT_HE;
        alexnet::Network net(cfg, 7);
        alexnet::Optimizer opt(net, 0.02f);

        alexnet::Tensor images({16, 1, 28, 28});
        std::vector<int32_t> labels(16);
        for (int i = 0; i < 16; i++) { // class c: a bright band at rows 2c .. 2c + 3
            labels[i] = i % 10;
            for (int p = 0; p < 28 * 28; p++)
                images.data()[i * 784 + p] =
                    (p / 28) / 2 - labels[i] < 2 && p / 28 >= 2 * labels[i];
        }
        float first = 0.0f, loss = 0.0f;
        for (int step = 0; step < 25; step++) {
            loss = opt.train_step(images, labels);
            first = step == 0 ? loss : first;
        }
        std::cout << "loss " << first << " -> " << loss << "\n";
        if (!(loss < first))
            return 1;

        net.save("cpp-host.safetensors");
        alexnet::Network loaded = alexnet::Network::load("cpp-host.safetensors");
        alexnet::Tensor a = net.forward(images), b = loaded.forward(images);
        for (int64_t i = 0; i < a.numel(); i++)
            if (a.data()[i] != b.data()[i])
                return 1;
        std::cout << "reloaded model agrees on " << a.dim(0) << " images\n";

        try {
            alexnet::Tensor wrong({1, 3, 28, 28});
            net.forward(wrong);
            return 1;
        } catch (const alexnet::Error &e) {
            std::cout << "caught: " << e.what() << " (status " << e.status() << ")\n";
            return e.status() == ALEXNET_ERR_SHAPE ? 0 : 1;
        }
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
