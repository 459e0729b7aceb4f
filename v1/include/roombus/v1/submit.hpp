// The bridge from the core's callback to an awaitable: a command through the Service.
#pragma once

#include <asio/awaitable.hpp>
#include <string>

#include "roombus/core/commands.hpp"
#include "roombus/core/decide.hpp"
#include "roombus/core/service.hpp"

namespace roombus::v1 {

// A command id: the caller's (HTTP Idempotency-Key, Kafka command id: remembered with its
// outcome), or a fresh single-use one.
struct CommandId {
  std::string value;
  bool chosen = false;
  // For a chosen id: what the caller's id is scoped to (HTTP: method, path and credential; Kafka:
  // type and credential). submit() fingerprints it with the command, so that the same id sent
  // with another request is told apart (Errc::command_id_reused).
  std::string scope;
};

// Runs a command through the core and resumes, on the caller's executor, once its outcome is
// final (durable on success). The Decision carries the reply only, not the events. Call on the
// thread that owns the Service (the io_context's).
asio::awaitable<core::Result<core::Decision>> submit(core::Service& service, CommandId id,
                                                     core::Command command);

}  // namespace roombus::v1
