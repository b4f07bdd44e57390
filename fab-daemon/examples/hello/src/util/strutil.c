#include "strutil.h"

#include <ctype.h>

void str_upper(char *dst, size_t size, const char *src) {
    size_t i = 0;
    if (size == 0) {
        return;
    }
    for (; src[i] != '\0' && i + 1 < size; i++) {
        dst[i] = (char) toupper((unsigned char) src[i]);
    }
    dst[i] = '\0';
}
