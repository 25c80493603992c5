# nds_module(NAME DEPS <libs...> TEST_DEPS <libs...>)
#
# One module per directory of src/ (STYLE.md §1): every *.cc except *_test.cc and *_main.cc forms
# the static library nds_NAME; every *_test.cc forms the test binary NAME_test, registered with
# ctest and labelled NAME. The file lists are globbed so that adding a file needs no CMake edit.
function(nds_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
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
    add_test(NAME ${name}_test COMMAND ${name}_test)
    set_tests_properties(${name}_test PROPERTIES LABELS ${name} TIMEOUT 600)
  endif()
endfunction()
