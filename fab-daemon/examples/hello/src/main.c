#include <stdio.h>

#include "greet.h"
#include "strutil.h"
#include "version.h"

int main(int argc, char **argv) {
    const char *who = argc > 1 ? argv[1] : "world";
    char upper[128];
    str_upper(upper, sizeof upper, who);
    printf("%s\n", greet(upper));
    printf("hello %s\n", hello_version());
    return 0;
}
