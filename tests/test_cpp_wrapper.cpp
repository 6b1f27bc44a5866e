// The C++ wrapper (<alexnet/alexnet.hpp>) against moves, swaps, containers and wrong sizes.
// Built like every suite, so it also runs under AddressSanitizer: a dangling pointer or an
// over-read here is a test failure, not a silent wrong answer.
#include <alexnet/alexnet.hpp>
#include "test_helpers.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace
{

alexnet::Network small_network(uint64_t seed)
{
    alexnet_config cfg;
    alexnet::check(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.init = ALEXNET_INIT_HE;
    cfg.dropout = 0.0f;
    return alexnet::Network(cfg, seed);
}

alexnet::Tensor batch_of(int n, float value)
{
    alexnet::Tensor t({n, 1, 28, 28});
    for (int64_t i = 0; i < t.numel(); i++)
        t.data()[i] = value * static_cast<float>(i % 17) / 17.0f;
    return t;
}

// The status and a phrase of the message of the alexnet::Error that `body` throws.
template <typename Body> void expect_error(Body body, alexnet_status status, const char *phrase)
{
    try {
        body();
    } catch (const alexnet::Error &e) {
        ck_assert_msg(e.status() == status, "status %d, expected %d: %s", (int)e.status(),
                      (int)status, e.what());
        ck_assert_msg(std::string(e.what()).find(phrase) != std::string::npos,
                      "message \"%s\" lacks \"%s\"", e.what(), phrase);
        return;
    }
    ck_abort_msg("no alexnet::Error was thrown (expected \"%s\")", phrase);
}

struct Model {
    alexnet::Network net;
    alexnet::Optimizer opt;
    explicit Model(uint64_t seed) : net(small_network(seed)), opt(net, 0.01f)
    {
    }
};

} // namespace

START_TEST(optimizer_survives_its_network_moving_in_a_vector)
{
    std::vector<Model> models;
    for (uint64_t seed = 1; seed <= 9; seed++) // growth reallocates and moves every Model
        models.emplace_back(seed);
    alexnet::Tensor x = batch_of(2, 1.0f);
    std::vector<int32_t> labels = {3, 7};
    for (Model &m : models) {
        float loss = m.opt.train_step(x, labels);
        ck_assert(loss > 0.0f);
    }
    // Each optimizer updated its own network: the first model's weights moved, and differ from a
    // fresh network of the same seed by exactly that update.
    alexnet::Network fresh = small_network(1);
    float before = fresh.param("fc8.bias").data()[3];
    float after = models[0].net.param("fc8.bias").data()[3];
    ck_assert_float_ne(before, after);
}
END_TEST

START_TEST(moved_and_swapped_handles_keep_their_state)
{
    alexnet::Network a = small_network(1), b = small_network(2);
    float a0 = a.param("conv1.weight").data()[0], b0 = b.param("conv1.weight").data()[0];
    std::swap(a, b);
    ck_assert_float_eq(a.param("conv1.weight").data()[0], b0);
    ck_assert_float_eq(b.param("conv1.weight").data()[0], a0);

    alexnet::Network c = std::move(a);
    ck_assert_ptr_null(a.get());
    ck_assert_float_eq(c.param("conv1.weight").data()[0], b0);
    // A moved-from network reports its emptiness through the library, as an exception.
    expect_error([&] { a.forward(batch_of(1, 1.0f)); }, ALEXNET_ERR_INVALID_ARGUMENT, "NULL");

    alexnet::Optimizer opt(c);
    alexnet::Optimizer moved = std::move(opt);
    std::vector<int32_t> labels = {1};
    ck_assert(moved.train_step(batch_of(1, 1.0f), labels) > 0.0f);
    expect_error([&] { opt.step(); }, ALEXNET_ERR_INVALID_ARGUMENT, "NULL");

    alexnet::Tensor t({2, 3}), u({4});
    t.data()[5] = 2.5f;
    std::swap(t, u);
    ck_assert_int_eq(t.numel(), 4);
    ck_assert_float_eq(u.data()[5], 2.5f);
    std::vector<alexnet::Tensor> tensors;
    for (int i = 0; i < 20; i++)
        tensors.emplace_back(std::vector<int64_t>{i + 1});
    ck_assert_int_eq(tensors[19].numel(), 20);
}
END_TEST

START_TEST(training_and_optimizer_steps_through_the_wrapper)
{
    alexnet::Network net = small_network(3);
    alexnet::Optimizer opt(net, 0.05f, 0.0f, 0.0f);
    alexnet::Tensor x = batch_of(2, 1.0f);
    std::vector<int32_t> labels = {4, 4};
    net.forward(x, true);
    float loss = net.backward(labels);
    float grad = 0.0f;
    {
        alexnet_tensor *g = nullptr;
        alexnet::check(alexnet_network_param(net.get(), "fc8.bias", nullptr, &g));
        grad = alexnet_tensor_data(g)[4];
    }
    float bias = net.param("fc8.bias").data()[4];
    opt.step();
    // Plain SGD (no momentum, no decay): w <- w - lr * grad, to float rounding.
    const float expected = bias - 0.05f * grad;
    ck_assert_float_eq_tol(net.param("fc8.bias").data()[4], expected,
                           1e-6f * (1.0f + std::fabs(expected)));
    ck_assert_float_ne(grad, 0.0f);
    ck_assert(loss > 0.0f);
    ck_assert_float_eq(opt.learning_rate(), 0.05f);
}
END_TEST

START_TEST(wrong_label_counts_are_refused_before_the_library_reads_them)
{
    alexnet::Network net = small_network(4);
    alexnet::Optimizer opt(net);
    alexnet::Tensor x = batch_of(2, 1.0f);
    net.forward(x, true);
    std::vector<int32_t> one = {1}, three = {1, 2, 3};
    expect_error([&] { net.backward(one); }, ALEXNET_ERR_SHAPE, "1 labels for a batch of 2");
    expect_error([&] { net.backward(three); }, ALEXNET_ERR_SHAPE, "3 labels for a batch of 2");
    expect_error([&] { opt.train_step(x, one); }, ALEXNET_ERR_SHAPE, "1 labels for a batch of 2");
    std::vector<int32_t> two = {1, 2};
    ck_assert(net.backward(two) > 0.0f); // the right count still works after the refusals

    // After an inference forward there is nothing to differentiate: the library says so.
    net.forward(x, false);
    expect_error([&] { net.backward(two); }, ALEXNET_ERR_STATE, "training");
    std::vector<int32_t> out_of_range = {1, 10};
    net.forward(x, true);
    expect_error([&] { net.backward(out_of_range); }, ALEXNET_ERR_INVALID_ARGUMENT, "label");
}
END_TEST

START_TEST(wrong_shapes_and_bad_files_arrive_as_exceptions)
{
    alexnet::Network net = small_network(5);
    expect_error(
        [&] {
            net.forward(alexnet::Tensor({1, 3, 28, 28}));
        },
        ALEXNET_ERR_SHAPE, "[1, 3, 28, 28]");
    expect_error([] { alexnet::Tensor t({2, 0}); }, ALEXNET_ERR_INVALID_ARGUMENT, "dimension 1");
    expect_error([] { alexnet::Network::load("/nonexistent/model.safetensors"); }, ALEXNET_ERR_IO,
                 "/nonexistent/model.safetensors");
    expect_error([&] { net.param("conv9.weight"); }, ALEXNET_ERR_INVALID_ARGUMENT, "conv9.weight");
    const std::string name = net.class_name(3); /* no names saved: a generic one */
    ck_assert_str_eq(name.c_str(), "class 3");
}
END_TEST

START_TEST(shares_serve_threads_from_one_copy_of_the_weights)
{
    alexnet::Network net = small_network(6);
    alexnet::Tensor input({2, 1, 28, 28});
    for (int64_t i = 0; i < input.numel(); i++)
        input.data()[i] = static_cast<float>(i % 97) / 97.0f - 0.25f;
    const alexnet::Tensor expected = net.forward(input);
    std::vector<alexnet::Network> shares;
    for (int t = 0; t < 3; t++)
        shares.push_back(net.share());
    ck_assert_int_eq(net.memory().weight_readers, 4);
    std::vector<alexnet::Tensor> results;
    for (size_t t = 0; t < shares.size(); t++)
        results.emplace_back(std::vector<int64_t>{2, 10});
    std::vector<std::thread> threads;
    for (size_t t = 0; t < shares.size(); t++)
        threads.emplace_back([&, t] { results[t] = shares[t].forward(input); });
    for (std::thread &thread : threads)
        thread.join();
    for (const alexnet::Tensor &got : results)
        ck_assert_int_eq(std::memcmp(got.data(), expected.data(), sizeof(float) * 20), 0);
    expect_error([&] { shares[0].forward(input, true); }, ALEXNET_ERR_STATE, "inference only");
}
END_TEST

// An RGB image whose channels differ and are correlated, for the colour PCA.
alexnet::Tensor rgb_image(int h, int w, float salt)
{
    alexnet::Tensor t({3, h, w});
    for (int64_t p = 0; p < h * w; p++) {
        const float v =
            static_cast<float>((p * 37 + static_cast<int64_t>(salt * 100)) % 101) / 101.0f;
        t.data()[p] = v;
        t.data()[h * w + p] = 0.5f * v + 0.2f;
        t.data()[2 * h * w + p] = 1.0f - v;
    }
    return t;
}

START_TEST(the_wrapper_covers_the_c_api)
{
    // Library-wide settings.
    ck_assert_int_eq(alexnet::version_code(), ALEXNET_VERSION);
    ck_assert(alexnet::status_string(ALEXNET_ERR_SHAPE) ==
              std::string(alexnet_status_string(ALEXNET_ERR_SHAPE)));
    ck_assert_int_eq(alexnet::set_last_error(ALEXNET_ERR_IO, "mpi: rank 3 failed"), ALEXNET_ERR_IO);
    ck_assert_str_eq(alexnet_last_error(), "mpi: rank 3 failed");
    ck_assert_int_eq(alexnet_set_last_error(ALEXNET_ERR_IO, alexnet_last_error()), ALEXNET_ERR_IO);
    ck_assert_str_eq(alexnet_last_error(), "mpi: rank 3 failed");
    const int threads = alexnet::num_threads();
    alexnet::set_num_threads(1);
    ck_assert_int_eq(alexnet::num_threads(), 1);
    alexnet::set_num_threads(threads);
    alexnet_limits limits = alexnet::default_limits();
    limits.max_image_pixels = 4096;
    alexnet::set_limits(limits);
    ck_assert_int_eq(alexnet::limits().max_image_pixels, 4096);
    alexnet::set_limits(alexnet::default_limits());

    // Images: save, load, resize, crop, flip, normalise, colour PCA and jitter, softmax.
    char dir[] = "/tmp/alexnet-cpp-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const std::string root = dir;
    alexnet::Tensor image = rgb_image(12, 16, 0.0f);
    alexnet::image_save_png(image, root + "/image.png");
    alexnet::Tensor loaded = alexnet::image_load(root + "/image.png", 3);
    ck_assert_int_eq(loaded.numel(), image.numel());
    ck_assert_int_eq(alexnet::image_resize_shorter(loaded, 6).dim(1), 6);
    ck_assert_int_eq(alexnet::image_resize(loaded, 5, 7).dim(2), 7);
    alexnet::Tensor window = alexnet::image_crop(loaded, 2, 3, 4, 5);
    ck_assert_float_eq(window.data()[0], loaded.data()[2 * 16 + 3]);
    alexnet::Tensor flipped = alexnet::image_crop(loaded, 0, 0, 12, 16);
    alexnet::image_flip(flipped);
    ck_assert_float_eq(flipped.data()[0], loaded.data()[15]);
    alexnet::image_normalize(flipped, {0.5f, 0.5f, 0.5f}, {2.0f, 2.0f, 2.0f});
    ck_assert_float_eq_tol(flipped.data()[0], (loaded.data()[15] - 0.5f) / 2.0f, 1e-6f);
    expect_error([&] { alexnet::image_normalize(flipped, {0.5f}, {1.0f}); }, ALEXNET_ERR_SHAPE,
                 "3 channels");
    const alexnet_preprocessing caffe = alexnet::preprocessing(ALEXNET_PREPROCESSING_CAFFE);
    alexnet::Tensor prepared = alexnet::image_preprocess(loaded, caffe, 10, 10);
    ck_assert_int_eq(prepared.dim(1), 10);
    ck_assert_float_eq_tol(prepared.data()[0],
                           alexnet::image_preprocess(loaded, caffe, 0, 0).data()[256 * 123 + 123],
                           1e-4f);
    expect_error([&] { alexnet::image_preprocess(loaded, caffe, 0, 3); },
                 ALEXNET_ERR_INVALID_ARGUMENT, "the crop 0x3");
    alexnet::Tensor other = rgb_image(12, 16, 0.3f);
    const alexnet_color_pca pca = alexnet::color_pca_fit({&image, &other});
    ck_assert(pca.eigenvalues[0] > pca.eigenvalues[1]);
    alexnet::Tensor jittered = alexnet::image_crop(image, 0, 0, 12, 16);
    alexnet::image_color_jitter(jittered, pca, {0.1f, 0.0f, 0.0f});
    const float shift = pca.eigenvectors[0][0] * 0.1f * pca.eigenvalues[0];
    ck_assert_float_eq_tol(jittered.data()[0], image.data()[0] + shift, 1e-6f);
    std::vector<float> raw = {1.0f, 2.0f, 3.0f};
    alexnet::Tensor logits = alexnet::Tensor::wrap({1, 3}, raw.data());
    alexnet::Tensor probabilities = alexnet::softmax(logits);
    ck_assert_float_eq_tol(
        probabilities.data()[0] + probabilities.data()[1] + probabilities.data()[2], 1.0f, 1e-6f);
    ck_assert(probabilities.data()[2] > probabilities.data()[1]);

    // A folder data set of two classes and a loader over it.
    for (const char *cls : {"cats", "dogs"}) {
        ck_assert_int_eq(mkdir((root + "/set/").c_str(), 0700) == 0 || errno == EEXIST, 1);
        ck_assert_int_eq(mkdir((root + "/set/" + cls).c_str(), 0700), 0);
        for (int k = 0; k < 3; k++)
            alexnet::image_save_png(rgb_image(12, 16, static_cast<float>(k)),
                                    root + "/set/" + cls + "/" + std::to_string(k) + ".png");
    }
    alexnet::Dataset ds = alexnet::Dataset::folder(root + "/set", 3);
    ck_assert_int_eq(ds.size(), 6);
    ck_assert_int_eq(ds.num_classes(), 2);
    ck_assert(ds.class_name(1) == std::string("dogs"));
    ck_assert_int_eq(ds.sample(4).second, 1);
    ck_assert(ds.color_pca(6, 1).eigenvalues[0] > 0.0f);
    alexnet_loader_config cfg = alexnet::Loader::config(3, 12, 16);
    cfg.batch_size = 4;
    alexnet::Loader loader(ds, cfg);
    ck_assert_int_eq(loader.batches(), 2);
    loader.start_epoch(0);
    alexnet_tensor *images = nullptr;
    const int32_t *labels = nullptr;
    int64_t seen = 0;
    while (loader.next(images, labels))
        seen += alexnet_tensor_dim(images, 0);
    ck_assert_int_eq(seen, 6);
    expect_error([] { alexnet::Dataset::idx("/nonexistent/i", "/nonexistent/l"); }, ALEXNET_ERR_IO,
                 "/nonexistent/i");

    // Parameters, class names, ten-crop, and a checkpoint that resumes.
    Model m(7);
    ck_assert_int_eq(m.net.preprocessing().resize_side, m.net.config().in_height);
    alexnet_preprocessing grey = alexnet::preprocessing(ALEXNET_PREPROCESSING_PLAIN);
    grey.mean[0] = 0.5f;
    m.net.set_preprocessing(&grey);
    ck_assert_float_eq(m.net.preprocessing().mean[0], 0.5f);
    ck_assert_int_eq(m.net.prepare(alexnet::image_load(root + "/image.png", 1)).dim(1),
                     m.net.config().in_height);
    m.net.set_preprocessing(nullptr);
    alexnet::TensorView flat = m.net.flat_params();
    ck_assert_ptr_eq(flat.data(), m.net.param("conv1.weight").data());
    ck_assert_int_eq(m.net.flat_grads().numel(), flat.numel());
    m.net.set_first_sample(0);
    expect_error([&] { m.net.set_first_sample(-1); }, ALEXNET_ERR_INVALID_ARGUMENT, "first_sample");
    ck_assert_int_eq(m.net.param_count(), 16);
    ck_assert(m.net.param_name(15) == std::string("fc8.bias"));
    const std::vector<int32_t> labels8 = {0, 1, 2, 3, 4, 5, 6, 7};
    m.opt.train_step(batch_of(8, 1.0f), labels8);
    ck_assert(m.net.grad("fc8.bias").data() != nullptr);
    m.net.set_class_names({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"});
    ck_assert(m.net.class_name(9) == std::string("j"));
    alexnet::Tensor one({1, 32, 32});
    for (int64_t i = 0; i < one.numel(); i++)
        one.data()[i] = static_cast<float>(i % 29) / 29.0f;
    alexnet::Tensor ten = m.net.predict_ten_crop(one);
    ck_assert_int_eq(ten.numel(), 10);
    alexnet_schedule_config schedule = alexnet::schedule_config(ALEXNET_SCHEDULE_STEP);
    schedule.step_epochs = 1;
    m.opt.set_schedule(schedule);
    ck_assert(m.opt.end_epoch(0.5f));
    ck_assert_int_eq(m.opt.epochs(), 1);
    ck_assert_int_eq(m.opt.steps(), 1);
    ck_assert_float_eq_tol(m.opt.config().learning_rate, 0.001f, 1e-9f);
    m.opt.save_checkpoint(m.net, root + "/checkpoint.safetensors");
    alexnet::Checkpoint resumed = alexnet::Checkpoint::load(root + "/checkpoint.safetensors");
    ck_assert_int_eq(resumed.optimizer.steps(), 1);
    const float a = m.opt.train_step(batch_of(8, 0.5f), labels8);
    const float b = resumed.optimizer.train_step(batch_of(8, 0.5f), labels8);
    ck_assert_float_eq(a, b);
    ck_assert_int_eq(std::system(("rm -rf " + root).c_str()), 0);
}
END_TEST

int main()
{
    Suite *s = suite_create("cpp_wrapper");
    TCase *tc = tcase_create("cpp_wrapper");
    tcase_add_test(tc, optimizer_survives_its_network_moving_in_a_vector);
    tcase_add_test(tc, moved_and_swapped_handles_keep_their_state);
    tcase_add_test(tc, training_and_optimizer_steps_through_the_wrapper);
    tcase_add_test(tc, wrong_label_counts_are_refused_before_the_library_reads_them);
    tcase_add_test(tc, wrong_shapes_and_bad_files_arrive_as_exceptions);
    tcase_add_test(tc, shares_serve_threads_from_one_copy_of_the_weights);
    tcase_add_test(tc, the_wrapper_covers_the_c_api);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
