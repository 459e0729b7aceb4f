# Kafka: the outbox relay and the command consumer against librdkafka's mock cluster (in-process,
# loopback).
roombus_test(kafka_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/kafka/relay_test.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/integration/kafka/command_consumer_test.cpp
  LIBS roombus_services roombus_adapters_kafka roombus_adapters_json roombus_consumers
       roombus_test_kafka PROPERTIES TIMEOUT 180)

# The real binary with --kafka-brokers pointing at a mock cluster in the test process; kcat reads.
find_program(KCAT_BINARY kcat REQUIRED)
roombus_test(kafka_serve_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/kafka/serve_kafka_test.cpp
  LIBS roombus_adapters_kafka roombus_test_kafka PROPERTIES TIMEOUT 240)
target_compile_definitions(kafka_serve_tests PRIVATE "KCAT_BINARY=\"${KCAT_BINARY}\"")
add_dependencies(kafka_serve_tests roombus)

# Kafka commands in: the real binary consumes roombus.commands from a mock cluster.
roombus_test(kafka_command_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/kafka/commands_test.cpp
  LIBS roombus_adapters_kafka roombus_test_kafka PROPERTIES TIMEOUT 300)
add_dependencies(kafka_command_tests roombus)

# Room lifecycle events and demand forecasts of the real binary (one test waits a minute-long room).
roombus_test(lifecycle_serve_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/kafka/lifecycle_serve_test.cpp
  LIBS roombus_adapters_kafka roombus_rapidjson roombus_test_kafka
  # COST: started first, as one of them waits for a minute-long room (the suite's longest test).
  PROPERTIES TIMEOUT 240 COST 1000)
add_dependencies(lifecycle_serve_tests roombus)
