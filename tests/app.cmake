# Whole-process tests of the `roombus` executable (crash safety, lock, SIGTERM): integration.
if(TARGET roombus)
  roombus_test(crash_tests LABEL integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash/crash_test.cpp
    LIBS roombus_test_kit
    PROPERTIES TIMEOUT 60)
  # The tests run the binary, so building them must build it too.
  add_dependencies(crash_tests roombus)
endif()

# DurableLog against a real store (no process): replies after commits, refusals, fail-stop.
roombus_test(durable_log_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/app/durable_log_test.cpp
  LIBS roombus_app roombus_test_kit PROPERTIES TIMEOUT 60)

# Recovery from the store's snapshot files (app::recover over a real store): binary snapshots,
# JSON ones written before the binary format, damaged files and payloads.
roombus_test(snapshot_recovery_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/app/snapshot_recovery_test.cpp
  LIBS roombus_app roombus_test_kit PROPERTIES TIMEOUT 60)

# The subscription helper with in-memory logs and subscribers (threads, no disk).
roombus_test(subscription_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/app/subscription_test.cpp
  LIBS roombus_app roombus_test_kit PROPERTIES TIMEOUT 60)

# The admin token file on a real file system (function-level; the binary is in serve_tests).
roombus_test(admin_token_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/app/admin_token_test.cpp
  LIBS roombus_app roombus_test_kit)
