# Safe Links fuzz targets (issue 8): the URL extractor, the message rewriter (HTML rewriting included) and the link-token decoder.
mailmoat_fuzz_target(links_extract SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_extract.cpp DEPENDS mailmoat_links)
mailmoat_fuzz_target(links_rewrite SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_rewrite.cpp DEPENDS mailmoat_links mailmoat_mail)
mailmoat_fuzz_target(links_token SOURCES ${CMAKE_CURRENT_LIST_DIR}/links_token.cpp DEPENDS mailmoat_links)
mailmoat_fuzz_target(attachment_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/attachment_link.cpp DEPENDS mailmoat_links)
