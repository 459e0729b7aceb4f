# The HTTP API over the core: jitsi-admin v1, admin API, health and metrics.
add_library(roombus_http STATIC
  src/admin.cpp
  src/api.cpp
  src/api_support.cpp
  src/join.cpp
  src/join_page.cpp
  src/metrics.cpp
  src/upcoming_index.cpp
  src/v1.cpp)
target_include_directories(roombus_http PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(roombus_http
  PUBLIC roombus_http_server roombus_core roombus_services roombus_v1
  PRIVATE roombus_adapters_json roombus_rapidjson roombus_warnings roombus_options)
