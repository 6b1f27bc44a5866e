#!/bin/sh
# The public header compiles on its own as C99 -pedantic and as C++ (11 and 17), and the C++ wrapper
# as C++17, warnings as errors.
set -eu
include=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <alexnet/alexnet.h>\nint main(void) { return alexnet_version() == 0; }\n' >"$tmp/h.c"
cp "$tmp/h.c" "$tmp/h.cpp"
cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$include" -c "$tmp/h.c" -o "$tmp/c99.o"
cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$include" -c "$tmp/h.c" -o "$tmp/c11.o"
c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$include" -c "$tmp/h.cpp" -o "$tmp/cxx11.o"
c++ -std=c++17 -pedantic -Wall -Wextra -Werror -I"$include" -c "$tmp/h.cpp" -o "$tmp/cxx17.o"
# C++ callers see unmangled names.
nm "$tmp/cxx17.o" | grep -q ' U alexnet_version$'
# The C++ wrapper, installed beside it, compiles on its own as C++17.
printf '#include <alexnet/alexnet.hpp>\nint main() { return alexnet::Tensor({1}).numel() == 1 ? 0 : 1; }\n' \
    >"$tmp/wrapper.cpp"
c++ -std=c++17 -pedantic -Wall -Wextra -Werror -I"$include" -c "$tmp/wrapper.cpp" -o "$tmp/wrapper.o"
# The C++ wrapper and the Python package cover the whole C API: every function the header exports
# is called by alexnet.hpp and declared by the package's ctypes prototypes.
bindings=$(dirname "$0")/../bindings/python/alexnet/_native.py
missing=""
for f in $(grep -o 'ALEXNET_API [^(]*(' "$include/alexnet/alexnet.h" | grep -o 'alexnet_[a-z0-9_]*('); do
    f=${f%(}
    grep -qw "$f" "$include/alexnet/alexnet.hpp" || missing="$missing alexnet.hpp:$f"
    grep -q "\"$f\"" "$bindings" || missing="$missing python:$f"
done
[ -z "$missing" ] || { echo "functions not wrapped:$missing"; exit 1; }
echo "alexnet.h compiles as C99, C11, C++11 and C++17; alexnet.hpp as C++17; both bindings cover it"
