# Safe Links fuzz targets (issue 8): the URL extractor, the message rewriter (HTML rewriting included) and the link-token decoder.
mailmoat_fuzz_target(links_extract SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_extract.cpp DEPENDS mailmoat_links)
mailmoat_fuzz_target(links_rewrite SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_rewrite.cpp DEPENDS mailmoat_links mailmoat_mail)
mailmoat_fuzz_target(links_token SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_token.cpp DEPENDS mailmoat_links)
mailmoat_fuzz_target(attachment_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/attachment_link.cpp DEPENDS mailmoat_links)
# The HTML scanner against gumbo (test oracle in tests/links/), when gumbo is there (it is: src/mail uses it).
pkg_check_modules(LINKS_DIFF_GUMBO IMPORTED_TARGET gumbo)
if(LINKS_DIFF_GUMBO_FOUND)
  mailmoat_fuzz_target(links_html_diff SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_html_diff.cpp
                       ${PROJECT_SOURCE_DIR}/tests/links/gumbo_oracle.cpp DEPENDS mailmoat_links PkgConfig::LINKS_DIFF_GUMBO)
  if(TARGET fuzz_links_html_diff)
    target_include_directories(fuzz_links_html_diff PRIVATE ${PROJECT_SOURCE_DIR}/tests/links)
  endif()
endif()
