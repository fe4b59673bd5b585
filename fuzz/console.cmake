# Admin console fuzz targets (issue 12): the Cookie header reader that finds the session id.
mailmoat_fuzz_target(console_cookie SOURCES ${CMAKE_CURRENT_LIST_DIR}/console_cookie.cpp DEPENDS mailmoat_util)
