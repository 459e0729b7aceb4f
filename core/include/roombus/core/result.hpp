// Core error values: Result<T> carries either a value or a domain Error (code + human text).
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace roombus::core {

// Domain outcomes that are not success. Adapters map these to wire shapes (v1 texts, HTTP
// statuses, Kafka results); never parse Error::text to decide anything.
enum class Errc {
  invalid_argument,    // a parameter is missing or malformed (text names it)
  invalid_email,       // not a syntactically valid address
  invalid_duration,    // not a whole, non-negative number of minutes
  invalid_start,       // not one of the accepted start formats, or not a real date/time
  invalid_minutes,     // getRooms window is not a whole number
  missing_key,         // no API key was presented
  access_denied,       // a key was presented but does not authorise this action
  not_a_member,        // the organiser is not a member of the server
  room_not_found,      // no room has this uid
  room_deleted,        // the room exists but was deleted
  server_not_found,    // no (live) server matches
  target_not_found,    // move/update target server missing or not under the same key
  server_unavailable,  // the server is cordoned or disabled and takes no new rooms
  not_clonable,        // no clone-allowed server answers to the key
  not_a_participant,   // remove of an email that is not a participant
  conflict,            // the command contradicts current state (duplicate url, live rooms, ...)
  storage_failed,      // the event log could not make the change durable
  command_id_reused,   // a chosen command id came again with a different request
};

std::string_view to_string(Errc code);

struct Error {
  Errc code;
  std::string text;
};

// A small stand-in for std::expected (not available to GCC 12 in C++20 mode).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(Errc code, std::string text) { return Error{code, std::move(text)}; }

}  // namespace roombus::core
