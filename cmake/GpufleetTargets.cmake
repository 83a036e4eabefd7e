# Helpers that give every gpufleet target the same flags.

set(GPUFLEET_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false -Wrestrict/-Wstringop-overflow positives inside libstdc++'s std::string
  # operator+ at -O2/-O3 (GCC bug 105329, 105651).
  list(APPEND GPUFLEET_WARNINGS -Wno-restrict -Wno-stringop-overflow)
endif()
if(GPUFLEET_WERROR)
  list(APPEND GPUFLEET_WARNINGS -Werror)
endif()

set(GPUFLEET_SANITIZER_FLAGS "")
if(GPUFLEET_SANITIZE)
  set(GPUFLEET_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's -Wmaybe-uninitialized misfires under -fsanitize=address inside libstdc++ (std::regex,
    # std::function moves); the sanitizer itself checks what that warning guesses at.
    list(APPEND GPUFLEET_WARNINGS -Wno-maybe-uninitialized)
  endif()
endif()
if(GPUFLEET_FUZZ)
  # Everything the fuzzers link is instrumented for coverage; the targets add the libFuzzer main.
  set(GPUFLEET_SANITIZER_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
endif()

function(gpufleet_apply_flags target)
  target_compile_options(${target} PRIVATE ${GPUFLEET_WARNINGS} ${GPUFLEET_SANITIZER_FLAGS})
  target_link_options(${target} PRIVATE ${GPUFLEET_SANITIZER_FLAGS})
endfunction()

# gpufleet_library(NAME SOURCES ... DEPS ...): a static library for one module (src/<module>).
function(gpufleet_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  gpufleet_apply_flags(${name})
endfunction()

# gpufleet_test(NAME SOURCES ... DEPS ...): one GoogleTest binary, each TEST a ctest test.
function(gpufleet_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  gpufleet_apply_flags(${name})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES ENVIRONMENT "GPUFLEET_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# gpufleet_fuzz(NAME SOURCE file DEPS ...): a libFuzzer target (clang, GPUFLEET_FUZZ=ON) or, in every
# other build, a replay binary that runs the checked-in corpus tests/fuzz/corpus/NAME as a ctest test.
function(gpufleet_fuzz name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPS" ${ARGN})
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  if(GPUFLEET_FUZZ)
    add_executable(fuzz_${name} ${ARG_SOURCE})
    target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
    gpufleet_apply_flags(fuzz_${name})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} ${ARG_SOURCE} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
    target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
    gpufleet_apply_flags(fuzz_${name})
    add_test(NAME fuzz_replay.${name} COMMAND fuzz_${name} ${corpus})
  endif()
endfunction()
