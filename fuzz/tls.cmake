mailmoat_fuzz_target(mta_sts_policy SOURCES ${CMAKE_CURRENT_LIST_DIR}/mta_sts_policy.cpp DEPENDS mailmoat_tls_mta_sts)
mailmoat_fuzz_target(tlsrpt_record SOURCES ${CMAKE_CURRENT_LIST_DIR}/tlsrpt_record.cpp DEPENDS mailmoat_tls_mta_sts)
