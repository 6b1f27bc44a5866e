// A small header-only C++17 wrapper over the libalexnet C ABI: RAII handles (move-only, freed in
// their destructors), exceptions carrying the status and the library's message, std::string and
// std::vector at the edges. Installed beside the C header: #include <alexnet/alexnet.hpp> and link
// with libalexnet as usual (pkg-config alexnet, or find_package(alexnet) and alexnet::alexnet).
#ifndef ALEXNET_HPP
#define ALEXNET_HPP

#include <alexnet/alexnet.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace alexnet
{

// A failed call: what() is alexnet_last_error()'s sentence (or the wrapper's own, for a misuse it
// catches before calling the library), status() the alexnet_status.
class Error : public std::runtime_error
{
  public:
    explicit Error(alexnet_status status)
        : std::runtime_error(alexnet_last_error()), status_(status)
    {
    }
    Error(alexnet_status status, const std::string &message)
        : std::runtime_error(message), status_(status)
    {
    }
    alexnet_status status() const noexcept
    {
        return status_;
    }

  private:
    alexnet_status status_;
};

inline void check(alexnet_status status)
{
    if (status != ALEXNET_OK)
        throw Error(status);
}

inline std::string version()
{
    return alexnet_version_string();
}

namespace detail
{
template <typename T, void (*Free)(T *)> struct Deleter {
    void operator()(T *p) const noexcept
    {
        Free(p);
    }
};
} // namespace detail

// An owned float32 tensor, dense and row-major. Move-only.
class Tensor
{
  public:
    explicit Tensor(const std::vector<int64_t> &shape)
    {
        alexnet_tensor *t = nullptr;
        check(alexnet_tensor_create(&t, static_cast<int>(shape.size()), shape.data()));
        handle_.reset(t);
    }
    alexnet_tensor *get() const noexcept
    {
        return handle_.get();
    }
    float *data() noexcept
    {
        return alexnet_tensor_data(handle_.get());
    }
    const float *data() const noexcept
    {
        return alexnet_tensor_data(handle_.get());
    }
    int64_t numel() const noexcept
    {
        return alexnet_tensor_numel(handle_.get());
    }
    int64_t dim(int axis) const
    {
        return alexnet_tensor_dim(handle_.get(), axis);
    }
    std::vector<int64_t> shape() const
    {
        std::vector<int64_t> s(static_cast<size_t>(alexnet_tensor_ndim(handle_.get())));
        for (size_t i = 0; i < s.size(); i++)
            s[i] = dim(static_cast<int>(i));
        return s;
    }

  private:
    std::unique_ptr<alexnet_tensor, detail::Deleter<alexnet_tensor, alexnet_tensor_free>> handle_;
};

// A borrowed view of a parameter or gradient; valid while its Network lives.
struct TensorView {
    alexnet_tensor *tensor;
    float *data() const noexcept
    {
        return alexnet_tensor_data(tensor);
    }
    int64_t numel() const noexcept
    {
        return alexnet_tensor_numel(tensor);
    }
};

// A network. Move-only: the C handle moves with it, so an Optimizer made for it stays valid when
// the Network object is moved (into a container, say).
class Network
{
  public:
    explicit Network(alexnet_arch arch, uint64_t seed = 0)
    {
        alexnet_config cfg;
        check(alexnet_config_init(&cfg, arch));
        create(cfg, seed);
    }
    Network(const alexnet_config &cfg, uint64_t seed)
    {
        create(cfg, seed);
    }

    static Network load(const std::string &path)
    {
        alexnet_network *net = nullptr;
        check(alexnet_network_load(&net, path.c_str()));
        return Network(net);
    }

    // The weights stay in the file, mapped read-only (alexnet_network_load_mapped): inference
    // only; the file must not be modified in place while the network lives.
    static Network load_mapped(const std::string &path)
    {
        alexnet_network *net = nullptr;
        check(alexnet_network_load_mapped(&net, path.c_str()));
        return Network(net);
    }

    // A network that reads this one's weights without copying them, for inference on another
    // thread (one share per thread); see alexnet_network_share for the lifetime rules.
    Network share() const
    {
        alexnet_network *net = nullptr;
        check(alexnet_network_share(&net, handle_.get()));
        return Network(net);
    }

    alexnet_memory_info memory() const
    {
        alexnet_memory_info info{};
        info.struct_size = sizeof info;
        check(alexnet_network_memory(handle_.get(), &info));
        return info;
    }

    alexnet_network *get() const noexcept
    {
        return handle_.get();
    }

    alexnet_config config() const
    {
        alexnet_config cfg;
        check(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
        check(alexnet_network_get_config(handle_.get(), &cfg));
        return cfg;
    }

    // Logits [N, num_classes] for input [N, C, H, W].
    Tensor forward(const Tensor &input, bool training = false)
    {
        Tensor logits({input.dim(0), config().num_classes});
        training_batch_ = 0;
        check(alexnet_network_forward(handle_.get(), input.get(), logits.get(), training));
        if (training)
            training_batch_ = input.dim(0);
        return logits;
    }

    // After forward(input, true): the mean cross-entropy against one label per image, and every
    // parameter's gradient. Throws Error (ALEXNET_ERR_SHAPE) for a label count that is not the
    // batch size; the C function reads exactly that many.
    float backward(const std::vector<int32_t> &labels)
    {
        if (training_batch_ != 0 && static_cast<int64_t>(labels.size()) != training_batch_)
            throw Error(ALEXNET_ERR_SHAPE,
                        "alexnet::Network::backward: " + std::to_string(labels.size()) +
                            " labels for a batch of " + std::to_string(training_batch_) +
                            " images; one label per image is needed");
        float loss = 0.0f;
        check(alexnet_network_backward(handle_.get(), labels.data(), &loss));
        return loss;
    }

    TensorView param(const std::string &name)
    {
        alexnet_tensor *value = nullptr;
        check(alexnet_network_param(handle_.get(), name.c_str(), &value, nullptr));
        return {value};
    }

    std::string class_name(int index) const
    {
        const char *name = alexnet_network_class_name(handle_.get(), index);
        return name ? name : "class " + std::to_string(index);
    }

    void save(const std::string &path) const
    {
        check(alexnet_network_save(handle_.get(), path.c_str()));
    }
    void load_weights(const std::string &path)
    {
        check(alexnet_network_load_weights(handle_.get(), path.c_str()));
    }

  private:
    explicit Network(alexnet_network *net) : handle_(net)
    {
    }
    void create(const alexnet_config &cfg, uint64_t seed)
    {
        alexnet_network *net = nullptr;
        check(alexnet_network_create(&net, &cfg, seed));
        handle_.reset(net);
    }
    std::unique_ptr<alexnet_network, detail::Deleter<alexnet_network, alexnet_network_free>>
        handle_;
    int64_t training_batch_ = 0; // of the last training forward; 0 when there is none
};

// SGD with the paper's update rule. Move-only. The network (the C handle inside the Network
// object, which moving the object keeps) must outlive the optimizer.
class Optimizer
{
  public:
    Optimizer(Network &net, float learning_rate = 0.01f, float momentum = 0.9f,
              float weight_decay = 0.0005f)
        : net_(net.get())
    {
        alexnet_sgd_config cfg;
        check(alexnet_sgd_config_init(&cfg));
        cfg.learning_rate = learning_rate;
        cfg.momentum = momentum;
        cfg.weight_decay = weight_decay;
        alexnet_optimizer *opt = nullptr;
        check(alexnet_optimizer_create(&opt, net.get(), &cfg));
        handle_.reset(opt);
    }

    float train_step(const Tensor &input, const std::vector<int32_t> &labels)
    {
        if (labels.size() != static_cast<size_t>(input.dim(0)))
            throw Error(ALEXNET_ERR_SHAPE,
                        "alexnet::Optimizer::train_step: " + std::to_string(labels.size()) +
                            " labels for a batch of " + std::to_string(input.dim(0)) +
                            " images; one label per image is needed");
        float loss = 0.0f;
        check(alexnet_train_step(net_, handle_.get(), input.get(), labels.data(), &loss));
        return loss;
    }
    void step()
    {
        check(alexnet_optimizer_step(handle_.get()));
    }
    void set_learning_rate(float lr)
    {
        check(alexnet_optimizer_set_learning_rate(handle_.get(), lr));
    }
    float learning_rate() const noexcept
    {
        return alexnet_optimizer_learning_rate(handle_.get());
    }

  private:
    alexnet_network *net_; // not the Network object, which may move

    std::unique_ptr<alexnet_optimizer, detail::Deleter<alexnet_optimizer, alexnet_optimizer_free>>
        handle_;
};

} // namespace alexnet

#endif
