# Fuzz target of the quarantine preview (issue 10): untrusted quarantined messages, rendered for admins.
mailmoat_fuzz_target(mail_preview SOURCES fuzz/mail_preview.cpp DEPENDS mailmoat_mail_preview)
