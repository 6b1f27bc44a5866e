/* The process-wide limits on untrusted input (alexnet_limits), read by every parser before it
 * allocates what a file declares. */
#ifndef ALEXNET_INPUT_LIMITS_H
#define ALEXNET_INPUT_LIMITS_H

#include "alexnet/alexnet.h"

/* A consistent copy of the limits in force. */
alexnet_limits limits_current(void);

#endif
