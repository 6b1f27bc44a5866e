#include "alexnet/alexnet.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

unsigned alexnet_version(void)
{
    return ALEXNET_VERSION;
}

const char *alexnet_version_string(void)
{
    return STRINGIFY(ALEXNET_VERSION_MAJOR) "." STRINGIFY(ALEXNET_VERSION_MINOR) "." STRINGIFY(
        ALEXNET_VERSION_PATCH);
}
