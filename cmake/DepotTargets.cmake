# One INTERFACE target carries the language standard and the warnings; every
# Depot target links it PRIVATE (or PUBLIC for header-only libraries).
add_library(depot_options INTERFACE)
add_library(depot::options ALIAS depot_options)
target_compile_features(depot_options INTERFACE cxx_std_20)
target_compile_options(depot_options INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic>)
if(DEPOT_SANITIZE)
  target_compile_options(depot_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(depot_options INTERFACE -fsanitize=address,undefined)
endif()

# depot_add_test(NAME name SOURCES a.cpp... LIBS libs... [LABELS l...] [TIMEOUT s])
# Adds one QtTest executable and registers it with CTest (offscreen Qt,
# bounded time, binaries' paths in the environment for end-to-end tests).
function(depot_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  set_target_properties(${T_NAME} PROPERTIES AUTOMOC ON)
  target_link_libraries(${T_NAME} PRIVATE depot::options Qt6::Test ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES
    TIMEOUT ${T_TIMEOUT}
    LABELS "${T_LABELS}"
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;DEPOT_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()
