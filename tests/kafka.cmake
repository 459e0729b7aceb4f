# Kafka: the outbox relay and the service against librdkafka's mock cluster (in-process, loopback).
roombus_test(kafka_tests LABEL integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/kafka/relay_test.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/support/kafka_mock.cpp
  LIBS roombus_app roombus_adapters_kafka PROPERTIES TIMEOUT 180)
