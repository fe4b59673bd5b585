# Fuzz targets of the DNS zone-file parser, SPF, DMARC and Authentication-Results parsers (issue 4).
mailmoat_fuzz_target(zone_file SOURCES fuzz/zone_file.cpp DEPENDS mailmoat_dns)
mailmoat_fuzz_target(spf_record SOURCES fuzz/spf_record.cpp DEPENDS mailmoat_auth_spf)
mailmoat_fuzz_target(dmarc_record SOURCES fuzz/dmarc_record.cpp DEPENDS mailmoat_auth_dmarc)
mailmoat_fuzz_target(authres SOURCES fuzz/authres.cpp DEPENDS mailmoat_auth_authres)
