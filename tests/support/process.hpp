// Test support: a child process started by the test, signalled and reaped by its pid only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace roombus::test {

// `argv[0]` (a path, or a name looked up on PATH) started with posix_spawnp: stdin from
// /dev/null, stdout and stderr to the given files (the same file twice is one shared stream;
// empty is /dev/null), and the test's environment without ROOMBUS_* variables, so that only what
// the test states configures the child, plus `env` (NAME=value). The destructor SIGKILLs and
// reaps a child that still runs: a failing test never leaves a process behind. Never looked up or
// killed by name.
class Process {
 public:
  struct Output {
    std::filesystem::path out;
    std::filesystem::path err;
  };
  Process(const std::vector<std::string>& argv, const Output& output,
          const std::vector<std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // The exit code (128 + signal when killed), or nullopt if it still runs after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running() { return !wait(std::chrono::milliseconds(0)); }
  // SIGKILL (when running) and reap; the exit code.
  std::optional<int> kill();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Runs a command to completion, its output in `dir`; SIGKILLed after `timeout`.
struct Finished {
  int exit_code = -1;
  std::string out;
  std::string err;
};
Finished run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60),
                    const std::vector<std::string>& env = {});

// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::filesystem::path& path);

}  // namespace roombus::test
