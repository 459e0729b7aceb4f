// The table of `roombus serve` options against CLI11, README.md, docs/operations.md, the binary.
#include "options.hpp"

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace app = roombus::app;
using roombus::test::Finished;
using roombus::test::read_file;
using roombus::test::run_to_end;
using roombus::test::TempDir;

constexpr std::string_view kMarker = "<!-- serve-options:";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The markdown table under the README's marker: up to the blank line that ends it.
std::string readme_block(const std::string& readme) {
  std::string block;
  int markers = 0;
  bool inside = false;
  for (const std::string& line : lines_of(readme)) {
    if (line.starts_with(kMarker)) {
      ++markers;
      inside = true;
    } else if (inside && line.empty()) {
      inside = false;
    } else if (inside) {
      block += line + "\n";
    }
  }
  // A second marker would leave one of two tables unchecked.
  CHECK(markers == 1);
  return block;
}

// A table's cells; the first and last (outside the outer pipes) dropped.
std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> cells;
  std::string_view rest(row);
  for (auto bar = rest.find(" | "); bar != std::string_view::npos; bar = rest.find(" | ")) {
    cells.emplace_back(rest.substr(0, bar));
    rest.remove_prefix(bar + 3);
  }
  cells.emplace_back(rest);
  if (!cells.empty()) cells.front().erase(0, 2);  // "| "
  if (!cells.empty() && cells.back().ends_with(" |")) cells.back().resize(cells.back().size() - 2);
  return cells;
}

// The README's rows by flag cell (`--kafka-config key=value` included as written).
std::map<std::string, std::vector<std::string>> rows_by_flag(const std::string& table) {
  std::map<std::string, std::vector<std::string>> rows;
  for (const std::string& line : lines_of(table)) {
    if (line.starts_with("| `--")) {
      std::vector<std::string> cells = cells_of(line);
      rows[cells.front()] = cells;
    }
  }
  return rows;
}

bool is_flag(const app::ServeOption& option) {
  return std::holds_alternative<bool app::ServeConfig::*>(option.member);
}

}  // namespace

TEST_CASE("options: README.md's table is the one readme_table() renders", "[options]") {
  const std::string readme = read_file(ROOMBUS_README);
  REQUIRE(!readme.empty());
  INFO("replace the table under '" << kMarker << "' in README.md with readme_table()'s lines");
  CHECK(readme_block(readme) == app::readme_table());
}

TEST_CASE("options: docs/operations.md's Kafka table says what the README says", "[options]") {
  const auto readme_rows = rows_by_flag(app::readme_table());
  const auto operations_rows = rows_by_flag(read_file(ROOMBUS_OPERATIONS));
  REQUIRE(!operations_rows.empty());
  for (const auto& [flag, cells] : operations_rows) {
    INFO("docs/operations.md: " << flag);
    auto readme_row = readme_rows.find(flag);
    REQUIRE(readme_row != readme_rows.end());
    REQUIRE(cells.size() == 4);
    // Flag, variable and default; the meaning may say more there.
    for (std::size_t i = 0; i < 3; ++i) CHECK(cells[i] == readme_row->second[i]);
  }
}

TEST_CASE("options: the table has one row per option, each flag, variable and member once",
          "[options]") {
  std::set<std::string_view> flags;
  std::set<std::string_view> envs;
  const auto options = app::serve_options();
  for (std::size_t i = 0; i < options.size(); ++i) {
    const app::ServeOption& option = options[i];
    INFO(option.flag);
    CHECK(flags.insert(option.flag).second);
    CHECK(envs.insert(option.env).second);
    CHECK(option.flag.starts_with("--"));
    CHECK(option.env.starts_with("ROOMBUS_"));
    CHECK(!option.help.empty());
    CHECK(!option.meaning.empty());
    for (std::size_t j = 0; j < i; ++j) CHECK_FALSE(options[j].member == option.member);
    CHECK(app::option_label(option.member) ==
          std::string(option.flag) + "/" + std::string(option.env));
  }
  const auto rows = lines_of(app::readme_table());
  CHECK(rows.size() == options.size() + 2);  // the header and its rule
}

TEST_CASE("options: add_serve_options registers exactly the table, as it says", "[options]") {
  CLI::App command_line;
  CLI::App* serve = command_line.add_subcommand("serve");
  app::ServeConfig config;
  app::add_serve_options(*serve, config);

  const auto options = app::serve_options();
  const auto readme_rows = lines_of(app::readme_table());
  for (std::size_t i = 0; i < options.size(); ++i) {
    const app::ServeOption& option = options[i];
    INFO(option.flag);
    const CLI::Option* registered = serve->get_option_no_throw(std::string(option.flag));
    REQUIRE(registered != nullptr);
    CHECK(registered->get_envname() == option.env);
    CHECK(registered->get_description() == option.help);
    CHECK(registered->get_delimiter() == option.delimiter);
    CHECK((registered->get_items_expected_max() == 0) == is_flag(option));
    // The default `--help` shows is the one in the README's row.
    const std::string& shown = registered->get_default_str();
    if (!shown.empty()) {
      CHECK(cells_of(readme_rows[i + 2])[2].find("`" + shown + "`") != std::string::npos);
    }
  }
  // Nothing beyond the table but CLI11's --help.
  for (const CLI::Option* registered : serve->get_options()) {
    if (registered->get_name() == "--help") continue;
    INFO(registered->get_name());
    bool in_table = false;
    for (const app::ServeOption& option : options) {
      in_table |= registered->check_name(std::string(option.flag));
    }
    CHECK(in_table);
  }
}

TEST_CASE("options: a flag and a variable reach the member the table names", "[options]") {
  CLI::App command_line;
  CLI::App* serve = command_line.add_subcommand("serve");
  app::ServeConfig config;
  app::add_serve_options(*serve, config);
  REQUIRE(::setenv("ROOMBUS_KAFKA_CONFIG", "client.id=a;linger.ms=5", 1) == 0);
  command_line.parse(
      "serve --listen 0.0.0.0:9 --kafka-partitions 7 --snapshot-every 9 "
      "--info-requires-key --data-dir /srv/roombus",
      false);
  ::unsetenv("ROOMBUS_KAFKA_CONFIG");
  CHECK(config.listen == "0.0.0.0:9");
  CHECK(config.kafka_partitions == 7);
  CHECK(config.snapshot_every == 9);
  CHECK(config.info_requires_key);
  CHECK(config.data_dir == "/srv/roombus");
  CHECK(config.kafka_config == std::vector<std::string>{"client.id=a", "linger.ms=5"});
}

// main.cpp could register an option past add_serve_options: the binary's own --help catches it.
TEST_CASE("options: `roombus serve --help` lists the table's options and --check-config only",
          "[options]") {
  TempDir dir;
  Finished help = run_to_end({ROOMBUS_BINARY, "serve", "--help"}, dir.dir());
  REQUIRE(help.exit_code == 0);
  std::map<std::string, std::string> listed;  // flag -> its line
  for (const std::string& line : lines_of(help.out)) {
    auto start = line.find_first_not_of(' ');
    if (start == std::string::npos || line[start] != '-') continue;
    std::string names = line.substr(start, line.find(' ', start) - start);
    std::istringstream split(names);
    for (std::string name; std::getline(split, name, ',');) {
      if (name.starts_with("--")) listed[name] = line;
    }
  }
  for (const app::ServeOption& option : app::serve_options()) {
    INFO(option.flag);
    auto found = listed.find(std::string(option.flag));
    REQUIRE(found != listed.end());
    CHECK(found->second.find("(Env:" + std::string(option.env) + ")") != std::string::npos);
    listed.erase(found);
  }
  listed.erase("--help");
  listed.erase("--check-config");
  for (const auto& [flag, line] : listed) {
    FAIL_CHECK("`roombus serve --help` lists " << flag << ", which the table lacks: " << line);
  }
}
