# The real `roombus` binary as a child process: limits, memory, signals, configuration, a client.
roombus_test(serve_tests LABEL integration
  SOURCES integration/serve/serve_test.cpp integration/http/loopback.cpp
  LIBS roombus_http_server roombus_test_kit PROPERTIES TIMEOUT 120)
target_compile_definitions(serve_tests PRIVATE
  ROOMBUS_BINARY="$<TARGET_FILE:roombus>"
  ROOMBUS_CLIENT_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/integration/serve/jitsi_admin_client.sh")
add_dependencies(serve_tests roombus)

# libFuzzer targets for the wire parser and parameter decoding (clang only): -DROOMBUS_FUZZ=ON.
option(ROOMBUS_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)
if(ROOMBUS_FUZZ)
  add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/fuzz ${CMAKE_CURRENT_BINARY_DIR}/fuzz)
endif()

# The join key of the real binary: made once, kept, shared by configuration, refused if malformed.
roombus_test(join_serve_tests LABEL integration
  SOURCES integration/serve/join_serve_test.cpp
  LIBS roombus_adapters_crypto roombus_test_kit PROPERTIES TIMEOUT 120)
add_dependencies(join_serve_tests roombus)

# The table of `roombus serve` options (app/options.cpp) against CLI11, the README's table,
# docs/operations.md's Kafka table and the binary's `serve --help`: none can drift from it.
roombus_test(options_tests LABEL integration
  SOURCES integration/app/options_test.cpp
  LIBS roombus_app roombus_test_kit CLI11::CLI11)
target_compile_definitions(options_tests PRIVATE
  ROOMBUS_BINARY="$<TARGET_FILE:roombus>"
  ROOMBUS_README="${PROJECT_SOURCE_DIR}/README.md"
  ROOMBUS_OPERATIONS="${PROJECT_SOURCE_DIR}/docs/operations.md")
add_dependencies(options_tests roombus)
