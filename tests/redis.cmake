# Redis adapter: URL parsing (unit, no I/O), and the connection and the upcoming-room index
# against Debian's redis-server, started by each test on a free loopback port (integration).
roombus_test(redis_unit_tests LABEL unit
  SOURCES unit/redis/url_test.cpp
  LIBS roombus_adapters_redis)
file(GLOB ROOMBUS_REDIS_TEST_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/integration/redis/*.cpp)
roombus_test(redis_tests LABEL integration
  SOURCES ${ROOMBUS_REDIS_TEST_SOURCES} support/redis_server.cpp
  LIBS roombus_adapters_redis roombus_core PkgConfig::HIREDIS
  PROPERTIES TIMEOUT 120)
