# Fuzz targets of the message model, DKIM and ARC parsers (issue 5).
mailmoat_fuzz_target(mail_message SOURCES fuzz/mail_message.cpp DEPENDS mailmoat_mail)
mailmoat_fuzz_target(dkim_signature SOURCES fuzz/dkim_signature.cpp DEPENDS mailmoat_dkim)
mailmoat_fuzz_target(dkim_key_record SOURCES fuzz/dkim_key_record.cpp DEPENDS mailmoat_dkim)
mailmoat_fuzz_target(arc_headers SOURCES fuzz/arc_headers.cpp DEPENDS mailmoat_arc)
