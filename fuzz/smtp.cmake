mailmoat_fuzz_target(smtp_command SOURCES ${CMAKE_CURRENT_LIST_DIR}/smtp_command.cpp DEPENDS mailmoat_smtp_protocol)
mailmoat_fuzz_target(smtp_session SOURCES ${CMAKE_CURRENT_LIST_DIR}/smtp_session.cpp DEPENDS mailmoat_smtp_protocol)
mailmoat_fuzz_target(spool_meta SOURCES ${CMAKE_CURRENT_LIST_DIR}/spool_meta.cpp DEPENDS mailmoat_spool)
mailmoat_fuzz_target(spool_segment SOURCES ${CMAKE_CURRENT_LIST_DIR}/spool_segment.cpp DEPENDS mailmoat_spool)
