#include <stdio.h>
#include <string.h>

#include "strutil.h"

int main(void) {
    char buf[8];
    str_upper(buf, sizeof buf, "abc");
    if (strcmp(buf, "ABC") != 0) {
        fprintf(stderr, "str_upper(abc) = %s\n", buf);
        return 1;
    }
    str_upper(buf, sizeof buf, "truncated!");
    if (strcmp(buf, "TRUNCAT") != 0) {
        fprintf(stderr, "str_upper truncation = %s\n", buf);
        return 1;
    }
    printf("test_strutil: ok\n");
    return 0;
}
