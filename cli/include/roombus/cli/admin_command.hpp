// `roombus admin ...`: one admin API request per invocation, the answer printed as it came.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace roombus::cli {

// Adds `admin` and its subcommands (list, show, create, ...) to `app`. CLI11 writes the options
// into this object while parsing and the subcommands' callbacks capture it, so it must outlive
// the parse (hence neither copied nor moved).
class AdminCommand {
 public:
  explicit AdminCommand(CLI::App& app);
  AdminCommand(const AdminCommand&) = delete;
  AdminCommand& operator=(const AdminCommand&) = delete;

  bool parsed() const;
  // Sends the request; prints a 2xx answer's body to stdout (0), any other to stderr (1), the
  // status instead of an empty body. Throws UsageError without a token, std::exception when the
  // server cannot be reached.
  int run();

 private:
  struct Call {
    std::string method;
    std::string path;
    std::string body;
  };

  CLI::App* admin_ = nullptr;
  std::string url_ = "http://127.0.0.1:8080";
  std::string token_;
  std::filesystem::path data_dir_ = "./data";

  // The subcommands' arguments; the subcommand that ran turns them into `make_call_`.
  std::int64_t id_ = 0;
  std::string server_url_, name_, app_id_, app_secret_, api_key_, member_, state_, allow_;
  std::vector<std::string> members_;
  bool allow_clone_ = false;
  std::function<Call()> make_call_;
};

}  // namespace roombus::cli
