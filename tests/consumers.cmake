# The Kafka command consumer: the record decoder (unit); the consumer itself runs in kafka.cmake.
roombus_test(consumers_unit_tests LABEL unit
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/consumers/command_record_test.cpp
  LIBS roombus_consumers)

# The in-order completion tracker the command consumer (offsets) and the outbox relay (cursor)
# share (adapters/kafka).
roombus_test(in_order_tracker_tests LABEL unit
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/kafka/in_order_tracker_test.cpp
  LIBS roombus_adapters_kafka)
