// Test support implementation: redis-server as a Process on a held port, polled with hiredis until
// it answers, stopped by pid.
#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <memory>
#include <stdexcept>

#include "support/eventually.hpp"

namespace roombus::test {
namespace {

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

RedisServer::RedisServer(std::string password) : password_(std::move(password)) { start(); }

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::url(int db) const {
  const std::string auth = password_.empty() ? "" : ":" + password_ + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port()) + "/" + std::to_string(db);
}

void RedisServer::start() {
  if (running()) return;
  std::vector<std::string> argv = {"redis-server",
                                   "--port",
                                   std::to_string(port()),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_.dir().string(),
                                   "--logfile",
                                   (dir_ / "redis.log").string(),
                                   "--enable-debug-command",
                                   "local"};
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  process_ = std::make_unique<Process>(argv, Process::Output{});
  const bool answering = eventually([this] {
    if (!process_->running()) return true;  // exited: reported below
    const timeval tv{0, 200'000};
    Context c(redisConnectWithTimeout("127.0.0.1", port(), tv));
    if (!c || c->err != 0) return false;
    std::vector<std::string> ping{"PING"};
    return run(c.get(), ping) != nullptr;  // NOAUTH counts: it answers
  });
  if (!answering || !process_->running()) {
    process_.reset();
    throw std::runtime_error("redis-server did not start on port " + std::to_string(port()) +
                             "; its log:\n" + read_file(dir_ / "redis.log"));
  }
}

void RedisServer::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (!process_->wait(std::chrono::seconds(10))) process_->kill();
  process_.reset();
}

CliReply RedisServer::command(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  Context c(redisConnectWithTimeout("127.0.0.1", port(), tv));
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
