# Fuzz targets of the transport rules engine (issue 7): the rules file loader
# (then an evaluation of what loaded) and the message-facts builder, which
# decodes untrusted messages (MIME, RFC 2047, charsets) for rule conditions;
mailmoat_fuzz_target(rules_file SOURCES fuzz/rules_file.cpp DEPENDS mailmoat_policy)
mailmoat_fuzz_target(message_facts SOURCES fuzz/message_facts.cpp DEPENDS mailmoat_policy)
# The disclaimer action (rules filter): rewrites text parts of untrusted messages.
mailmoat_fuzz_target(disclaimer SOURCES fuzz/disclaimer.cpp DEPENDS mailmoat_filter_rules)
