# nds_module(NAME DEPS <libs...> TEST_DEPS <libs...> [SKIPPABLE <gtest filter>])
#
# One module per directory of src/ (STYLE.md §1): every *.cc except *_test.cc and *_main.cc forms
# the static library nds_NAME; every *_test.cc forms the test binary NAME_test, registered with
# ctest and labelled NAME. The file lists are globbed so that adding a file needs no CMake edit.
# SKIPPABLE names the tests that skip (GTEST_SKIP) where they cannot run, e.g. without root: they
# run as a ctest entry of their own, NAME_test_skippable, which ctest reports as skipped (not
# passed) when they skip.
# nds_test_timeout(SECONDS <tests...>): the ctest bound of each test, SECONDS in a release build
# and twice that in a sanitizer build (NDS_SANITIZE), whose instrumented code runs several times
# slower; a bound only stops a hung test, it measures nothing.
function(nds_test_timeout seconds)
  if(NDS_SANITIZE)
    math(EXPR seconds "${seconds} * 2")
  endif()
  set_tests_properties(${ARGN} PROPERTIES TIMEOUT ${seconds})
endfunction()

function(nds_module name)
  cmake_parse_arguments(ARG "" "SKIPPABLE" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "(_test|_main)\\.cc$")
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(srcs)
    add_library(nds_${name} STATIC ${srcs})
    target_include_directories(nds_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(nds_${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(nds_${name} INTERFACE)
    target_include_directories(nds_${name} INTERFACE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(nds_${name} INTERFACE ${ARG_DEPS})
  endif()
  if(tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE nds_${name} ${ARG_TEST_DEPS} GTest::gtest
                          GTest::gmock GTest::gtest_main)
    if(ARG_SKIPPABLE)
      add_test(NAME ${name}_test COMMAND ${name}_test --gtest_filter=-${ARG_SKIPPABLE})
      nds_skippable_test(${name}_test_skippable ${name}_test ${ARG_SKIPPABLE})
      set_tests_properties(${name}_test_skippable PROPERTIES LABELS ${name})
      nds_test_timeout(600 ${name}_test_skippable)
    else()
      add_test(NAME ${name}_test COMMAND ${name}_test)
    endif()
    set_tests_properties(${name}_test PROPERTIES LABELS ${name})
    nds_test_timeout(600 ${name}_test)
  endif()
endfunction()

# nds_skippable_test(TEST_NAME BINARY FILTER): the tests of BINARY matching the gtest FILTER as one
# ctest entry, reported as skipped when any of them calls GTEST_SKIP (gtest prints "[  SKIPPED ]").
function(nds_skippable_test test_name binary filter)
  add_test(NAME ${test_name} COMMAND ${binary} --gtest_filter=${filter})
  set_tests_properties(${test_name} PROPERTIES SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()
