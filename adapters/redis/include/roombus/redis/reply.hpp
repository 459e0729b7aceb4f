// Values that cross the Redis adapter's boundary: replies copied out of hiredis, and its errors.
#pragma once

#include <chrono>
#include <string>
#include <system_error>
#include <vector>

namespace roombus::redis {

// Every operation ends by this instant (a point, so one request's budget spans several calls).
using Deadline = std::chrono::steady_clock::time_point;

// One command: its name and arguments, binary-safe.
using Argv = std::vector<std::string>;

// A reply, deep-copied out of hiredis's redisReply (which hiredis frees when its callback ends).
struct Reply {
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;
  std::string str;  // status, error and string replies
  long long integer = 0;
  std::vector<Reply> elements;  // array replies

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  friend bool operator==(const Reply&, const Reply&) = default;
};

// Why an operation produced no reply. Error replies from Redis are not errors here: they are
// replies of type `error` (a pipeline may hold both).
enum class Error {
  not_connected = 1,  // the connection was not up when the operation started
  connection_lost,    // the connection dropped (or was stopped) before every reply came
  timed_out,          // the deadline passed first; a late reply is dropped
};

const std::error_category& error_category();
std::error_code make_error_code(Error e);

// The outcome of one command.
struct Outcome {
  std::error_code error;
  Reply reply;
  bool ok() const { return !error; }
};

// The outcome of a pipeline: on success, one reply per command, in order.
struct Replies {
  std::error_code error;
  std::vector<Reply> replies;
  bool ok() const { return !error; }
};

// One line describing an outcome that is not a plain success: the error, or the first error
// reply. Empty when everything succeeded.
std::string describe(const Replies& replies);

}  // namespace roombus::redis

template <>
struct std::is_error_code_enum<roombus::redis::Error> : std::true_type {};
