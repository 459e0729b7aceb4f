# Core unit tests: the domain through hand-written fakes of its ports; no I/O.
roombus_test(core_tests LABEL unit
  SOURCES unit/core/time_rules_test.cpp unit/core/rooms_test.cpp unit/core/servers_test.cpp
          unit/core/queries_service_test.cpp unit/core/lifecycle_test.cpp
          unit/core/demand_test.cpp unit/core/text_index_test.cpp
          unit/core/state_storage_test.cpp
  LIBS roombus_core)
