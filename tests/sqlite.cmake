# Event store tests: real SQLite files and snapshot files in fresh /tmp directories, hence integration.
file(GLOB ROOMBUS_SQLITE_TEST_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/integration/sqlite/*.cpp)
roombus_test(sqlite_store_tests LABEL integration
  SOURCES ${ROOMBUS_SQLITE_TEST_SOURCES}
  LIBS roombus_adapters_sqlite roombus_test_kit)
