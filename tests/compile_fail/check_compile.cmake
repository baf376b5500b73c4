# Compiles SOURCE with CXX (-std=c++20 -fsyntax-only -I INCLUDE_DIR).
# EXPECT non-empty: passes only if compilation fails AND the output contains EXPECT.
# EXPECT empty: passes only if compilation succeeds (the control case).
foreach(var CXX INCLUDE_DIR SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile.cmake: ${var} is not set")
  endif()
endforeach()

execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE_DIR} ${SOURCE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
set(all "${out}${err}")

if("${EXPECT}" STREQUAL "")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "expected ${SOURCE} to compile, but it failed:\n${all}")
  endif()
  message(STATUS "compiled as expected: ${SOURCE}")
  return()
endif()

if(rc EQUAL 0)
  message(FATAL_ERROR "expected ${SOURCE} NOT to compile, but it compiled")
endif()
string(FIND "${all}" "${EXPECT}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "${SOURCE} failed to compile, but without \"${EXPECT}\":\n${all}")
endif()
message(STATUS "failed to compile as expected, with \"${EXPECT}\"")
