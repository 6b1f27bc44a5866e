/*
 * libalexnet — AlexNet (Krizhevsky, Sutskever, Hinton, 2012) as an embeddable C library.
 *
 * This is the one public C header (<alexnet/alexnet.hpp> wraps it for C++17). It compiles as C99
 * and as C++; every exported symbol starts with `alexnet_`.
 *
 * Conventions used throughout:
 *
 *   Status    Every fallible function returns an `alexnet_status`; ALEXNET_OK is 0. On failure,
 *             alexnet_last_error() returns a sentence that names what was wrong. The library never
 *             prints, never exits and never aborts on bad input.
 *   Handles   Opaque. A handle written by a *_create or *_load function is owned by the caller and
 *             released with the matching *_free, which accepts NULL. A handle returned by
 *             alexnet_network_param is borrowed: it lives as long as its network, and passing it to
 *             alexnet_tensor_free does nothing.
 *   Accessors Functions that return a value rather than a status (the *_free functions, sizes,
 *             names, counts) cannot fail: for NULL or an index out of range they return the
 *             sentinel their comment gives (0, -1 or NULL) and never touch the last error, which
 *             belongs to the functions that return a status.
 *   Outputs   On failure, every output argument is cleared (an `out` handle set to NULL, a count or
 *             value to 0) when the pointer itself is not NULL, and nothing the caller owns is
 *             changed. Every output buffer is a tensor whose shape the function checks.
 *   Structs   Configuration structs begin with `size_t struct_size` and are filled by an *_init
 *             function, so later versions can append fields without breaking the ABI. The library
 *             reads struct_size bytes: an older program's smaller struct gets the defaults for the
 *             fields it lacks, and a newer program's larger struct is accepted when every byte
 *             past the fields this library knows is zero (it asks for nothing unknown), refused
 *             with ALEXNET_ERR_INVALID_ARGUMENT otherwise. Functions that fill a struct write at
 *             most struct_size bytes and set struct_size to the number written.
 *   Threads   Handles are not internally locked: use one handle from one thread at a time.
 *             Different handles may be used from different threads at once, including handles
 *             that share one set of weights (alexnet_network_share): that is how a server runs
 *             inference on many threads over one copy of the weights. Making, using and freeing
 *             shares of a network may happen on any threads while the others run; what must not
 *             overlap a share's use is a change to the weights themselves, which the library
 *             refuses while shares exist (see alexnet_network_share). The library's own thread
 *             pool (alexnet_set_num_threads) serves one call at a time: a call that finds it busy
 *             runs its work on its own calling thread instead, with the same result to the bit.
 *             The last error is per thread; alexnet_set_num_threads and alexnet_limits_set may be
 *             called at any time and take effect for calls that start after them.
 */
#ifndef ALEXNET_ALEXNET_H
#define ALEXNET_ALEXNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * Export macro
 * --------------------------------------------------------------------------------------------- */

#if defined(ALEXNET_STATIC)
#  define ALEXNET_API
#elif defined(_WIN32)
#  if defined(ALEXNET_BUILDING_LIBRARY)
#    define ALEXNET_API __declspec(dllexport)
#  else
#    define ALEXNET_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define ALEXNET_API __attribute__((visibility("default")))
#else
#  define ALEXNET_API
#endif

/* ------------------------------------------------------------------------------------------------
 * Version
 *
 * The ABI follows semantic versioning: the shared library's SONAME is libalexnet.so.MAJOR; a MINOR
 * release only adds functions or appends fields to configuration structs; a PATCH release changes
 * no interface.
 * --------------------------------------------------------------------------------------------- */

#define ALEXNET_VERSION_MAJOR 1
#define ALEXNET_VERSION_MINOR 1
#define ALEXNET_VERSION_PATCH 0
/* MAJOR*10000 + MINOR*100 + PATCH, comparable with alexnet_version(). */
#define ALEXNET_VERSION \
    (ALEXNET_VERSION_MAJOR * 10000 + ALEXNET_VERSION_MINOR * 100 + ALEXNET_VERSION_PATCH)

/* The version of the library actually loaded: MAJOR*10000 + MINOR*100 + PATCH. A program built
 * against this header can compare it with ALEXNET_VERSION to detect an older library at run time. */
ALEXNET_API unsigned alexnet_version(void);

/* The loaded library's version as "MAJOR.MINOR.PATCH". Static storage; never NULL. */
ALEXNET_API const char *alexnet_version_string(void);

/* ------------------------------------------------------------------------------------------------
 * Status and errors
 * --------------------------------------------------------------------------------------------- */

typedef enum alexnet_status {
    ALEXNET_OK = 0,
    ALEXNET_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, a value out of its range, a bad config  */
    ALEXNET_ERR_SHAPE = 2,            /* tensor shapes do not fit the operation or the network    */
    ALEXNET_ERR_OUT_OF_MEMORY = 3,    /* an allocation failed or a size overflowed                */
    ALEXNET_ERR_IO = 4,               /* a file could not be opened, read, written or renamed     */
    ALEXNET_ERR_FORMAT = 5,           /* a file's contents are malformed, hostile or unsupported  */
    ALEXNET_ERR_NUMERIC = 6,          /* a non-finite value (NaN or infinity) appeared            */
    ALEXNET_ERR_STATE = 7,            /* a call out of order, such as backward before forward     */
    ALEXNET_ERR_INTERNAL = 8          /* a failure inside the library or the system (a thread)   */
} alexnet_status;

/* A short constant description of a status code, such as "shape mismatch". Unknown codes give
 * "unknown status". Static storage; never NULL. */
ALEXNET_API const char *alexnet_status_string(alexnet_status status);

/* The message of the most recent failure on the calling thread: a sentence naming the object and
 * the problem, e.g. "alexnet_tensor_create: dimension 2 is -3; every dimension must be >= 1".
 * Successful calls do not clear it, so read it right after a call returns a non-OK status. Returns
 * "" before any failure. The pointer stays valid until the next failing call on the same thread. */
ALEXNET_API const char *alexnet_last_error(void);

/* Records `message` as the calling thread's last error and returns `status`: for components
 * built on the library (libalexnet_mpi) and host wrappers, so that one error mechanism serves
 * them too. The message is copied (and cut at 1023 bytes); NULL records an empty one. Since 1.1. */
ALEXNET_API alexnet_status alexnet_set_last_error(alexnet_status status, const char *message);

/* ------------------------------------------------------------------------------------------------
 * Limits on untrusted input
 *
 * Model files, checkpoints, images and data sets may come from anyone. Every reader checks the
 * sizes a file declares against these limits before it allocates anything, and refuses a file
 * that exceeds one with ALEXNET_ERR_FORMAT naming the limit, so a small hostile file cannot make
 * the library allocate much more memory than the host allowed. The limits hold for the whole
 * process and for every thread; a change applies to calls that start after it.
 *
 *   field               default                          largest value
 *   max_model_bytes     4 GiB (17 ImageNet AlexNets)     64 GiB
 *   max_dataset_bytes   2 GiB (an IDX file, inflated)    2 GiB
 *   max_image_bytes     256 MiB (an encoded PNG/JPEG)    256 MiB
 *   max_image_pixels    67,108,864 (width x height)      67,108,864
 *   max_image_side      16,384 pixels                    16,384
 * --------------------------------------------------------------------------------------------- */

typedef struct alexnet_limits {
    size_t struct_size;        /* set by alexnet_limits_init                                       */
    int64_t max_model_bytes;   /* parameter (and momentum) bytes a model file's configuration may
                                  describe; loading allocates about twice this (the gradients)   */
    int64_t max_dataset_bytes; /* bytes of an IDX file after decompression                       */
    int64_t max_image_bytes;   /* bytes of one encoded image                                     */
    int64_t max_image_pixels;  /* width x height of one decoded image                            */
    int64_t max_image_side;    /* width or height of one decoded image (and IDX rows, columns)  */
} alexnet_limits;

/* Fills `limits` with the defaults above. Since 1.1. Errors: ALEXNET_ERR_INVALID_ARGUMENT. */
ALEXNET_API alexnet_status alexnet_limits_init(alexnet_limits *limits);

/* Copies the limits in force into `limits` (limits->struct_size must be set, e.g. by
 * alexnet_limits_init). Since 1.1. Errors: ALEXNET_ERR_INVALID_ARGUMENT. */
ALEXNET_API alexnet_status alexnet_limits_get(alexnet_limits *limits);

/* Sets the limits for the whole process; NULL restores the defaults. Fields beyond the caller's
 * struct_size keep their defaults. Every field must be from 1 to its largest value above.
 * Since 1.1. Errors: ALEXNET_ERR_INVALID_ARGUMENT (nothing is changed). */
ALEXNET_API alexnet_status alexnet_limits_set(const alexnet_limits *limits);

/* ------------------------------------------------------------------------------------------------
 * Tensors
 *
 * A tensor is a dense, row-major array of float32 with 1 to ALEXNET_MAX_DIMS dimensions (images
 * are NCHW). Storage that the library allocates is zero-filled and 64-byte aligned.
 * --------------------------------------------------------------------------------------------- */

#define ALEXNET_MAX_DIMS 8

typedef struct alexnet_tensor alexnet_tensor;

/* Creates a zero-filled tensor of `ndim` dimensions with sizes shape[0..ndim-1].
 * Ownership: *out is owned by the caller; release it with alexnet_tensor_free.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL out/shape, ndim outside 1..ALEXNET_MAX_DIMS, or a
 * dimension < 1; ALEXNET_ERR_OUT_OF_MEMORY when the element or byte count overflows or the
 * allocation fails. */
ALEXNET_API alexnet_status alexnet_tensor_create(alexnet_tensor **out, int ndim,
                                                 const int64_t *shape);

/* Creates a tensor handle over caller-owned memory (no copy), for example a buffer of the host
 * program or a NumPy array. `data` must hold the product of the shape's sizes in floats, be aligned
 * for float, and outlive the handle; the library reads and writes it in place.
 * Ownership: *out is owned by the caller and released with alexnet_tensor_free, which leaves
 * `data` alone. Errors: as alexnet_tensor_create, plus ALEXNET_ERR_INVALID_ARGUMENT for a NULL or
 * misaligned `data`. */
ALEXNET_API alexnet_status alexnet_tensor_wrap(alexnet_tensor **out, int ndim,
                                               const int64_t *shape, float *data);

/* Releases a tensor made by alexnet_tensor_create or alexnet_tensor_wrap. NULL and borrowed
 * handles (from alexnet_network_param) are ignored. */
ALEXNET_API void alexnet_tensor_free(alexnet_tensor *tensor);

/* Number of dimensions, or 0 for NULL. */
ALEXNET_API int alexnet_tensor_ndim(const alexnet_tensor *tensor);

/* Size of dimension `axis` (0-based; -1 is the last), or -1 for NULL or an axis out of range. */
ALEXNET_API int64_t alexnet_tensor_dim(const alexnet_tensor *tensor, int axis);

/* Total number of elements, or 0 for NULL. */
ALEXNET_API int64_t alexnet_tensor_numel(const alexnet_tensor *tensor);

/* The tensor's contiguous float storage, writable; NULL for NULL. Borrowed: valid while the tensor
 * (or, for a parameter view, its network) lives. */
ALEXNET_API float *alexnet_tensor_data(alexnet_tensor *tensor);

/* ------------------------------------------------------------------------------------------------
 * Threads
 *
 * The library runs its work on one pool of threads and keeps OpenBLAS single-threaded inside it, so
 * the two never compete for cores. The setting is process-wide. Note that it also sets OpenBLAS's
 * own (process-wide) thread count to 1. The threads start on first use and are joined when the
 * library is unloaded (dlclose) or the process exits, so a host may load and unload it freely;
 * alexnet_set_num_threads(1) stops them earlier.
 * --------------------------------------------------------------------------------------------- */

/* Sets the number of threads for all later work: 1 to 256, or 0 for one per core available to the
 * process (the default). Call it while no other thread is inside the library.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for a count out of range; ALEXNET_ERR_INTERNAL when the
 * system could not start the threads (the library then runs with those it started). */
ALEXNET_API alexnet_status alexnet_set_num_threads(int threads);

/* The number of threads the library uses. */
ALEXNET_API int alexnet_get_num_threads(void);

/* ------------------------------------------------------------------------------------------------
 * Networks
 * --------------------------------------------------------------------------------------------- */

typedef struct alexnet_network alexnet_network;

/* The largest input height or width a network (and a batch loader) takes. */
#define ALEXNET_MAX_SIDE 4096

/* The three architectures (shapes in docs/architectures.md):
 *   PAPER        the 2012 network, 227x227x3 by default, with the two-GPU column split kept as
 *                groups = 2 in conv2, conv4 and conv5, LRN after conv1 and conv2.
 *   TORCHVISION  torchvision.models.alexnet, 224x224x3 by default; its adaptive average pooling
 *                takes any input from 63x63 up, and forward accepts any such size.
 *   MINI         the paper's layer sequence sized for 28..64-pixel inputs (Fashion-MNIST). */
typedef enum alexnet_arch {
    ALEXNET_ARCH_PAPER = 0,
    ALEXNET_ARCH_TORCHVISION = 1,
    ALEXNET_ARCH_MINI = 2
} alexnet_arch;

/* Initial weights:
 *   PAPER  weights N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere (the
 *          paper, section 5).
 *   HE     weights N(0, 2 / fan_in) (He et al., 2015), biases 0: trains faster from scratch. */
typedef enum alexnet_init {
    ALEXNET_INIT_PAPER = 0,
    ALEXNET_INIT_HE = 1
} alexnet_init;

/* The nonlinearity after every convolution and after fc6 and fc7:
 *   RELU  max(x, 0), the paper's choice (section 3.1).
 *   TANH  the saturating tanh(x) that the paper measures ReLU against (its Figure 1). */
typedef enum alexnet_activation {
    ALEXNET_ACTIVATION_RELU = 0,
    ALEXNET_ACTIVATION_TANH = 1
} alexnet_activation;

typedef struct alexnet_config {
    size_t struct_size;        /* set by alexnet_config_init                                  */
    alexnet_arch arch;
    int in_channels;           /* 1 to 64                                                    */
    int in_height, in_width;   /* 1 to ALEXNET_MAX_SIDE; the smallest depends on the arch    */
    int num_classes;           /* 1 to 1000000                                               */
    float dropout;             /* drop probability in fc6 and fc7, in [0, 1); 0 turns it off */
    /* The fields above are required; those below are optional: a struct_size that ends before
     * a field selects its default. */
    alexnet_init init;         /* initial weights; default ALEXNET_INIT_PAPER                */
    /* Since 1.1: what a network trained elsewhere may differ in (tools/convert_onnx.py sets them
     * for the Caffe model zoo's bvlc_alexnet). A file whose network uses them is written in
     * format 2, which libalexnet 1.0 refuses instead of misreading. */
    int pool_ceil;     /* 1: max pooling rounds its output size up, the last window clipped at the
                          border, as Caffe does (PyTorch's ceil_mode); default 0: rounds down   */
    int lrn_size;      /* LRN window, in channels: 1 to 15; default 5 (the paper's n)            */
    float lrn_alpha;   /* LRN alpha in the PyTorch/Caffe convention, where it is divided by the
                          window: 0 to 1; default 5e-4 (the paper's 1e-4 applied undivided)   */
    float lrn_beta;    /* LRN exponent: 0 to 4; default 0.75                                    */
    float lrn_k;       /* LRN additive constant: above 0, at most 1000; default 2 (Caffe's 1) */
    /* Since 1.1: the paper's design choices as switches, for ablations (docs/PAPER_CLAIMS.md).
     * The defaults are the paper's; a network whose activation, LRN or pooling differs from them
     * is written in format 2, as above. */
    alexnet_activation activation; /* default ALEXNET_ACTIVATION_RELU                         */
    int lrn;           /* 1: LRN after conv1 and conv2 (the default of PAPER and MINI); 0: none.
                          TORCHVISION has no LRN layer: its default, and only value, is 0     */
    int pool_size;     /* max-pooling window side, at stride 2: 3 (default: the paper's
                          overlapping pooling, section 3.4) or 2 (adjacent windows)           */
    float init_bias;   /* ALEXNET_INIT_PAPER's bias in conv2, conv4, conv5, fc6 and fc7: finite,
                          at most 100 in size; default 1 (the paper); 0 starts every bias at 0 */
} alexnet_config;

/* Fills `cfg` with the architecture's defaults: PAPER 3x227x227, TORCHVISION 3x224x224, both 1000
 * classes; MINI 1x28x28 with 10 classes; dropout 0.5; init PAPER with bias 1; floor pooling over
 * 3x3 windows; ReLU; the paper's LRN (size 5, alpha 5e-4, beta 0.75, k 2; TORCHVISION has no LRN
 * layer, and lrn 0).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or an unknown architecture. */
ALEXNET_API alexnet_status alexnet_config_init(alexnet_config *cfg, alexnet_arch arch);

/* Builds a network and initialises its weights from `seed` (the same seed gives the same weights
 * on every machine and thread count).
 * Ownership: *out is owned by the caller; release it with alexnet_network_free.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a config field out of range (the message names
 * it); ALEXNET_ERR_SHAPE when the input size is too small for the architecture (the message gives
 * the smallest size); ALEXNET_ERR_OUT_OF_MEMORY. */
ALEXNET_API alexnet_status alexnet_network_create(alexnet_network **out,
                                                  const alexnet_config *cfg, uint64_t seed);

/* Releases a network and everything it owns, including the views from alexnet_network_param.
 * Weights that shares (alexnet_network_share) still read stay alive until the last of them is
 * freed too. NULL is ignored. */
ALEXNET_API void alexnet_network_free(alexnet_network *net);

/* A new handle that reads `source`'s weights without copying them and owns only its own memory
 * plan (activations), for inference: its alexnet_network_forward gives exactly, to the bit, what
 * `source`'s gives. Each host thread takes its own share and runs forward on it while the others
 * run theirs; one copy of the weights serves them all. A share may be made from a share; it keeps
 * the configuration, seed, dropout step and class names of `source` at the time of the call.
 * Lifetime: the weights are reference-counted, so `source` and its shares may be freed in any
 * order; the weights go with the last handle. While shares exist the weights are read-only:
 * training (a training forward, alexnet_optimizer_create, alexnet_optimizer_step,
 * alexnet_train_step), a gradient view (alexnet_network_param with `grad`) and
 * alexnet_network_load_weights fail with ALEXNET_ERR_STATE, on `source` and on every share; a
 * share never trains. Do not write through alexnet_network_param's value views while shares run.
 * Do not call this while another thread changes `source` (training it, loading into it).
 * Ownership: *out is the caller's; release it with alexnet_network_free. Since 1.1.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_OUT_OF_MEMORY. */
ALEXNET_API alexnet_status alexnet_network_share(alexnet_network **out,
                                                 const alexnet_network *source);

/* The memory a network handle holds, in bytes, as alexnet_network_memory reports it. Since 1.1. */
typedef struct alexnet_memory_info {
    size_t struct_size;       /* set by the caller to sizeof(alexnet_memory_info)               */
    int64_t weight_bytes;     /* the weights the handle reads: its own, shared, or the mapped
                                 file; every handle sharing them reports the same bytes       */
    int64_t gradient_bytes;   /* parameter gradients: 0 until training starts                  */
    int64_t activation_bytes; /* the memory plan: activations, what backward keeps, scratch,
                                 for the largest batch (and input size) run so far; 0 before  */
    int weight_readers;       /* handles reading these weights, this one included (1: none
                                 shares them)                                                  */
    int weights_mapped;       /* 1 when the weights are mapped from their file                 */
} alexnet_memory_info;

/* Reports what `net` holds. A network that has only run inference holds its weights and its
 * activations: the gradients (and, in the optimizer, the momentum) are allocated by the first
 * training forward or alexnet_optimizer_create, and the parts of the plan that only backward needs
 * by the first training forward. The figures count the library's allocations; the process's
 * resident memory adds the program, its libraries and the allocator's own overhead.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a struct_size that does not reach
 * activation_bytes. Since 1.1. */
ALEXNET_API alexnet_status alexnet_network_memory(const alexnet_network *net,
                                                  alexnet_memory_info *info);

/* Copies the network's configuration into `cfg` (cfg->struct_size must be set, e.g. by
 * alexnet_config_init; see Structs above). Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a
 * struct_size that does not reach `dropout`. */
ALEXNET_API alexnet_status alexnet_network_get_config(const alexnet_network *net,
                                                      alexnet_config *cfg);

/* Runs the network on `input` [N, C, H, W] and writes `logits` [N, num_classes], both allocated
 * by the caller. C, H and W must match the configuration; TORCHVISION takes any H, W >= 63.
 * With `training` != 0, dropout is applied and what backward needs is kept (the first training
 * forward allocates the gradients); otherwise the pass is pure inference. Memory is planned when a
 * batch size (or input size) is first seen: later calls with the same or a smaller batch allocate
 * nothing.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_SHAPE for a wrong input or logits
 * shape (the message gives expected and actual shapes); ALEXNET_ERR_OUT_OF_MEMORY; with
 * `training`, ALEXNET_ERR_STATE when the weights are shared or mapped (alexnet_network_share,
 * alexnet_network_load_mapped). */
ALEXNET_API alexnet_status alexnet_network_forward(alexnet_network *net,
                                                   const alexnet_tensor *input,
                                                   alexnet_tensor *logits, int training);

/* After a training forward: computes the mean softmax cross-entropy of its logits against
 * `labels` (N values in [0, num_classes)), stores it in *loss (when not NULL), and writes (does not
 * add to) every parameter's gradient.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a label out of range; ALEXNET_ERR_STATE when the
 * last forward was not a training forward; ALEXNET_ERR_NUMERIC when the loss is not finite (*loss
 * is still written; the gradients are left as they were). On error no gradient is changed. */
ALEXNET_API alexnet_status alexnet_network_backward(alexnet_network *net, const int32_t *labels,
                                                    float *loss);

/* Borrowed views of a parameter and of its gradient, by canonical name ("conv1.weight", ...,
 * "fc8.bias") or torchvision key ("features.0.weight", ..., "classifier.6.bias"). Either output
 * may be NULL. Layouts are PyTorch's: conv weight [out, in/groups, kh, kw], linear weight
 * [out, in], bias [out]. The views live as long as the network; writing through them changes
 * the network (and every handle that shares its weights). Asking for `grad` starts training
 * state: the gradients are allocated then if they were not (pass NULL to read values only).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL net or name, or an unknown name; with `grad`,
 * ALEXNET_ERR_STATE when the weights are shared or mapped, ALEXNET_ERR_OUT_OF_MEMORY. */
ALEXNET_API alexnet_status alexnet_network_param(alexnet_network *net, const char *name,
                                                 alexnet_tensor **value, alexnet_tensor **grad);

/* Every parameter in one flat view, and every gradient in another, for moving them all at once:
 * one MPI_Allreduce of the gradients between backward and alexnet_optimizer_step, one broadcast
 * or copy of the weights. Each is a borrowed 1-D view [count] of the network's own storage, the
 * parameters in alexnet_network_param_name order, each starting 64-byte aligned (the few floats
 * between them are 0 and mean nothing). count is the same for every network of one
 * configuration, so equal configurations exchange buffers directly. Writing through `values`
 * changes the network, as alexnet_network_param's views do. The views stay valid until the
 * storage is replaced (alexnet_network_load_weights); ask again after that. Either output may be
 * NULL; asking for `grads` starts training state, as in alexnet_network_param. Since 1.1.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL net; ALEXNET_ERR_STATE for `values` of a network
 * whose weights are mapped from their file (they lie where the file has them), and for `grads`
 * as alexnet_network_param; ALEXNET_ERR_OUT_OF_MEMORY. */
ALEXNET_API alexnet_status alexnet_network_param_buffers(alexnet_network *net,
                                                         alexnet_tensor **values,
                                                         alexnet_tensor **grads);

/* For data-parallel training: the training forwards that follow hold the samples from
 * `first_sample` on of a global batch split among processes, so that their dropout draws are
 * those one network would draw for those samples of the whole batch. Processes that each set
 * their offset, run forward and backward on their part, average their gradient buffers
 * (alexnet_network_param_buffers, weighted by their sample counts) and step then take the step
 * one network takes on the whole batch, dropout included. Default 0: the batch is the whole
 * batch. Since 1.1. Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or an offset outside
 * 0..ALEXNET_MAX_FIRST_SAMPLE. */
#define ALEXNET_MAX_FIRST_SAMPLE 16777216
ALEXNET_API alexnet_status alexnet_network_set_first_sample(alexnet_network *net,
                                                            int64_t first_sample);

/* The number of parameter tensors (16: weight and bias of 5 conv and 3 linear layers); 0 for
 * NULL. */
ALEXNET_API int alexnet_network_param_count(const alexnet_network *net);

/* The canonical name of parameter `index` (0-based, in network order), or NULL for NULL or an
 * index out of range. Static storage: valid for the life of the process. */
ALEXNET_API const char *alexnet_network_param_name(const alexnet_network *net, int index);

/* ------------------------------------------------------------------------------------------------
 * Training: SGD with momentum and weight decay, the paper's update rule (section 5)
 *
 *     v <- momentum * v - weight_decay * lr * w - lr * grad
 *     w <- w + v
 *
 * applied to every parameter. At a constant learning rate this equals PyTorch's
 * torch.optim.SGD(lr, momentum, weight_decay).
 * --------------------------------------------------------------------------------------------- */

typedef struct alexnet_optimizer alexnet_optimizer;

typedef struct alexnet_sgd_config {
    size_t struct_size; /* set by alexnet_sgd_config_init */
    float learning_rate; /* > 0 */
    float momentum;      /* in [0, 1) */
    float weight_decay;  /* >= 0 */
} alexnet_sgd_config;

/* Fills `cfg` with the paper's values: learning rate 0.01, momentum 0.9, weight decay 0.0005.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL. */
ALEXNET_API alexnet_status alexnet_sgd_config_init(alexnet_sgd_config *cfg);

/* Creates an optimizer for `net`, with zero momentum buffers (and the network's gradients, if a
 * training forward has not made them yet). The network must outlive the optimizer.
 * Ownership: *out is the caller's; release it with alexnet_optimizer_free.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a value out of range; ALEXNET_ERR_STATE when
 * the network's weights are shared or mapped; ALEXNET_ERR_OUT_OF_MEMORY. */
ALEXNET_API alexnet_status alexnet_optimizer_create(alexnet_optimizer **out, alexnet_network *net,
                                                    const alexnet_sgd_config *cfg);

/* Releases an optimizer; NULL is ignored. */
ALEXNET_API void alexnet_optimizer_free(alexnet_optimizer *opt);

/* Copies the optimizer's hyperparameters (with the learning rate in force now) into `cfg`, whose
 * struct_size must be set (e.g. by alexnet_sgd_config_init). Since 1.0.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a struct_size too small. */
ALEXNET_API alexnet_status alexnet_optimizer_get_config(const alexnet_optimizer *opt,
                                                        alexnet_sgd_config *cfg);

/* Applies one update from the gradients of the last alexnet_network_backward.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_NUMERIC when the update would make a
 * weight or momentum non-finite, in which case nothing is changed; ALEXNET_ERR_STATE when the step
 * count has reached INT64_MAX (only a checkpoint can bring it there) or when shares of the network
 * exist (alexnet_network_share). */
ALEXNET_API alexnet_status alexnet_optimizer_step(alexnet_optimizer *opt);

/* Sets the learning rate for later steps (a host-driven schedule).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a rate that is not finite and > 0. */
ALEXNET_API alexnet_status alexnet_optimizer_set_learning_rate(alexnet_optimizer *opt, float lr);

/* The current learning rate, or 0 for NULL. */
ALEXNET_API float alexnet_optimizer_learning_rate(const alexnet_optimizer *opt);

/* Updates applied so far, and epochs ended (alexnet_optimizer_end_epoch) so far; 0 for NULL. Both
 * are saved in checkpoints. */
ALEXNET_API int64_t alexnet_optimizer_steps(const alexnet_optimizer *opt);
ALEXNET_API int64_t alexnet_optimizer_epochs(const alexnet_optimizer *opt);

/* Forward (training), backward and update in one call: the usual body of a training loop. *loss
 * (when not NULL) receives the batch's mean cross-entropy. Backward reads `input` where it is
 * rather than from a copy (the separate calls keep one, because their caller may reuse the tensor
 * in between), so a step holds less memory; afterwards alexnet_network_backward has no forward to
 * differentiate until the next training forward.
 * Errors: those of alexnet_network_forward and alexnet_network_backward; ALEXNET_ERR_NUMERIC when
 * the loss or the update is not finite, in which case no weight is changed. ALEXNET_ERR_INVALID_ARGUMENT
 * when `opt` belongs to another network; ALEXNET_ERR_STATE when the step count has reached
 * INT64_MAX (checked before the forward pass, so nothing changes). */
ALEXNET_API alexnet_status alexnet_train_step(alexnet_network *net, alexnet_optimizer *opt,
                                              const alexnet_tensor *input,
                                              const int32_t *labels, float *loss);

/* Learning-rate schedules, driven by the host once per epoch through alexnet_optimizer_end_epoch:
 *   CONSTANT  never changes the rate.
 *   STEP      multiplies it by `factor` every `step_epochs` epochs.
 *   PLATEAU   multiplies it by `factor` when the validation error has not improved (by more than
 *             `threshold`, relative) for `patience` epochs — the paper's "divide by 10 when the
 *             validation error stops improving".
 * The rate never goes below `min_learning_rate`. */
typedef enum alexnet_schedule_kind {
    ALEXNET_SCHEDULE_CONSTANT = 0,
    ALEXNET_SCHEDULE_STEP = 1,
    ALEXNET_SCHEDULE_PLATEAU = 2
} alexnet_schedule_kind;

typedef struct alexnet_schedule_config {
    size_t struct_size;          /* set by alexnet_schedule_config_init */
    alexnet_schedule_kind kind;
    float factor;                /* in (0, 1); default 0.1 */
    int step_epochs;             /* STEP: default 30 */
    int patience;                /* PLATEAU: default 1 */
    float threshold;             /* PLATEAU: default 1e-4 */
    float min_learning_rate;     /* default 1e-6 */
} alexnet_schedule_config;

/* Fills `cfg` with the defaults above for `kind`. Errors: ALEXNET_ERR_INVALID_ARGUMENT. */
ALEXNET_API alexnet_status alexnet_schedule_config_init(alexnet_schedule_config *cfg,
                                                        alexnet_schedule_kind kind);

/* Attaches a schedule to the optimizer (replacing any earlier one and its plateau history).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a value out of range. */
ALEXNET_API alexnet_status alexnet_optimizer_set_schedule(alexnet_optimizer *opt,
                                                          const alexnet_schedule_config *cfg);

/* Ends an epoch: counts it, and lets the schedule adjust the learning rate given this epoch's
 * validation error (any measure where lower is better; ignored by CONSTANT and STEP). *changed
 * (when not NULL) is set to 1 when the rate changed. Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL
 * or a non-finite validation error under PLATEAU; ALEXNET_ERR_STATE when the epoch count has
 * reached INT64_MAX. */
ALEXNET_API alexnet_status alexnet_optimizer_end_epoch(alexnet_optimizer *opt,
                                                       float validation_error, int *changed);

/* ------------------------------------------------------------------------------------------------
 * Weights and checkpoints: safetensors files
 *
 * Tensors are F32, keyed by canonical name, with the configuration in the metadata
 * ("alexnet.format": "1", "alexnet.config": JSON). Every file is validated completely — header
 * length, JSON, names, dtypes, shapes, offsets, every number of the metadata at full width and in
 * range — before any byte is used, and against the network its configuration describes before that
 * network is allocated; a file describing more than alexnet_limits.max_model_bytes is refused. Writes go to a temporary
 * file in the same directory, are flushed to disk and renamed over the target: a crash or failure
 * leaves the old file whole.
 * --------------------------------------------------------------------------------------------- */

/* Saves the network's configuration, seed and weights to `path`.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_IO (the old file is left intact). */
ALEXNET_API alexnet_status alexnet_network_save(const alexnet_network *net, const char *path);

/* Builds a network from a file written by alexnet_network_save or alexnet_checkpoint_save (its
 * optimizer state is ignored). The header is read and validated first; the values are then read
 * straight into the network's weights, with no copy of the file in memory.
 * Ownership: *out is the caller's.
 * Errors: ALEXNET_ERR_IO when the file cannot be read (or shrinks while it is read);
 * ALEXNET_ERR_FORMAT for anything malformed, including a file without libalexnet metadata (use
 * alexnet_network_load_weights for those). */
ALEXNET_API alexnet_status alexnet_network_load(alexnet_network **out, const char *path);

/* As alexnet_network_load, but the weights stay in the file: it is mapped into memory (mmap) and
 * the network reads its values there. Loading copies nothing, pages come from the page cache as
 * they are used, and every process that maps the same file shares them. The network is for
 * inference (and for alexnet_network_share): training it fails with ALEXNET_ERR_STATE.
 * The mapping is private: the file is opened read-only and never written; a write through a
 * parameter view copies the page it touches for this process only.
 * The file must stay as it is while the network lives. Replacing it with alexnet_network_save (or
 * anything that writes a new file and renames it over the old, as most tools do) is safe: the
 * network keeps reading the old file. Writing into the file in place changes the weights the
 * network sees, and truncating it makes the next read of a page past the new end raise SIGBUS in
 * the host process — that cannot be caught as an error; use alexnet_network_load when the file
 * may be modified in place. Sizes are validated before mapping, so a file that was already
 * truncated is refused with ALEXNET_ERR_FORMAT.
 * When the values cannot be used in place (a big-endian host, a tensor not at a 4-byte aligned
 * offset, or a filesystem that cannot map files), they are read as alexnet_network_load would;
 * alexnet_network_memory tells which happened. Since 1.1.
 * Errors: those of alexnet_network_load. */
ALEXNET_API alexnet_status alexnet_network_load_mapped(alexnet_network **out, const char *path);

/* Loads weights into an existing network: from our own files, or from a PyTorch state_dict saved
 * as safetensors (no metadata needed; torchvision keys such as "features.0.weight" accepted).
 * Every parameter must be present once with the network's shape; tensors named "optimizer.*"
 * (checkpoint state) are skipped; any other tensor is an error. The values are read into new
 * storage that replaces the old once complete (so for a moment both are held); on error the
 * network is unchanged. A network loaded mapped gets its weights on the heap from then on.
 * Errors: ALEXNET_ERR_IO; ALEXNET_ERR_FORMAT (the message names the tensor and the problem);
 * ALEXNET_ERR_STATE when the weights are shared (alexnet_network_share);
 * ALEXNET_ERR_OUT_OF_MEMORY. */
ALEXNET_API alexnet_status alexnet_network_load_weights(alexnet_network *net, const char *path);

/* Saves everything needed to resume training exactly: configuration, seed and dropout step,
 * weights, momentum buffers ("optimizer.<name>.momentum"), and the optimizer's hyperparameters,
 * step and epoch counts and schedule state.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or an optimizer of another network; ALEXNET_ERR_IO. */
ALEXNET_API alexnet_status alexnet_checkpoint_save(const alexnet_network *net,
                                                   const alexnet_optimizer *opt, const char *path);

/* Restores a network and its optimizer from a checkpoint; training continues exactly as it would
 * have. Ownership: both are the caller's (free the optimizer first).
 * Errors: ALEXNET_ERR_IO; ALEXNET_ERR_FORMAT, including a weights-only file. */
ALEXNET_API alexnet_status alexnet_checkpoint_load(alexnet_network **net, alexnet_optimizer **opt,
                                                   const char *path);

/* Class names, kept with the network and saved in its files ("alexnet.classes"), so a program that
 * loads a model can print what it predicts. Copies `count` names (count must equal num_classes);
 * count 0 clears them. Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a wrong count. */
ALEXNET_API alexnet_status alexnet_network_set_class_names(alexnet_network *net,
                                                           const char *const *names, int count);

/* The name of class `index`, or NULL when the network has no names or the index is out of range.
 * Owned by the network. */
ALEXNET_API const char *alexnet_network_class_name(const alexnet_network *net, int index);

/* ------------------------------------------------------------------------------------------------
 * Images
 *
 * Images are tensors [C, H, W] of floats in [0, 1] (C = 1 grey or 3 RGB). Decoding uses stb_image
 * on untrusted input: PNG and JPEG only, within the image limits of alexnet_limits (file bytes,
 * pixels per side and in all), checked from the header before anything is allocated. A palette
 * PNG whose pixels use a colour its palette does not define is refused, as the PNG standard
 * requires. Every failure is ALEXNET_ERR_FORMAT (or ALEXNET_ERR_IO for the file itself) with the
 * file name and the reason.
 * --------------------------------------------------------------------------------------------- */

/* Decodes a PNG or JPEG held in memory, converting to `channels` (1: grey, from RGB by luminance;
 * 3: RGB, grey replicated; alpha dropped). Ownership: *out is the caller's. */
ALEXNET_API alexnet_status alexnet_image_decode(alexnet_tensor **out, const void *data, size_t size,
                                                int channels);

/* Reads and decodes a PNG or JPEG file, as alexnet_image_decode. */
ALEXNET_API alexnet_status alexnet_image_load(alexnet_tensor **out, const char *path, int channels);

/* Writes an image [C, H, W] (C = 1 or 3, values clamped to [0, 1]) as an 8-bit PNG, crash-safely
 * (as alexnet_network_save). Errors: ALEXNET_ERR_SHAPE; ALEXNET_ERR_IO. */
ALEXNET_API alexnet_status alexnet_image_save_png(const alexnet_tensor *image, const char *path);

/* Resizes to height x width (stb_image_resize: Mitchell filter down, Catmull-Rom up). */
ALEXNET_API alexnet_status alexnet_image_resize(alexnet_tensor **out, const alexnet_tensor *image,
                                                int height, int width);

/* Resizes so that the shorter side is `side`, keeping the aspect ratio (the paper: 256). */
ALEXNET_API alexnet_status alexnet_image_resize_shorter(alexnet_tensor **out,
                                                        const alexnet_tensor *image, int side);

/* Copies the window at (top, left) of size height x width. The window may reach past the image:
 * those pixels are 0 (so padding and cropping is one call). */
ALEXNET_API alexnet_status alexnet_image_crop(alexnet_tensor **out, const alexnet_tensor *image,
                                              int top, int left, int height, int width);

/* Mirrors an image [C, H, W] or a batch [N, C, H, W] left to right, in place. */
ALEXNET_API alexnet_status alexnet_image_flip(alexnet_tensor *image);

/* x <- (x - mean[c]) / std[c] for every channel c of an image or batch, in place. */
ALEXNET_API alexnet_status alexnet_image_normalize(alexnet_tensor *image, const float *mean,
                                                   const float *std);

/* The principal components of RGB pixel values (paper, section 4.1): eigenvalues in decreasing
 * order, eigenvectors as the columns of `eigenvectors` (eigenvectors[row][component]).
 * A plain value type, not a configuration struct: it has no struct_size because it is complete
 * (three components of a three-channel colour space) and its layout is frozen for the life of the
 * ABI. Embedded by value in alexnet_loader_config; any other colour model would be a new type
 * appended to that struct, never a change to this one. */
typedef struct alexnet_color_pca {
    float eigenvalues[3];
    float eigenvectors[3][3];
} alexnet_color_pca;

/* Fits the components to the pixels of `count` RGB images [3, H, W].
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or no pixels; ALEXNET_ERR_SHAPE for an image that
 * is not RGB [3, H, W] (a grey one included). */
ALEXNET_API alexnet_status alexnet_color_pca_fit(alexnet_color_pca *pca,
                                                 const alexnet_tensor *const *images, int count);

/* Adds [p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T to every pixel of an RGB image, for alpha = (a1, a2, a3)
 * (the paper draws each a_i from N(0, 0.1) once per image).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_SHAPE for an image that is not RGB
 * [3, H, W]; ALEXNET_ERR_NUMERIC when an alpha, eigenvalue or eigenvector entry is NaN or
 * infinite (the image is unchanged). */
ALEXNET_API alexnet_status alexnet_image_color_jitter(alexnet_tensor *image,
                                                      const alexnet_color_pca *pca,
                                                      const float alpha[3]);

/* How a model wants its images prepared, in one struct: the file of a model records it
 * (alexnet_network_set_preprocessing), alexnet_image_preprocess applies it, and alexnet-classify
 * uses what the model records. The steps, in order: resize; centre crop to the network's input;
 * RGB to BGR if `bgr`; x <- (x * scale - mean[c]) / std[c] per channel. Since 1.1. */
typedef enum alexnet_resize_mode {
    ALEXNET_RESIZE_NONE = 0,    /* keep the image's size                                     */
    ALEXNET_RESIZE_SHORTER = 1, /* the shorter side to resize_side, keeping the aspect ratio
                                   (torchvision: 256)                                         */
    ALEXNET_RESIZE_SQUARE = 2   /* both sides to resize_side (Caffe: 256 x 256)               */
} alexnet_resize_mode;

typedef enum alexnet_preprocessing_kind {
    /* Pixels as decoded, in [0, 1]; no resizing; nothing subtracted. */
    ALEXNET_PREPROCESSING_PLAIN = 0,
    /* The standard ImageNet preprocessing of torchvision's models: the shorter side resized to
     * 256, the centre cropped, RGB in [0, 1] normalised with mean (0.485, 0.456, 0.406) and std
     * (0.229, 0.224, 0.225). */
    ALEXNET_PREPROCESSING_IMAGENET = 1,
    /* Caffe's bvlc_alexnet: resized to 256 x 256, the centre cropped, BGR in [0, 255] minus the
     * ImageNet mean pixel (104.01, 116.67, 122.68 in B, G, R order). */
    ALEXNET_PREPROCESSING_CAFFE = 2
} alexnet_preprocessing_kind;

typedef struct alexnet_preprocessing {
    size_t struct_size;         /* set by alexnet_preprocessing_init                           */
    alexnet_resize_mode resize;
    int resize_side;            /* 1 to ALEXNET_MAX_SIDE (unused with ALEXNET_RESIZE_NONE)      */
    int bgr;                    /* 1: RGB images go in as B, G, R (Caffe); 0: as they are      */
    float scale;                /* decoded values in [0, 1] are multiplied by this first: 1, or
                                   255 for Caffe; finite, above 0                              */
    float mean[3];              /* subtracted per channel, in the network's channel order
                                   (after the swap); a grey network uses mean[0]              */
    float std[3];               /* divided by per channel; finite, above 0                     */
} alexnet_preprocessing;

/* Fills `p` with one of the kinds above. Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or an
 * unknown kind. Since 1.1. */
ALEXNET_API alexnet_status alexnet_preprocessing_init(alexnet_preprocessing *p,
                                                      alexnet_preprocessing_kind kind);

/* Prepares a decoded image [C, H, W] (values in [0, 1]) as `p` says, in one call: *out is
 * [C, height, width], the centre crop after resizing (a crop larger than the image is padded
 * with 0 before normalising). height = width = 0 crops nothing, leaving the whole resized image
 * for alexnet_predict_ten_crop. The standard ImageNet preprocessing is
 * alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_IMAGENET) followed by
 * alexnet_image_preprocess(&x, image, &p, 224, 224).
 * Ownership: *out is the caller's. Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL, a field of `p`
 * out of range (the message names it) or one of height and width 0; ALEXNET_ERR_SHAPE for an
 * image that is not [1 or 3, H, W], or BGR asked of a grey image. Since 1.1. */
ALEXNET_API alexnet_status alexnet_image_preprocess(alexnet_tensor **out,
                                                    const alexnet_tensor *image,
                                                    const alexnet_preprocessing *p, int height,
                                                    int width);

/* The preprocessing the network was given (alexnet_network_set_preprocessing, or its file). A
 * network that records none gets the usual one for its input: for 3 channels ImageNet's, resized
 * to 8/7 of the input side (256 for 224); for 1 channel the plain one, resized to the input side.
 * `p->struct_size` must be set (alexnet_preprocessing_init does). Since 1.1.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a struct_size smaller than any version. */
ALEXNET_API alexnet_status alexnet_network_get_preprocessing(const alexnet_network *net,
                                                             alexnet_preprocessing *p);

/* Records how the network's images are to be prepared; alexnet_network_save stores it in the file
 * (key "alexnet.preprocessing"), and shares keep it. NULL clears it. Since 1.1.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for a field out of range, or BGR for a grey network. */
ALEXNET_API alexnet_status alexnet_network_set_preprocessing(alexnet_network *net,
                                                             const alexnet_preprocessing *p);

/* Test-time augmentation (paper, section 4.1): the four corner crops and the centre crop of the
 * network's input size, and their mirror images, through the network as one batch; writes the
 * average of the ten softmax outputs to `probabilities`, a tensor of num_classes elements
 * ([num_classes] or [1, num_classes]) allocated by the caller. The image [C, H, W] must be at
 * least the input size (e.g. resized so its shorter side is 256).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_SHAPE for an image smaller than the
 * input size or a probabilities tensor of another size (nothing is written). */
ALEXNET_API alexnet_status alexnet_predict_ten_crop(alexnet_network *net,
                                                    const alexnet_tensor *image,
                                                    alexnet_tensor *probabilities);

/* Softmax of logits [N, classes] into probabilities (same shape, may be the same tensor).
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL; ALEXNET_ERR_SHAPE; ALEXNET_ERR_NUMERIC when a
 * logit is NaN or infinite (the message gives its row and column; nothing is written). */
ALEXNET_API alexnet_status alexnet_softmax(const alexnet_tensor *logits,
                                           alexnet_tensor *probabilities);

/* ------------------------------------------------------------------------------------------------
 * Data sets and batch loaders
 * --------------------------------------------------------------------------------------------- */

typedef struct alexnet_dataset alexnet_dataset;

/* Opens an IDX image file and its label file (the MNIST / Fashion-MNIST format), gzipped or not.
 * Both are read and validated completely: magic numbers, dimensions, counts that agree with each
 * other and with the file sizes. Images are 8-bit grey [1, rows, cols].
 * Errors: ALEXNET_ERR_IO; ALEXNET_ERR_FORMAT with the file name and the problem. */
ALEXNET_API alexnet_status alexnet_dataset_open_idx(alexnet_dataset **out, const char *images_path,
                                                    const char *labels_path);

/* Opens an image-folder tree, ImageNet style: one subfolder per class (class names are the folder
 * names, sorted), PNG and JPEG files inside (sorted). Images are decoded when used, to `channels`.
 * Errors: ALEXNET_ERR_IO; ALEXNET_ERR_FORMAT when no class folder or no image is found. */
ALEXNET_API alexnet_status alexnet_dataset_open_folder(alexnet_dataset **out, const char *root,
                                                       int channels);

/* Releases a data set (after every loader made from it); NULL is ignored. */
ALEXNET_API void alexnet_dataset_free(alexnet_dataset *ds);

/* Samples and classes; 0 for NULL. */
ALEXNET_API int64_t alexnet_dataset_size(const alexnet_dataset *ds);
ALEXNET_API int alexnet_dataset_num_classes(const alexnet_dataset *ds);

/* A class's name (folder name; for IDX the label as a number), or NULL when out of range. */
ALEXNET_API const char *alexnet_dataset_class_name(const alexnet_dataset *ds, int index);

/* Sample `index`: its image [C, H, W] in [0, 1] (owned by the caller) and label.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for an index out of range; decoding errors for a bad file
 * of a folder data set (the message names it). */
ALEXNET_API alexnet_status alexnet_dataset_get(const alexnet_dataset *ds, int64_t index,
                                               alexnet_tensor **image, int32_t *label);

/* Fits alexnet_color_pca to up to `max_images` images of an RGB data set, picked with `seed`.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or max_images < 1; ALEXNET_ERR_SHAPE for a grey
 * data set; decoding errors of a folder data set's images. */
ALEXNET_API alexnet_status alexnet_dataset_color_pca(const alexnet_dataset *ds, int64_t max_images,
                                                     uint64_t seed, alexnet_color_pca *pca);

typedef struct alexnet_loader alexnet_loader;

/* What a loader does with a sample it cannot decode (a corrupt file in a folder tree). */
typedef enum alexnet_bad_sample_policy {
    ALEXNET_BAD_SAMPLE_STOP = 0, /* alexnet_loader_next fails, naming the file */
    ALEXNET_BAD_SAMPLE_SKIP = 1  /* leave it out of the batch and report it to the callback */
} alexnet_bad_sample_policy;

/* How batches are made: every sample is (optionally) resized so its shorter side is
 * `resize_shorter`, cropped to height x width — at a random place within `pad` pixels of zero
 * padding, or in the centre — mirrored with probability 1/2, shifted along the PCA colour
 * components, converted to `channels` and normalised. All randomness comes from `seed`, the epoch
 * and the sample's index: reproducible whatever the batch size or thread timing. */
typedef struct alexnet_loader_config {
    size_t struct_size;                 /* set by alexnet_loader_config_init */
    int batch_size;                     /* default 128 */
    int shuffle;                        /* new order every epoch; default 1 */
    uint64_t seed;
    int channels, height, width;        /* batch images [N, channels, height, width] */
    int resize_shorter;                 /* 0: no resizing (default); the paper: 256 */
    int random_crop;                    /* 1: random window (training); 0: centre (default) */
    int pad;                            /* zero padding around random crops; default 0 */
    int flip;                           /* random horizontal mirroring; default 0 */
    float pca_std;                      /* std of the PCA colour alphas (paper 0.1); 0: off */
    alexnet_color_pca pca;              /* components, from alexnet_dataset_color_pca */
    float mean[3], std[3];              /* per-channel normalisation; default 0 and 1 */
    int prefetch;                       /* prepare the next batch on a thread; default 1 */
    alexnet_bad_sample_policy on_bad_sample;
    /* Called for each skipped sample, on the thread that calls alexnet_loader_next. */
    void (*bad_sample_callback)(void *user, const char *message);
    void *callback_user;
    /* Since 1.1, for data-parallel training: process shard_index of shard_count (0-based) loads
     * its part of each global batch of batch_size x shard_count samples — the global batches
     * being those one process with that batch size would load, from the same seed and epoch —
     * so the shards of one epoch together hold every sample once. The last global batch is split
     * as evenly as it goes (a shard gets nothing when it holds fewer samples than there are
     * shards; alexnet_loader_next then ends that shard's epoch a batch early). Defaults 1, 0. */
    int shard_count;                    /* 1 to 65536                                       */
    int shard_index;                    /* 0 to shard_count - 1                             */
} alexnet_loader_config;

/* Fills `cfg` with the defaults above for batches of [channels, height, width] images.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL, channels other than 1 or 3, or a height or width
 * outside 1..ALEXNET_MAX_SIDE (cfg is then unchanged). */
ALEXNET_API alexnet_status alexnet_loader_config_init(alexnet_loader_config *cfg, int channels,
                                                      int height, int width);

/* Creates a loader over `ds`, which must outlive it. Ownership: *out is the caller's.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for a config out of range; ALEXNET_ERR_INTERNAL when the
 * prefetch thread cannot start. */
ALEXNET_API alexnet_status alexnet_loader_create(alexnet_loader **out, const alexnet_dataset *ds,
                                                 const alexnet_loader_config *cfg);

/* Stops the prefetch thread and releases the loader; NULL is ignored. */
ALEXNET_API void alexnet_loader_free(alexnet_loader *ld);

/* The largest epoch number: the epoch is 24 bits of the name of each random stream. */
#define ALEXNET_MAX_EPOCH 16777215

/* Starts epoch `epoch`, 0 to ALEXNET_MAX_EPOCH: the sample order is a function of the seed and the
 * epoch, so a resumed run can restart at the epoch it stopped in.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or an epoch out of range. */
ALEXNET_API alexnet_status alexnet_loader_start_epoch(alexnet_loader *ld, int64_t epoch);

/* The next batch of the epoch: *images [N, C, H, W] and *labels [N], borrowed until the next call
 * (N is the batch size, or fewer for the last batch or after skipped samples). At the end of the
 * epoch *images is NULL and the status ALEXNET_OK. While the caller trains on a batch, the
 * prefetch thread prepares the next.
 * Errors: ALEXNET_ERR_STATE before alexnet_loader_start_epoch; a bad sample under
 * ALEXNET_BAD_SAMPLE_STOP (the message names the file). */
ALEXNET_API alexnet_status alexnet_loader_next(alexnet_loader *ld, alexnet_tensor **images,
                                               const int32_t **labels);

/* Batches per epoch (before any skipped sample); with shards, the global batches, the same
 * number for every shard; 0 for NULL. */
ALEXNET_API int64_t alexnet_loader_batches(const alexnet_loader *ld);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALEXNET_ALEXNET_H */
