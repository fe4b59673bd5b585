# Milter packet decoder and command parsers (issue 11); the codec library is std-only so clang builds it.
mailmoat_fuzz_target(milter_packet SOURCES fuzz/milter_packet.cpp DEPENDS mailmoat_milter_codec)
