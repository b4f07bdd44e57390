#!/bin/sh
# generate.sh N DIR: a C project of N source files (100 per directory) under DIR, with the same
# build described three ways: fabfile, Makefile, build.ninja. Every object depends on its .c, on
# include/common.h and on its directory's shared header src/dK/local.h (the "one changed shared
# header" of daemon-run.sh: 100 includers); each directory's objects go into an archive build/dK.a (one command line for
# 10,000 objects would pass Linux's 128 KiB limit on one argument of sh -c); build/app links
# main.o and the archives.
set -eu
n=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir/include" "$dir/src"
printf '#ifndef COMMON_H\n#define COMMON_H\nint add(int a, int b);\n#endif\n' > "$dir/include/common.h"
i=0
{
  printf '#include <stdio.h>\n#include "common.h"\n'
  while [ "$i" -lt "$n" ]; do printf 'int f%d(int);\n' "$i"; i=$((i + 1)); done
  printf 'int add(int a, int b) { return a + b; }\nint main(void) {\n  int s = 0;\n'
  i=0
  while [ "$i" -lt "$n" ]; do printf '  s = add(s, f%d(%d));\n' "$i" "$i"; i=$((i + 1)); done
  printf '  printf("%%d\\n", s);\n  return 0;\n}\n'
} > "$dir/src/main.c"
i=0
while [ "$i" -lt "$n" ]; do
  d="$dir/src/d$((i / 100))"
  mkdir -p "$d"
  [ -f "$d/local.h" ] || printf '#define LOCAL_OFFSET 0\n' > "$d/local.h"
  printf '#include "common.h"\n#include "local.h"\nint f%d(int x) { return add(x, %d + LOCAL_OFFSET); }\n' "$i" "$i" > "$d/f$i.c"
  i=$((i + 1))
done

ndirs=$(( (n + 99) / 100 ))
archives=""
k=0
while [ "$k" -lt "$ndirs" ]; do archives="$archives build/d$k.a"; k=$((k + 1)); done

{
  printf '$cc = [ gcc ]\n$cflags = [ -O0 -Iinclude ]\n'
  printf '[ build/main.o ] : [ src/main.c include/common.h ] { $cc $cflags -c $< -o $@ }\n'
  k=0
  while [ "$k" -lt "$ndirs" ]; do
    printf '[ build/d%d/%%.o ] : [ src/d%d/%%.c include/common.h src/d%d/local.h ] { $cc $cflags -c $< -o $@ }\n' "$k" "$k" "$k"
    printf '[ build/d%d.a ] : [ src/d%d/%%.c -> build/d%d/%%.o ] { rm -f $@; ar rcs $@ $^ }\n' "$k" "$k" "$k"
    k=$((k + 1))
  done
  printf '[ build/app ] : [ build/main.o%s ] { $cc -o $@ $^ }\n[ @all ] : [ build/app ]\n' "$archives"
} > "$dir/fabfile"

{
  printf 'CC = gcc\nCFLAGS = -O0 -Iinclude\nall: build/app\n'
  printf 'build/%%.o: src/%%.c include/common.h\n\t@mkdir -p $(dir $@)\n\t$(CC) $(CFLAGS) -c $< -o $@\n'
  k=0
  while [ "$k" -lt "$ndirs" ]; do
    printf 'build/d%d.a: $(patsubst src/%%.c,build/%%.o,$(sort $(wildcard src/d%d/*.c)))\n\trm -f $@; ar rcs $@ $^\n' "$k" "$k"
    printf '$(patsubst src/%%.c,build/%%.o,$(wildcard src/d%d/*.c)): src/d%d/local.h\n' "$k" "$k"
    k=$((k + 1))
  done
  printf 'build/app: build/main.o%s\n\t$(CC) -o $@ $^\n.PHONY: all\n' "$archives"
} > "$dir/Makefile"

{
  printf 'rule cc\n  command = gcc -O0 -Iinclude -c $in -o $out\nrule ar\n  command = rm -f $out; ar rcs $out $in\nrule link\n  command = gcc -o $out $in\n'
  printf 'build build/main.o: cc src/main.c | include/common.h\n'
  k=0
  while [ "$k" -lt "$ndirs" ]; do
    objs=""
    for c in $(cd "$dir" && ls src/d$k/*.c | sort); do
      o="build/${c#src/}"
      o="${o%.c}.o"
      printf 'build %s: cc %s | include/common.h src/d%d/local.h\n' "$o" "$c" "$k"
      objs="$objs $o"
    done
    printf 'build build/d%d.a: ar%s\n' "$k" "$objs"
    k=$((k + 1))
  done
  printf 'build build/app: link build/main.o%s\ndefault build/app\n' "$archives"
} > "$dir/build.ninja"
