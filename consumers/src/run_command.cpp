// run_command: a Kafka command runs the v1 write of its type, the same way as over HTTP.
#include "roombus/consumers/command_consumer.hpp"
#include "roombus/v1/writes.hpp"

namespace roombus::consumers {

asio::awaitable<CommandResult> run_command(core::Service& service, CommandRecord record) {
  const std::optional<v1::Write> write = v1::write_of(record.type);
  if (!write) {
    // decode_command() lets only known types through; this is a bug, answered like one.
    co_return CommandResult{
        v1::defined_error("Bad Request", "unknown type " + record.type, 400).body, 400, false};
  }
  // Scoped to the type and the credential, like HTTP's key to method, path and credential: one
  // producer's id never answers for another producer or another command type.
  std::string scope = "kafka " + record.type + '\n' + record.key + '\n';
  std::string id = "kafka:" + service.hash_key(scope + record.id).value_or("");
  v1::JsonParameters parameters(record.data);
  v1::WriteRequest request{*write, &parameters, record.key, std::nullopt,
                           v1::CommandId{std::move(id), true, std::move(scope)}};
  v1::Reply reply = co_await v1::run(service, std::move(request));
  co_return CommandResult{std::move(reply.body), reply.status, reply.ok};
}

}  // namespace roombus::consumers
