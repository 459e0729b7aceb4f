// The admin token file on a real file system: created 0600 from the start, bad files refused.
#include "admin_token.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/roombus_process.hpp"

using roombus::app::admin_token;
using roombus::app::ConfigError;
using roombus::app::ServeConfig;
using roombus::test::TempDir;

namespace {

struct Logged {
  std::vector<std::string> lines;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

ServeConfig config_in(const std::filesystem::path& dir) {
  ServeConfig config;
  config.data_dir = dir;
  return config;
}

void write_file(const std::filesystem::path& file, const std::string& content, mode_t mode) {
  std::ofstream(file) << content;
  REQUIRE(::chmod(file.c_str(), mode) == 0);
}

mode_t mode_of(const std::filesystem::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Restores the process umask when the test ends.
struct Umask {
  explicit Umask(mode_t mask) : old(::umask(mask)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

}  // namespace

TEST_CASE("a generated admin token file is 0600 whatever the umask and is read back",
          "[app][admin-token]") {
  TempDir temp;
  Umask open_umask(0);  // a umask that would let a plainly created file be world-readable
  Logged log;
  const std::string token = admin_token(config_in(temp.dir()), log.sink());
  const auto file = temp.dir() / "admin-token";
  CHECK(token.size() == 43);
  CHECK(mode_of(file) == 0600);
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find(token) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(temp.dir() / "admin-token.tmp"));

  // The next start reads it, and says nothing.
  CHECK(admin_token(config_in(temp.dir()), log.sink()) == token);
  CHECK(log.lines.size() == 1);
  // A stale temp file from a crash during creation does not stand in the way.
  std::filesystem::remove(file);
  write_file(temp.dir() / "admin-token.tmp", "half", 0644);
  CHECK(admin_token(config_in(temp.dir()), log.sink()).size() == 43);
  CHECK(mode_of(file) == 0600);
}

TEST_CASE("a configured admin token is used as is and no file is written", "[app][admin-token]") {
  TempDir temp;
  ServeConfig config = config_in(temp.dir());
  config.admin_token = "configured-token-0123456789";
  Logged log;
  CHECK(admin_token(config, log.sink()) == "configured-token-0123456789");
  CHECK_FALSE(std::filesystem::exists(temp.dir() / "admin-token"));
  CHECK(log.lines.empty());
}

TEST_CASE("an existing admin token file that is not safe or not usable is refused",
          "[app][admin-token]") {
  TempDir temp;
  const auto file = temp.dir() / "admin-token";
  const std::string good = "a-good-token-of-enough-length-42";
  struct Case {
    std::string name;
    std::function<void()> make;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"readable by others", [&] { write_file(file, good + "\n", 0644); },
       "accessible to other users (mode 0644)"},
      {"writable by the group", [&] { write_file(file, good + "\n", 0620); }, "mode 0620"},
      {"shorter than 16 characters", [&] { write_file(file, "short\n", 0600); },
       "token of 5 characters"},
      {"empty", [&] { write_file(file, "", 0600); }, "token of 0 characters"},
      {"longer than 1024 characters",
       [&] { write_file(file, std::string(2000, 't') + "\n", 0600); }, "needs 16 to 1024"},
      {"a space inside", [&] { write_file(file, "token with spaces inside\n", 0600); },
       "visible ASCII"},
      {"another user's",
       [&] {
         write_file(file, good + "\n", 0600);
         REQUIRE(::chown(file.c_str(), 4242, 4242) == 0);
       },
       "belongs to another user"},
      {"a symbolic link",
       [&] {
         write_file(temp.dir() / "elsewhere", good + "\n", 0600);
         std::filesystem::create_symlink(temp.dir() / "elsewhere", file);
       },
       "symbolic link"},
      {"a directory", [&] { std::filesystem::create_directory(file); }, "not a regular file"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::filesystem::remove_all(file);
    c.make();
    Logged log;
    CHECK_THROWS_AS(admin_token(config_in(temp.dir()), log.sink()), ConfigError);
    try {
      (void)admin_token(config_in(temp.dir()), log.sink());
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      CHECK(what.find(file.string()) != std::string::npos);
      CHECK(what.find(c.message) != std::string::npos);
      CHECK(what.find('\n') == std::string::npos);
    }
    CHECK(log.lines.empty());
    // Refused, not replaced.
    CHECK((std::filesystem::is_directory(file) || std::filesystem::is_symlink(file) ||
           std::filesystem::file_size(file) != 43 + 1));
  }
}

TEST_CASE("an admin token that cannot be written is a clear configuration error",
          "[app][admin-token]") {
  TempDir temp;
  // The data directory is a file: nothing can be created inside it.
  write_file(temp.dir() / "not-a-dir", "x", 0600);
  Logged log;
  CHECK_THROWS_WITH(admin_token(config_in(temp.dir() / "not-a-dir"), log.sink()),
                    Catch::Contains("not-a-dir/admin-token") && Catch::Contains("Not a directory"));
}
