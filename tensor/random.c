/* TEMPORARY stub: being written. */
#include "internal.h"
