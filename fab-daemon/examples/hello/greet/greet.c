#include "greet.h"

#include <stdio.h>

const char *greet(const char *name) {
    static char buffer[256];
    snprintf(buffer, sizeof buffer, "Hello, %s!", name);
    return buffer;
}
