// Test support implementation: mkdtemp and remove_all.
#include "support/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace roombus::test {

TempDir::TempDir(std::string_view label) {
  std::string pattern = "/tmp/roombus-" + std::string(label) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace roombus::test
