# Whole-process tests of the `roombus` executable (crash safety, lock, SIGTERM), and the
# composition root's own files: integration.
if(TARGET roombus)
  roombus_test(crash_tests LABEL integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash/crash_test.cpp
    LIBS roombus_test_kit
    PROPERTIES TIMEOUT 60)
  # The tests run the binary, so building them must build it too.
  add_dependencies(crash_tests roombus)
endif()

# The admin token file on a real file system (function-level; the binary is in serve_tests).
roombus_test(admin_token_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/app/admin_token_test.cpp
  LIBS roombus_app roombus_test_kit)
