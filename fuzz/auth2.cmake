# Fuzz targets of the message model, DKIM and ARC parsers (issue 5).
mailmoat_fuzz_target(mail_message SOURCES fuzz/mail_message.cpp DEPENDS mailmoat_mail)
