// Test support implementation: spawns redis-server, polls it with hiredis until it answers,
// stops it by pid.
#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace roombus::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A port the kernel just handed out on 127.0.0.1, released for redis-server to bind.
std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::system_error(errno, std::generic_category(), "bind to a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

CliReply convert(const redisReply& r) {
  CliReply out;
  out.error = r.type == REDIS_REPLY_ERROR;
  out.nil = r.type == REDIS_REPLY_NIL;
  out.integer = r.integer;
  if (r.str != nullptr) out.text.assign(r.str, r.len);
  for (std::size_t i = 0; i < r.elements; ++i) {
    const redisReply& e = *r.element[i];
    out.items.push_back(e.type == REDIS_REPLY_INTEGER ? std::to_string(e.integer)
                        : e.str != nullptr            ? std::string(e.str, e.len)
                                                      : std::string("(nil)"));
  }
  return out;
}

ReplyPtr run(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const auto& a : argv) {
    pointers.push_back(a.data());
    lengths.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), pointers.data(), lengths.data())));
}

}  // namespace

RedisServer::RedisServer(std::string password) : password_(std::move(password)) {
  std::string name = "/tmp/roombus-redis-test-XXXXXX";
  if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = name;
  // Another process may take the free port before redis-server binds it: try a few.
  for (int tries = 0; tries < 5; ++tries) {
    port_ = free_loopback_port();
    if (launch()) return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  throw std::runtime_error("redis-server did not start");
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::url(int db) const {
  const std::string auth = password_.empty() ? "" : ":" + password_ + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

void RedisServer::start() {
  if (running()) return;
  if (!launch()) throw std::runtime_error("redis-server did not restart on its port");
}

bool RedisServer::launch() {
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_.string(),
                                   "--logfile",
                                   (dir_ / "redis.log").string(),
                                   "--enable-debug-command",
                                   "local"};
  if (!password_.empty()) {
    args.push_back("--requirepass");
    args.push_back(password_);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const int rc = ::posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::system_error(rc, std::generic_category(), "posix_spawnp redis-server");
  }

  const auto until = Clock::now() + 10s;
  while (Clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    const timeval tv{0, 200'000};
    Context c(redisConnectWithTimeout("127.0.0.1", port_, tv));
    if (c && c->err == 0) {
      std::vector<std::string> ping{"PING"};
      ReplyPtr reply = run(c.get(), ping);
      if (reply) return true;  // NOAUTH counts: it answers
    }
    std::this_thread::sleep_for(20ms);
  }
  stop();
  return false;
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto until = Clock::now() + 5s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  pid_ = -1;
}

CliReply RedisServer::command(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  Context c(redisConnectWithTimeout("127.0.0.1", port_, tv));
  if (!c || c->err != 0) throw std::runtime_error("cannot connect to the test redis-server");
  redisSetTimeout(c.get(), tv);
  if (!password_.empty()) {
    std::vector<std::string> auth{"AUTH", password_};
    ReplyPtr ok = run(c.get(), auth);
    if (!ok || ok->type == REDIS_REPLY_ERROR) throw std::runtime_error("AUTH failed");
  }
  ReplyPtr reply = run(c.get(), argv);
  if (!reply) throw std::runtime_error("no reply from the test redis-server: " + argv.front());
  return convert(*reply);
}

}  // namespace roombus::test
