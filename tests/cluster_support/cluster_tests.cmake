# CMake helpers of the cluster-mode test binaries (tests/cluster, tests/faults): the task
# libraries cask-worker preloads, and a doctest binary whose cases start real cask-scheduler
# and cask-worker processes. Each doctest case is its own CTest test, labelled "cluster".
find_package(nlohmann_json 3 REQUIRED)
find_package(doctest CONFIG QUIET)
include(doctest OPTIONAL RESULT_VARIABLE cask_cluster_doctest_module)

# cask_test_preload_library(TARGET SOURCES...): a library cask-worker loads with --preload.
# It does not link cask: its cask symbols are resolved at dlopen against cask-worker, which
# exports all of them.
function(cask_test_preload_library target)
  add_library(${target} MODULE ${ARGN})
  target_include_directories(${target} PRIVATE
    ${CMAKE_CURRENT_SOURCE_DIR} $<TARGET_PROPERTY:cask::cask,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(${target} PRIVATE nlohmann_json::nlohmann_json Threads::Threads)
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# cask_cluster_test_binary(TARGET TIMEOUT seconds SOURCES ... [LIBRARIES NAME=target ...]):
# the doctest binary, told where cask-scheduler, cask-worker and each preload library
# (as the macro CASK_TEST_<NAME>_LIBRARY) are; every case gets TIMEOUT seconds in CTest.
function(cask_cluster_test_binary target)
  cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LIBRARIES" ${ARGN})
  cask_executable(${target} ${arg_SOURCES})
  # The project's root too: the fault tests start processes the way LocalCluster does
  # (runtime/child_process.hpp, no CAF in it).
  target_include_directories(${target} PRIVATE
    ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/.. ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PRIVATE nlohmann_json::nlohmann_json)
  if(TARGET doctest::doctest)
    target_link_libraries(${target} PRIVATE doctest::doctest)
  endif()
  target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)
  # cask-scheduler and cask-worker are defined after tests/ by the top-level CMakeLists;
  # add_dependencies and $<TARGET_FILE:...> are resolved at generation time.
  target_compile_definitions(${target} PRIVATE
    CASK_TEST_SCHEDULER_EXECUTABLE="$<TARGET_FILE:cask-scheduler>"
    CASK_TEST_WORKER_EXECUTABLE="$<TARGET_FILE:cask-worker>")
  add_dependencies(${target} cask-scheduler cask-worker)
  foreach(entry IN LISTS arg_LIBRARIES)
    string(REPLACE "=" ";" pair "${entry}")
    list(GET pair 0 name)
    list(GET pair 1 library)
    target_compile_definitions(${target} PRIVATE
      CASK_TEST_${name}_LIBRARY="$<TARGET_FILE:${library}>")
    add_dependencies(${target} ${library})
  endforeach()
  if(cask_cluster_doctest_module)
    doctest_discover_tests(${target} PROPERTIES LABELS cluster TIMEOUT ${arg_TIMEOUT})
  else()
    add_test(NAME ${target} COMMAND ${target})
    set_tests_properties(${target} PROPERTIES LABELS cluster TIMEOUT 1200)
  endif()
endfunction()
