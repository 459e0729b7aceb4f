// The adapter's error category and the one-line descriptions used in logs and exceptions.
#include "roombus/redis/reply.hpp"

namespace roombus::redis {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int value) const override {
    switch (static_cast<Error>(value)) {
      case Error::not_connected:
        return "Redis is not connected";
      case Error::connection_lost:
        return "the Redis connection was lost";
      case Error::timed_out:
        return "Redis did not answer before the deadline";
    }
    return "unknown Redis error";
  }
};

}  // namespace

const std::error_category& error_category() {
  static const Category category;
  return category;
}

std::error_code make_error_code(Error e) { return {static_cast<int>(e), error_category()}; }

std::string describe(const Replies& replies) {
  if (replies.error) return replies.error.message();
  for (const Reply& r : replies.replies) {
    if (r.is_error()) return "Redis answered: " + r.str;
  }
  return {};
}

}  // namespace roombus::redis
