# compose.yaml and the Dockerfile, validated without a container engine (docker-compose config).
add_test(NAME compose_file_matches_roombus
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/compose/compose_test.sh
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE:roombus>)
set_tests_properties(compose_file_matches_roombus PROPERTIES LABELS integration TIMEOUT 60)
