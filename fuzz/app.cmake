# Admin API fuzz target (issue 13): the JSON bodies of the admin routes, through the real handlers.
mailmoat_fuzz_target(admin_api SOURCES fuzz/admin_api.cpp
                     DEPENDS mailmoat_app nlohmann_json::nlohmann_json mailmoat_asio)
