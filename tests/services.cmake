# The application services over real and in-memory ports: integration.

# The eventlog adapter's DurableLog against a real store (no process): replies after commits,
# refusals, fail-stop; the snapshotter and recovery over it.
roombus_test(durable_log_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/services/durable_log_test.cpp
  LIBS roombus_services roombus_adapters_eventlog roombus_adapters_json roombus_test_kit
  PROPERTIES TIMEOUT 60)

# Recovery from the store's snapshot files (services::recover over the eventlog adapter):
# binary snapshots, JSON ones written before the binary format, damaged files and payloads.
roombus_test(snapshot_recovery_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/services/snapshot_recovery_test.cpp
  LIBS roombus_services roombus_adapters_eventlog roombus_adapters_json roombus_test_kit
  PROPERTIES TIMEOUT 60)

# The subscription helper with in-memory logs and subscribers (threads, no disk).
roombus_test(subscription_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/services/subscription_test.cpp
  LIBS roombus_services roombus_test_kit PROPERTIES TIMEOUT 60)
