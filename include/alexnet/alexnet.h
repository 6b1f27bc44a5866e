/*
 * libalexnet — AlexNet (Krizhevsky, Sutskever, Hinton, 2012) as an embeddable C library.
 *
 * This is the one public header. It compiles as C99 and as C++; every exported symbol starts with
 * `alexnet_`.
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
 *   Outputs   On failure, an `out` pointer argument is set to NULL (when `out` itself is not NULL),
 *             and nothing the caller owns is changed.
 *   Structs   Configuration structs begin with `size_t struct_size` and are filled by an *_init
 *             function, so later versions can append fields without breaking the ABI.
 *   Threads   Handles are not internally locked: use one handle from one thread at a time.
 *             Different handles may be used from different threads. The last error is per thread.
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
#define ALEXNET_VERSION_MINOR 0
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

/* Size of dimension `axis` (0-based; -1 is the last), or -1 (with the last error set) for NULL or an
 * axis out of range. */
ALEXNET_API int64_t alexnet_tensor_dim(const alexnet_tensor *tensor, int axis);

/* Total number of elements, or 0 for NULL. */
ALEXNET_API int64_t alexnet_tensor_numel(const alexnet_tensor *tensor);

/* The tensor's contiguous float storage, writable; NULL for NULL. Borrowed: valid while the tensor
 * (or, for a parameter view, its network) lives. */
ALEXNET_API float *alexnet_tensor_data(alexnet_tensor *tensor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALEXNET_ALEXNET_H */
