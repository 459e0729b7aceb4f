# Redis adapter: URL parsing (unit, no I/O), and the connection and the upcoming-room index
# against Debian's redis-server, started by each test on a free loopback port (integration).
roombus_test(redis_unit_tests LABEL unit
  SOURCES unit/redis/url_test.cpp
  LIBS roombus_adapters_redis)
roombus_test(redis_tests LABEL integration
  SOURCES integration/redis/connection_test.cpp integration/redis/index_test.cpp
  LIBS roombus_adapters_redis roombus_core roombus_test_redis
  PROPERTIES TIMEOUT 120)

# The real binary with --redis against a redis-server per test: the index after changes over HTTP,
# getRooms from Redis, outages, repairs, a stalled Redis, start-up errors.
roombus_test(redis_serve_tests LABEL integration
  SOURCES integration/redis/serve/serve_redis_test.cpp
  LIBS roombus_test_redis PROPERTIES TIMEOUT 180)
add_dependencies(redis_serve_tests roombus)
