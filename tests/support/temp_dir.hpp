// Test support: a fresh directory under /tmp for one test, removed with everything in it.
#pragma once

#include <filesystem>
#include <string_view>

namespace roombus::test {

class TempDir {
 public:
  // /tmp/roombus-<label>-XXXXXX; the label says which suite left a directory behind after a crash.
  explicit TempDir(std::string_view label = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path operator/(std::string_view name) const { return dir_ / name; }

 private:
  std::filesystem::path dir_;
};

}  // namespace roombus::test
