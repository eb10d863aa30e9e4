/* The data room's private header.  Only the room's files, built with
 * ATTOGRAD_DATA_ROOM, include it. */
#ifndef ATTOGRAD_DATA_INTERNAL_H
#define ATTOGRAD_DATA_INTERNAL_H

#ifndef ATTOGRAD_DATA_ROOM
#error "data/data_internal.h is private to the data room (use data/data.h)"
#endif

#include "data/data.h"

/* 0 when item holds 1 to DATA_MAX_FIELDS tensors, none NULL; else -1 with a
 * message "fn: what ..." (a NULL tensor keeps the message of the op that
 * failed, as a NULL input to an op does). */
int data__check_fields(const char *fn, const char *what, const DataItem *item);

#endif /* ATTOGRAD_DATA_INTERNAL_H */
