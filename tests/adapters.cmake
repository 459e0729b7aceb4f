# Unit tests of the time, crypto and json adapters (no network; reads the system tz database).
file(GLOB ROOMBUS_ADAPTERS_TEST_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/unit/adapters/*.cpp)
roombus_test(adapters_tests LABEL unit
  SOURCES ${ROOMBUS_ADAPTERS_TEST_SOURCES}
  LIBS roombus_adapters_time roombus_adapters_crypto roombus_adapters_json
       roombus_adapters_kafka date::date-tz
  # COST: started early, as checking every zone's rule takes half a minute under the sanitizers.
  PROPERTIES COST 100)
# The TZif footer rule is private to the time adapter; its tests reach it through the source dir.
target_include_directories(adapters_tests PRIVATE ${PROJECT_SOURCE_DIR}/adapters/time/src)
