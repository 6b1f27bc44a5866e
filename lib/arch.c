/* The three architectures as data: five convolution stages and three fully connected layers,
 * expanded into the network's layer list (conv, ReLU, optional LRN and max pooling per stage;
 * dropout, linear, ReLU per hidden FC layer). Shapes: docs/architectures.md. */
#include "lrn_fusion.h"
#include "error.h"
#include "network.h"

#include <stdio.h>
#include <string.h>

typedef struct conv_spec {
    int out, kernel, stride, pad, groups;
    bool lrn, pool;
} conv_spec;

typedef struct arch_spec {
    const char *name;                     /* the enumerator, for messages */
    const char *key;                      /* the name in files and on command lines */
    int channels, height, width, classes; /* defaults */
    conv_spec conv[5];
    int adaptive; /* side of the adaptive average pooling after stage 5; 0 for none */
    int hidden;   /* width of fc6 and fc7 */
} arch_spec;

/* One row per stage reads better than one value per line. */
/* clang-format off */
static const arch_spec ARCHS[] = {
    [ALEXNET_ARCH_PAPER] = {"ALEXNET_ARCH_PAPER", "paper", 3, 227, 227, 1000,
                            {{96, 11, 4, 0, 1, true, true},
                             {256, 5, 1, 2, 2, true, true},
                             {384, 3, 1, 1, 1, false, false},
                             {384, 3, 1, 1, 2, false, false},
                             {256, 3, 1, 1, 2, false, true}},
                            0, 4096},
    [ALEXNET_ARCH_TORCHVISION] = {"ALEXNET_ARCH_TORCHVISION", "torchvision", 3, 224, 224, 1000,
                                  {{64, 11, 4, 2, 1, false, true},
                                   {192, 5, 1, 2, 1, false, true},
                                   {384, 3, 1, 1, 1, false, false},
                                   {256, 3, 1, 1, 1, false, false},
                                   {256, 3, 1, 1, 1, false, true}},
                                  6, 4096},
    [ALEXNET_ARCH_MINI] = {"ALEXNET_ARCH_MINI", "mini", 1, 28, 28, 10,
                           {{32, 3, 1, 1, 1, true, true},
                            {64, 3, 1, 1, 1, true, true},
                            {96, 3, 1, 1, 1, false, false},
                            {96, 3, 1, 1, 1, false, false},
                            {64, 3, 1, 1, 1, false, true}},
                           0, 512},
};
/* clang-format on */

static const char *const TORCH_CONV[5] = {"features.0", "features.3", "features.6", "features.8",
                                          "features.10"};
static const char *const TORCH_FC[3] = {"classifier.1", "classifier.4", "classifier.6"};

/* The paper's LRN constants in the PyTorch convention (alpha is divided by the size): the
 * defaults of the config's lrn_* fields. */
static const int LRN_SIZE = 5;
static const float LRN_ALPHA = 5e-4f, LRN_BETA = 0.75f, LRN_K = 2.0f;

bool arch_valid(alexnet_arch arch)
{
    return (unsigned)arch < sizeof ARCHS / sizeof ARCHS[0];
}

const char *arch_name(alexnet_arch arch)
{
    return arch_valid(arch) ? ARCHS[arch].name : "unknown architecture";
}

const char *arch_key(alexnet_arch arch)
{
    return arch_valid(arch) ? ARCHS[arch].key : NULL;
}

bool arch_from_key(const char *key, alexnet_arch *arch)
{
    for (size_t a = 0; key != NULL && a < sizeof ARCHS / sizeof ARCHS[0]; a++)
        if (strcmp(key, ARCHS[a].key) == 0) {
            *arch = (alexnet_arch)a;
            return true;
        }
    return false;
}

void arch_defaults(alexnet_config *cfg, alexnet_arch arch)
{
    const arch_spec *a = &ARCHS[arch];
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->arch = arch;
    cfg->in_channels = a->channels;
    cfg->in_height = a->height;
    cfg->in_width = a->width;
    cfg->num_classes = a->classes;
    cfg->dropout = 0.5f;
    cfg->init = ALEXNET_INIT_PAPER;
    cfg->pool_ceil = 0;
    cfg->lrn_size = LRN_SIZE;
    cfg->lrn_alpha = LRN_ALPHA;
    cfg->lrn_beta = LRN_BETA;
    cfg->lrn_k = LRN_K;
    cfg->activation = ALEXNET_ACTIVATION_RELU;
    cfg->lrn = arch_has_lrn(arch);
    cfg->pool_size = 3; /* overlapping pooling, section 3.4 */
    cfg->init_bias = 1.0f;
}

bool arch_uses_format_2(const alexnet_config *cfg)
{
    return cfg->pool_ceil != 0 || cfg->activation != ALEXNET_ACTIVATION_RELU ||
           cfg->pool_size != 3 || cfg->lrn != arch_has_lrn(cfg->arch) ||
           (cfg->lrn && (cfg->lrn_size != LRN_SIZE || cfg->lrn_alpha != LRN_ALPHA ||
                         cfg->lrn_beta != LRN_BETA || cfg->lrn_k != LRN_K));
}

bool arch_has_lrn(alexnet_arch arch)
{
    for (int i = 0; i < 5; i++)
        if (ARCHS[arch].conv[i].lrn)
            return true;
    return false;
}

bool arch_accepts_any_size(alexnet_arch arch)
{
    return ARCHS[arch].adaptive > 0;
}

/* Builds layers into `net` while following the shape of one sample; on a layer that the input is
 * too small for, stops and names it in *failed. */
typedef struct builder {
    alexnet_network *net;
    shape s;
    const char *failed;
} builder;

static layer *add(builder *b, const layer_ops *ops, const char *base, int number)
{
    if (b->failed)
        return NULL;
    layer *l = &b->net->layers[b->net->num_layers];
    memset(l, 0, sizeof *l);
    l->ops = ops;
    l->index = b->net->num_layers++;
    snprintf(l->name, sizeof l->name, "%s%d", base, number);
    return l;
}

static void finish(builder *b, layer *l)
{
    if (l == NULL)
        return;
    shape out;
    if (!l->ops->output_shape(l, b->s, &out) || out.h < 1 || out.w < 1) {
        b->failed = l->name;
        return;
    }
    b->s = out;
}

static void add_params(builder *b, layer *l, const char *torch_base)
{
    if (l == NULL)
        return;
    for (int is_bias = 0; is_bias < 2; is_bias++) {
        network_param *p = &b->net->params[b->net->num_params++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s.%s", l->name, is_bias ? "bias" : "weight");
        snprintf(p->torch_name, sizeof p->torch_name, "%s.%s", torch_base,
                 is_bias ? "bias" : "weight");
        p->owner = l;
        p->is_bias = is_bias;
    }
}

static layer *add_activation(builder *b, int number)
{
    layer *l = b->net->config.activation == ALEXNET_ACTIVATION_TANH
                   ? add(b, &tanh_ops, "tanh", number)
                   : add(b, &relu_ops, "relu", number);
    finish(b, l);
    return l;
}

static void build(builder *b)
{
    const alexnet_config *cfg = &b->net->config;
    const arch_spec *a = &ARCHS[cfg->arch];
    b->net->num_layers = 0;
    b->net->num_params = 0;
    b->s = (shape){cfg->in_channels, cfg->in_height, cfg->in_width};
    for (int i = 0; i < 5; i++) {
        const conv_spec *c = &a->conv[i];
        layer *l = add(b, &conv_ops, "conv", i + 1), *conv = l;
        if (l) {
            l->conv.in_channels = b->s.c;
            l->conv.out_channels = c->out;
            l->conv.kernel = c->kernel;
            l->conv.stride = c->stride;
            l->conv.pad = c->pad;
            l->conv.groups = c->groups;
        }
        finish(b, l);
        add_params(b, l, TORCH_CONV[i]);
        layer *activation = add_activation(b, i + 1);
        if (l && activation && activation->ops == &relu_ops)
            l->conv.relu = activation->relu.applied_by_previous = true;
        if (c->lrn && cfg->lrn) {
            l = add(b, &lrn_ops, "lrn", i + 1);
            if (l) {
                l->lrn.size = cfg->lrn_size;
                l->lrn.alpha = cfg->lrn_alpha;
                l->lrn.beta = cfg->lrn_beta;
                l->lrn.k = cfg->lrn_k;
                if (activation && activation->ops == &relu_ops)
                    l->lrn.masks_relu = activation->relu.masked_by_next = true;
                /* A network of fixed input size only: its shapes are the ones seen here. */
                if (!arch_accepts_any_size(cfg->arch) && lrn_fusion_takes_conv(conv, l, b->s)) {
                    conv->conv.run_by_lrn = true;
                    l->lrn.conv_before = l->index - conv->index;
                }
            }
            finish(b, l);
        }
        layer *lrn = c->lrn && cfg->lrn ? l : NULL;
        if (c->pool) {
            l = add(b, &maxpool_ops, "pool", i + 1);
            if (l) {
                l->pool.kernel = cfg->pool_size;
                l->pool.stride = 2;
                l->pool.ceil = cfg->pool_ceil;
                if (lrn && !arch_accepts_any_size(cfg->arch) && lrn_fusion_takes_pool(lrn, l, b->s))
                    lrn->lrn.runs_pool = l->pool.run_by_lrn = true;
            }
            finish(b, l);
        }
    }
    if (a->adaptive) {
        layer *l = add(b, &adaptive_avgpool_ops, "avgpool", 6);
        if (l)
            l->adaptive.out_h = l->adaptive.out_w = a->adaptive;
        finish(b, l);
    }
    for (int i = 0; i < 3; i++) {
        const int number = 6 + i;
        if (i < 2) {
            layer *d = add(b, &dropout_ops, "drop", number);
            if (d)
                d->dropout.p = cfg->dropout;
            finish(b, d);
        }
        layer *l = add(b, &linear_ops, "fc", number);
        if (l) {
            l->linear.in_features = (int)shape_size(b->s);
            l->linear.out_features = i < 2 ? a->hidden : cfg->num_classes;
        }
        finish(b, l);
        add_params(b, l, TORCH_FC[i]);
        if (i < 2)
            add_activation(b, number);
    }
}

int arch_min_input(const alexnet_config *cfg)
{
    static _Thread_local alexnet_network probe; /* large: kept off the stack */
    for (int side = 1; side <= 4096; side++) {
        probe.config = *cfg;
        probe.config.in_height = probe.config.in_width = side;
        builder b = {.net = &probe};
        build(&b);
        if (!b.failed)
            return side;
    }
    return 4097;
}

alexnet_status arch_build(const char *fn, alexnet_network *net)
{
    builder b = {.net = net};
    build(&b);
    if (b.failed) {
        const alexnet_config *cfg = &net->config;
        int min = arch_min_input(cfg);
        return error_set(ALEXNET_ERR_SHAPE,
                         "%s: a %dx%d input is too small for %s: nothing is left of it after %s; "
                         "the smallest input is %dx%d",
                         fn, cfg->in_height, cfg->in_width, arch_name(cfg->arch), b.failed, min,
                         min);
    }
    return ALEXNET_OK;
}
