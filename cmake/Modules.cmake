# mailmoat_module(NAME [PURE] SOURCES ... DEPENDS ...)
# Declares the static library mailmoat_NAME for one module of DESIGN.md §2.
# PURE modules (bytes in, values out) get a private include directory of
# poisoned headers first on the search path: including Asio, Beast, OpenSSL's
# socket layer, libunbound or a store client from them is a compile error.

set(MAILMOAT_POISON_DIR ${CMAKE_BINARY_DIR}/poison)
function(mailmoat_make_poison)
  set(forbidden)
  foreach(root boost/asio boost/beast)
    file(GLOB_RECURSE hdrs RELATIVE /usr/include /usr/include/${root}/*.hpp)
    list(APPEND forbidden ${hdrs})
  endforeach()
  list(APPEND forbidden boost/asio.hpp boost/beast.hpp openssl/ssl.h openssl/bio.h
       unbound.h sqlite3.h libpq-fe.h)
  foreach(h ${forbidden})
    set(out ${MAILMOAT_POISON_DIR}/${h})
    if(NOT EXISTS ${out})
      file(WRITE ${out} "#error \"a pure mailmoat module may not include <${h}> (DESIGN.md section 2)\"\n")
    endif()
  endforeach()
endfunction()
mailmoat_make_poison()

function(mailmoat_module name)
  cmake_parse_arguments(M "PURE" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(mailmoat_${name} STATIC ${M_SOURCES})
  target_include_directories(mailmoat_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  if(M_PURE)
    target_include_directories(mailmoat_${name} BEFORE PRIVATE ${MAILMOAT_POISON_DIR})
  endif()
  target_link_libraries(mailmoat_${name} PUBLIC ${M_DEPENDS} PRIVATE ${M_PRIVATE_DEPENDS})
  set_target_properties(mailmoat_${name} PROPERTIES MAILMOAT_PURE "${M_PURE}")
endfunction()

# mailmoat_test(NAME SOURCES ... DEPENDS ...): one GoogleTest executable,
# each test case registered with ctest by gtest_discover_tests.
include(GoogleTest)
function(mailmoat_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPENDS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPENDS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    MAILMOAT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    MAILMOAT_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    MAILMOAT_BINARY="$<TARGET_FILE:mailmoat>")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${T_LABELS}")
endfunction()
