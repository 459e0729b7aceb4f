# End-to-end tests of the HTTP API: the real server on loopback, driven by curl.
roombus_test(api_tests LABEL integration
  SOURCES integration/api/v1_test.cpp integration/api/admin_test.cpp
  LIBS roombus_http roombus_adapters_crypto roombus_adapters_time)
