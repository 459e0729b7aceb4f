// Test support implementation: posix_spawnp with redirections, waitpid by pid.
#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "support/eventually.hpp"

extern char** environ;

namespace roombus::test {
namespace {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void redirect(posix_spawn_file_actions_t& actions, int fd, const std::filesystem::path& file) {
  if (file.empty()) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, fd, file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  }
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, const Output& output,
                 const std::vector<std::string>& env) {
  std::vector<std::string> argv_strings = argv;
  std::vector<char*> args;
  for (auto& a : argv_strings) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ROOMBUS_", 8) != 0) env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  redirect(actions, 1, output.out);
  if (!output.err.empty() && output.err == output.out) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    redirect(actions, 2, output.err);
  }
  const int rc =
      ::posix_spawnp(&pid_, argv.at(0).c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawnp " + argv.at(0));
}

Process::~Process() { kill(); }

void Process::signal(int sig) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  eventually(
      [this] {
        int status = 0;
        pid_t r;
        do {
          r = ::waitpid(pid_, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == pid_) exit_code_ = exit_code_of(status);
        if (r < 0) exit_code_ = -1;  // not our child any more: nothing to wait for
        return exit_code_.has_value();
      },
      timeout);
  return exit_code_;
}

std::optional<int> Process::kill() {
  if (pid_ <= 0 || exit_code_) return exit_code_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  exit_code_ = r == pid_ ? exit_code_of(status) : -1;
  return exit_code_;
}

Finished run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                    std::chrono::milliseconds timeout, const std::vector<std::string>& env) {
  static std::atomic<int> counter{0};
  const std::string stem = "run-" + std::to_string(++counter);
  const auto out = dir / (stem + ".out");
  const auto err = dir / (stem + ".err");
  Finished finished;
  {
    Process process(argv, {out, err}, env);
    auto code = process.wait(timeout);
    if (!code) code = process.kill();
    finished.exit_code = code.value_or(-1);
  }
  finished.out = read_file(out);
  finished.err = read_file(err);
  return finished;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace roombus::test
