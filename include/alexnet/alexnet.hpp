// A small header-only C++17 wrapper over the libalexnet C ABI: RAII handles (move-only, freed in
// their destructors), exceptions carrying the status and the library's message, std::string and
// std::vector at the edges. Installed beside the C header: #include <alexnet/alexnet.hpp> and link
// with libalexnet as usual (pkg-config alexnet, or find_package(alexnet) and alexnet::alexnet).
#ifndef ALEXNET_HPP
#define ALEXNET_HPP

#include <alexnet/alexnet.h>

#include <array>
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

// MAJOR*10000 + MINOR*100 + PATCH of the loaded library.
inline unsigned version_code() noexcept
{
    return alexnet_version();
}

inline std::string status_string(alexnet_status status)
{
    return alexnet_status_string(status);
}

// Records a message as the thread's last error (for code built on the library, so that C callers
// read it with alexnet_last_error); returns `status`.
inline alexnet_status set_last_error(alexnet_status status, const std::string &message)
{
    return alexnet_set_last_error(status, message.c_str());
}

// The library's thread pool (0: one thread per available core).
inline void set_num_threads(int threads)
{
    check(alexnet_set_num_threads(threads));
}
inline int num_threads() noexcept
{
    return alexnet_get_num_threads();
}

// The limits on untrusted input (alexnet_limits): defaults, those in force, and new ones.
inline alexnet_limits default_limits()
{
    alexnet_limits limits;
    check(alexnet_limits_init(&limits));
    return limits;
}
inline alexnet_limits limits()
{
    alexnet_limits current = default_limits();
    check(alexnet_limits_get(&current));
    return current;
}
inline void set_limits(const alexnet_limits &limits)
{
    check(alexnet_limits_set(&limits));
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
    // Takes ownership of a tensor the library created (nullptr gives an empty Tensor).
    static Tensor adopt(alexnet_tensor *t) noexcept
    {
        return Tensor(t);
    }
    // A tensor over the caller's memory (no copy); `data` must outlive it.
    static Tensor wrap(const std::vector<int64_t> &shape, float *data)
    {
        alexnet_tensor *t = nullptr;
        check(alexnet_tensor_wrap(&t, static_cast<int>(shape.size()), shape.data(), data));
        return Tensor(t);
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
    explicit Tensor(alexnet_tensor *t) noexcept : handle_(t)
    {
    }
    std::unique_ptr<alexnet_tensor, detail::Deleter<alexnet_tensor, alexnet_tensor_free>> handle_;
};

// Images [C, H, W] in [0, 1] (see the C header's Images section). Functions that make a new image
// return it; those that work in place take it by reference.
inline Tensor image_decode(const void *data, size_t size, int channels)
{
    alexnet_tensor *t = nullptr;
    check(alexnet_image_decode(&t, data, size, channels));
    return Tensor::adopt(t);
}
inline Tensor image_load(const std::string &path, int channels)
{
    alexnet_tensor *t = nullptr;
    check(alexnet_image_load(&t, path.c_str(), channels));
    return Tensor::adopt(t);
}
inline void image_save_png(const Tensor &image, const std::string &path)
{
    check(alexnet_image_save_png(image.get(), path.c_str()));
}
inline Tensor image_resize(const Tensor &image, int height, int width)
{
    alexnet_tensor *t = nullptr;
    check(alexnet_image_resize(&t, image.get(), height, width));
    return Tensor::adopt(t);
}
inline Tensor image_resize_shorter(const Tensor &image, int side)
{
    alexnet_tensor *t = nullptr;
    check(alexnet_image_resize_shorter(&t, image.get(), side));
    return Tensor::adopt(t);
}
inline Tensor image_crop(const Tensor &image, int top, int left, int height, int width)
{
    alexnet_tensor *t = nullptr;
    check(alexnet_image_crop(&t, image.get(), top, left, height, width));
    return Tensor::adopt(t);
}
inline void image_flip(Tensor &image)
{
    check(alexnet_image_flip(image.get()));
}
// One mean and one standard deviation per channel.
inline void image_normalize(Tensor &image, const std::vector<float> &mean,
                            const std::vector<float> &std)
{
    const size_t channels =
        image.shape().size() >= 3
            ? static_cast<size_t>(image.dim(static_cast<int>(image.shape().size()) - 3))
            : 0;
    if (mean.size() != channels || std.size() != channels)
        throw Error(ALEXNET_ERR_SHAPE, "alexnet::image_normalize: " + std::to_string(mean.size()) +
                                           " means and " + std::to_string(std.size()) +
                                           " deviations for an image of " +
                                           std::to_string(channels) + " channels");
    check(alexnet_image_normalize(image.get(), mean.data(), std.data()));
}
// A preprocessing of alexnet_preprocessing_init: PLAIN, IMAGENET (torchvision's) or CAFFE.
inline alexnet_preprocessing preprocessing(alexnet_preprocessing_kind kind)
{
    alexnet_preprocessing p;
    check(alexnet_preprocessing_init(&p, kind));
    return p;
}
// A decoded image [C, H, W] resized, centre cropped to height x width (0, 0: not cropped),
// reordered, scaled and normalised as `p` says, in one call.
inline Tensor image_preprocess(const Tensor &image, const alexnet_preprocessing &p, int height,
                               int width)
{
    alexnet_tensor *out = nullptr;
    check(alexnet_image_preprocess(&out, image.get(), &p, height, width));
    return Tensor::adopt(out);
}
inline alexnet_color_pca color_pca_fit(const std::vector<const Tensor *> &images)
{
    std::vector<const alexnet_tensor *> handles;
    for (const Tensor *image : images)
        handles.push_back(image ? image->get() : nullptr);
    alexnet_color_pca pca;
    check(alexnet_color_pca_fit(&pca, handles.data(), static_cast<int>(handles.size())));
    return pca;
}
inline void image_color_jitter(Tensor &image, const alexnet_color_pca &pca,
                               const std::array<float, 3> &alpha)
{
    check(alexnet_image_color_jitter(image.get(), &pca, alpha.data()));
}
// Class probabilities for logits [N, classes].
inline Tensor softmax(const Tensor &logits)
{
    Tensor probabilities(logits.shape());
    check(alexnet_softmax(logits.get(), probabilities.get()));
    return probabilities;
}

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

    // A gradient view (asking for it starts training state: the gradients are allocated).
    TensorView grad(const std::string &name)
    {
        alexnet_tensor *g = nullptr;
        check(alexnet_network_param(handle_.get(), name.c_str(), nullptr, &g));
        return {g};
    }

    // Every parameter, and every gradient, as one flat view each (alexnet_network_param_buffers):
    // for moving them all at once. Asking for the gradients starts training state.
    TensorView flat_params()
    {
        alexnet_tensor *values = nullptr;
        check(alexnet_network_param_buffers(handle_.get(), &values, nullptr));
        return {values};
    }
    TensorView flat_grads()
    {
        alexnet_tensor *grads = nullptr;
        check(alexnet_network_param_buffers(handle_.get(), nullptr, &grads));
        return {grads};
    }

    // Data-parallel training: where this process's batches start in the global batch.
    void set_first_sample(int64_t first_sample)
    {
        check(alexnet_network_set_first_sample(handle_.get(), first_sample));
    }

    int param_count() const noexcept
    {
        return alexnet_network_param_count(handle_.get());
    }
    std::string param_name(int index) const
    {
        const char *name = alexnet_network_param_name(handle_.get(), index);
        if (name == nullptr)
            throw Error(ALEXNET_ERR_INVALID_ARGUMENT,
                        "alexnet::Network::param_name: no parameter " + std::to_string(index));
        return name;
    }

    // One name per class (an empty list clears them); saved with the network.
    void set_class_names(const std::vector<std::string> &names)
    {
        std::vector<const char *> pointers;
        for (const std::string &name : names)
            pointers.push_back(name.c_str());
        check(alexnet_network_set_class_names(handle_.get(), pointers.data(),
                                              static_cast<int>(pointers.size())));
    }

    // How the network's images are prepared: what it was given or its file records, else the
    // usual one for its input.
    alexnet_preprocessing preprocessing() const
    {
        alexnet_preprocessing p = alexnet::preprocessing(ALEXNET_PREPROCESSING_PLAIN);
        check(alexnet_network_get_preprocessing(handle_.get(), &p));
        return p;
    }
    // Recorded with the network and saved with it; nullptr forgets it.
    void set_preprocessing(const alexnet_preprocessing *p)
    {
        check(alexnet_network_set_preprocessing(handle_.get(), p));
    }
    // A decoded image [C, H, W] in [0, 1] prepared for this network (its preprocessing, its
    // input size).
    Tensor prepare(const Tensor &image) const
    {
        const alexnet_config cfg = config();
        return image_preprocess(image, preprocessing(), cfg.in_height, cfg.in_width);
    }

    // The paper's ten-crop test (corners, centre, mirrored) of one image [C, H, W]: probabilities.
    Tensor predict_ten_crop(const Tensor &image)
    {
        Tensor probabilities({config().num_classes});
        check(alexnet_predict_ten_crop(handle_.get(), image.get(), probabilities.get()));
        return probabilities;
    }

    // Takes ownership of a network the library created.
    static Network adopt(alexnet_network *net) noexcept
    {
        return Network(net);
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
    int64_t steps() const noexcept
    {
        return alexnet_optimizer_steps(handle_.get());
    }
    int64_t epochs() const noexcept
    {
        return alexnet_optimizer_epochs(handle_.get());
    }
    alexnet_sgd_config config() const
    {
        alexnet_sgd_config cfg;
        check(alexnet_sgd_config_init(&cfg));
        check(alexnet_optimizer_get_config(handle_.get(), &cfg));
        return cfg;
    }
    void set_schedule(const alexnet_schedule_config &schedule)
    {
        check(alexnet_optimizer_set_schedule(handle_.get(), &schedule));
    }
    // Ends an epoch with its validation error; true when the schedule changed the rate.
    bool end_epoch(float validation_error)
    {
        int changed = 0;
        check(alexnet_optimizer_end_epoch(handle_.get(), validation_error, &changed));
        return changed != 0;
    }

    alexnet_optimizer *get() const noexcept
    {
        return handle_.get();
    }

    // Saves the network, this optimizer's state and its momentum (alexnet_checkpoint_save).
    void save_checkpoint(const Network &net, const std::string &path) const
    {
        check(alexnet_checkpoint_save(net.get(), handle_.get(), path.c_str()));
    }

  private:
    friend struct Checkpoint;
    Optimizer(alexnet_network *net, alexnet_optimizer *opt) noexcept : net_(net), handle_(opt)
    {
    }
    alexnet_network *net_; // not the Network object, which may move

    std::unique_ptr<alexnet_optimizer, detail::Deleter<alexnet_optimizer, alexnet_optimizer_free>>
        handle_;
};

// The defaults of a learning-rate schedule of `kind`; change fields, then Optimizer::set_schedule.
inline alexnet_schedule_config schedule_config(alexnet_schedule_kind kind)
{
    alexnet_schedule_config cfg;
    check(alexnet_schedule_config_init(&cfg, kind));
    return cfg;
}

// A network and its optimizer restored from a checkpoint (alexnet_checkpoint_load): training
// continues exactly where it stopped. Declared in this order, the optimizer is destroyed first.
struct Checkpoint {
    Network network;
    Optimizer optimizer;

    static Checkpoint load(const std::string &path)
    {
        alexnet_network *net = nullptr;
        alexnet_optimizer *opt = nullptr;
        check(alexnet_checkpoint_load(&net, &opt, path.c_str()));
        return Checkpoint{Network::adopt(net), Optimizer(net, opt)};
    }
};

// A data set: IDX files (MNIST style, gzipped or not) or a folder with one subfolder per class.
class Dataset
{
  public:
    static Dataset idx(const std::string &images, const std::string &labels)
    {
        alexnet_dataset *ds = nullptr;
        check(alexnet_dataset_open_idx(&ds, images.c_str(), labels.c_str()));
        return Dataset(ds);
    }
    static Dataset folder(const std::string &root, int channels)
    {
        alexnet_dataset *ds = nullptr;
        check(alexnet_dataset_open_folder(&ds, root.c_str(), channels));
        return Dataset(ds);
    }
    alexnet_dataset *get() const noexcept
    {
        return handle_.get();
    }
    int64_t size() const noexcept
    {
        return alexnet_dataset_size(handle_.get());
    }
    int num_classes() const noexcept
    {
        return alexnet_dataset_num_classes(handle_.get());
    }
    std::string class_name(int index) const
    {
        const char *name = alexnet_dataset_class_name(handle_.get(), index);
        return name ? name : "class " + std::to_string(index);
    }
    // Sample `index`: its image [C, H, W] in [0, 1] and its label.
    std::pair<Tensor, int32_t> sample(int64_t index) const
    {
        alexnet_tensor *image = nullptr;
        int32_t label = 0;
        check(alexnet_dataset_get(handle_.get(), index, &image, &label));
        return {Tensor::adopt(image), label};
    }
    alexnet_color_pca color_pca(int64_t max_images, uint64_t seed) const
    {
        alexnet_color_pca pca;
        check(alexnet_dataset_color_pca(handle_.get(), max_images, seed, &pca));
        return pca;
    }

  private:
    explicit Dataset(alexnet_dataset *ds) noexcept : handle_(ds)
    {
    }
    std::unique_ptr<alexnet_dataset, detail::Deleter<alexnet_dataset, alexnet_dataset_free>>
        handle_;
};

// Batches of a Dataset, shuffled and augmented, prepared on a background thread. The data set
// must outlive the loader.
class Loader
{
  public:
    // The defaults for batches of [batch, channels, height, width]; change fields, then construct.
    static alexnet_loader_config config(int channels, int height, int width)
    {
        alexnet_loader_config cfg;
        check(alexnet_loader_config_init(&cfg, channels, height, width));
        return cfg;
    }
    Loader(const Dataset &ds, const alexnet_loader_config &cfg)
    {
        alexnet_loader *ld = nullptr;
        check(alexnet_loader_create(&ld, ds.get(), &cfg));
        handle_.reset(ld);
    }
    void start_epoch(int64_t epoch)
    {
        check(alexnet_loader_start_epoch(handle_.get(), epoch));
    }
    // The next batch, borrowed until the next call: false at the end of the epoch.
    bool next(alexnet_tensor *&images, const int32_t *&labels)
    {
        check(alexnet_loader_next(handle_.get(), &images, &labels));
        return images != nullptr;
    }
    int64_t batches() const noexcept
    {
        return alexnet_loader_batches(handle_.get());
    }

  private:
    std::unique_ptr<alexnet_loader, detail::Deleter<alexnet_loader, alexnet_loader_free>> handle_;
};

} // namespace alexnet

#endif
