# End-to-end tests of the HTTP API: the real server on loopback, driven by curl; JWTs checked with
# Debian's python3-jwt (PyJWT), an implementation independent of the libjwt that signs them.
roombus_test(api_tests LABEL integration
  SOURCES integration/api/v1_test.cpp integration/api/admin_test.cpp
          integration/api/join_test.cpp
  LIBS roombus_app roombus_http roombus_adapters_crypto roombus_adapters_time)

# The authorisation matrix: every route x every wrong credential, over loopback, state compared.
roombus_test(api_authorisation_tests LABEL integration
  SOURCES integration/api/authorisation_matrix_test.cpp
  LIBS roombus_app roombus_http roombus_adapters_crypto roombus_adapters_time
       roombus_adapters_json roombus_test_kit
  PROPERTIES TIMEOUT 120)
