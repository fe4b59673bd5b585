# Store fuzz targets (issue 10): the trace spill record decoder
# (store.url and cursor parsers use util::Result, which clang 14 with libstdc++ 12 cannot compile).
mailmoat_fuzz_target(store_spill_record SOURCES fuzz/store_spill_record.cpp DEPENDS mailmoat_store_spill_codec)
