# Warning and sanitizer flags, applied to every target through these interface libraries.
add_library(alexnet_warnings INTERFACE)
target_compile_options(alexnet_warnings INTERFACE -Wall -Wextra -Wshadow -Wvla
  $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>)
if(ALEXNET_WERROR)
  target_compile_options(alexnet_warnings INTERFACE -Werror)
endif()

if(ALEXNET_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options(${_san})
  add_link_options(-fsanitize=address,undefined)
endif()

if(ALEXNET_TSAN)
  if(ALEXNET_SANITIZE)
    message(FATAL_ERROR "ALEXNET_TSAN and ALEXNET_SANITIZE cannot be combined; use two build trees")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

if(ALEXNET_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ALEXNET_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
