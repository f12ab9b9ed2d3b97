# SPDX-License-Identifier: MIT
# Warnings and hardening for every target in the tree.
add_compile_options(-Wall -Wextra -Wshadow -Wformat=2 -Wvla
                    -fstack-protector-strong -fno-strict-aliasing)
if(SPA_WERROR)
  add_compile_options(-Werror)
endif()
add_compile_definitions(_GNU_SOURCE)
add_link_options(-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)

# FORTIFY needs optimisation; sanitizer builds run at -O1 and skip it.
if(NOT SPA_SANITIZE AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
endif()

if(SPA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SPA_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SPA_FUZZ needs clang (CC=clang)")
  endif()
  # undefined behaviour is a finding like a crash: without no-recover
  # UBSan only prints it and the fuzzer runs on
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -O1 -g)
  add_link_options(-fsanitize=address,undefined)
endif()
