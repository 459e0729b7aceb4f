# HTTP server layer: parameter/wire-parser unit tests and loopback end-to-end tests.
file(GLOB http_unit_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/http/*.cpp)
roombus_test(http_unit_tests LABEL unit SOURCES ${http_unit_sources}
             LIBS roombus_http_server roombus_http_parser)
# The wire parser, chunked decoder and reply writer are private to http/; their tests
# (wire_parser_test, chunked_decoder_test, reply_test) reach them through the source dir.
target_include_directories(http_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/http/src)

file(GLOB http_integration_sources CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/integration/http/*.cpp)
roombus_test(http_server_tests LABEL integration SOURCES ${http_integration_sources}
             LIBS roombus_http_server PROPERTIES TIMEOUT 60)
