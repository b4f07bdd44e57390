#ifndef FAB_SHA256_H
#define FAB_SHA256_H

#include <stddef.h>
#include <stdint.h>

/** The SHA-256 digest of len bytes at data. */
void sha256(const void *data, size_t len, unsigned char out[32]);

#endif
