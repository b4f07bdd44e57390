#ifndef STRUTIL_H
#define STRUTIL_H
#include <stddef.h>

/* Copies src into dst (at most size bytes, always terminated), upper-cased. */
void str_upper(char *dst, size_t size, const char *src);

#endif
