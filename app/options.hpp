// The options of `roombus serve`: one table feeds CLI11, the configuration errors and the README.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.hpp"

namespace CLI {
class App;
}

namespace roombus::app {

// The member an option sets. Its type decides how CLI11 takes it: a bool member is a flag.
using ServeMember = std::variant<std::string ServeConfig::*, std::filesystem::path ServeConfig::*,
                                 std::vector<std::string> ServeConfig::*, int ServeConfig::*,
                                 std::int64_t ServeConfig::*, bool ServeConfig::*>;

// One option of `roombus serve`. Defaults are not written here: they are ServeConfig's, shown by
// `--help` and in the README from a default-constructed ServeConfig, so neither can go stale.
struct ServeOption {
  std::string_view flag;  // "--listen"
  std::string_view env;   // "ROOMBUS_LISTEN"
  ServeMember member;
  std::string_view help;     // as `roombus serve --help` shows it
  std::string_view meaning;  // the README's last cell (markdown)
  // The README's "default" cell (markdown); "{}" stands for ServeConfig's default in backticks,
  // so only options whose default is empty (or a flag) need words of their own.
  std::string_view readme_default = "{}";
  // Splits one value into several, in the flag and the variable alike.
  char delimiter = '\0';
  // What follows the flag in the README (`--kafka-config key=value`); `--help` says TEXT.
  std::string_view readme_value = {};
};

// Every option, in the order of the README's table and of `roombus serve --help`.
std::span<const ServeOption> serve_options();

// Registers every option on `serve` (the subcommand), each writing into `config`.
void add_serve_options(CLI::App& serve, ServeConfig& config);

// "--flag/ROOMBUS_VAR" of the option that sets `member`, the prefix of configuration errors.
// Throws std::logic_error for a member no option sets.
std::string option_label(ServeMember member);

// The README's table of options, header included, one line per row, each ending in '\n'.
std::string readme_table();

}  // namespace roombus::app
