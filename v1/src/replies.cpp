// v1 replies: the shapes jitsi-admin answers with, and core errors mapped onto them.
#include "roombus/v1/replies.hpp"

#include "roombus/json/php_json_writer.hpp"

namespace roombus::v1 {

using core::Errc;
using json::PhpJsonWriter;

Reply error(std::string_view text) {
  return {200,
          PhpJsonWriter()
              .start_object()
              .key("error")
              .boolean(true)
              .key("text")
              .string(text)
              .end_object()
              .take(),
          false};
}

Reply defined_error(std::string_view text, std::string_view detail, int status) {
  return {status,
          PhpJsonWriter()
              .start_object()
              .key("error")
              .boolean(true)
              .key("text")
              .string(text)
              .key("detail")
              .string(detail)
              .end_object()
              .take(),
          false};
}

Reply array_error(std::string_view name) {
  return defined_error("Invalid parameter",
                       std::string(name) + " must be a single value, not an array");
}

std::optional<Reply> input_error(const core::Error& e) {
  switch (e.code) {
    case Errc::invalid_start:
      return defined_error("Invalid start", e.text);
    case Errc::invalid_duration:
      return defined_error("Invalid duration", e.text);
    case Errc::invalid_minutes:
      return defined_error("Invalid minutes", e.text);
    case Errc::invalid_argument:
      return defined_error("Invalid parameter", e.text);
    case Errc::conflict:
      return defined_error("Conflict", e.text);
    case Errc::server_unavailable:
      return defined_error("Server not available", e.text);
    case Errc::storage_failed:
      // The log could not make the change durable (the process then stops).
      return defined_error("Service unavailable", e.text, 503);
    case Errc::command_id_reused:
      // A chosen id sent again with other parameters: the IETF draft's 422, not the first answer.
      return defined_error(
          "Idempotency-Key reused",
          "this Idempotency-Key was sent before with different parameters (" + e.text + ")", 422);
    default:
      return std::nullopt;
  }
}

bool is_auth_error(Errc code) {
  return code == Errc::missing_key || code == Errc::access_denied ||
         code == Errc::server_not_found || code == Errc::not_a_member ||
         code == Errc::invalid_email;
}

}  // namespace roombus::v1
