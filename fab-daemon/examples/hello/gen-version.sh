#!/bin/sh
# gen-version.sh VERSION-FILE HEADER SOURCE: one step, two products (version.h and version.c).
set -e
v=$(cat "$1")
printf '#ifndef VERSION_H\n#define VERSION_H\nconst char *hello_version(void);\n#endif\n' > "$2"
printf '#include "version.h"\nconst char *hello_version(void) { return "%s"; }\n' "$v" > "$3"
