# Real-browser tests: the join page in Debian's headless chromium, driven by puppeteer-core from
# npm (tests/browser/package-lock.json). A fixture installs the packages into the build tree once;
# scripts/install-deps brings chromium, node, npm and python3-jwt.
if(TARGET roombus)
  set(ROOMBUS_BROWSER_NODE_DIR ${CMAKE_BINARY_DIR}/browser-node)
  add_test(NAME browser_npm_install
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/browser/npm-install ${ROOMBUS_BROWSER_NODE_DIR})
  set_tests_properties(browser_npm_install PROPERTIES
    FIXTURES_SETUP roombus_browser_node LABELS integration TIMEOUT 300)
  add_test(NAME browser_join_links
           COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/browser/join_links.test.cjs
                   $<TARGET_FILE:roombus> ${CMAKE_BINARY_DIR}/browser-screenshots)
  set_tests_properties(browser_join_links PROPERTIES
    FIXTURES_REQUIRED roombus_browser_node LABELS integration TIMEOUT 120
    ENVIRONMENT NODE_PATH=${ROOMBUS_BROWSER_NODE_DIR}/node_modules)
endif()
