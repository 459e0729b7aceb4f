// `roombus log dump`: the event log as JSON lines, read beside a running `roombus serve`.
#pragma once

#include <cstdint>
#include <filesystem>

namespace CLI {
class App;
}

namespace roombus::cli {

// Adds `log dump` to `app`. CLI11 writes the options into this object while parsing, so it must
// outlive the parse (hence neither copied nor moved).
class LogCommand {
 public:
  explicit LogCommand(CLI::App& app);
  LogCommand(const LogCommand&) = delete;
  LogCommand& operator=(const LogCommand&) = delete;

  bool parsed() const;
  // Prints every event after `--after`, one line each, to stdout; returns the exit code.
  // Throws UsageError when the data directory cannot be opened, std::exception otherwise.
  int run() const;

 private:
  CLI::App* dump_ = nullptr;
  std::filesystem::path data_dir_ = "./data";
  std::int64_t after_ = 0;
};

}  // namespace roombus::cli
