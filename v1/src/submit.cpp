// submit: the core's callback bridged to an awaitable, resumed through the caller's executor.
#include "roombus/v1/submit.hpp"

#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>

namespace roombus::v1 {
namespace {

// The completion handler is move-only; the core's callback type is copyable.
template <class Handler>
struct SharedHandler {
  std::shared_ptr<Handler> handler;
  asio::any_io_executor executor;
  void operator()(const core::Result<core::Decision>& outcome) const {
    // Callers answer from the reply; the events (whole rooms) are not worth copying.
    core::Result<core::Decision> reply =
        outcome ? core::Result<core::Decision>(core::Decision{{}, outcome->reply})
                : core::Result<core::Decision>(outcome.error());
    // Always resume through the executor: the core may answer inside submit() itself.
    asio::post(executor,
               [h = handler, reply = std::move(reply)]() mutable { (*h)(std::move(reply)); });
  }
};

}  // namespace

asio::awaitable<core::Result<core::Decision>> submit(core::Service& service, CommandId id,
                                                     core::Command command) {
  auto executor = co_await asio::this_coro::executor;
  auto initiate = [&service, executor](auto handler, CommandId cmd_id, core::Command cmd) {
    using H = decltype(handler);
    SharedHandler<H> shared{std::make_shared<H>(std::move(handler)), executor};
    if (!cmd_id.chosen) {
      service.submit(cmd_id.value, cmd, shared, core::Service::Id::generated);
      return;
    }
    // The decoded parameters are the command's; hashed like the id, so no credential is kept.
    std::string fingerprint =
        service.hash_key(cmd_id.scope + core::canonical_text(cmd)).value_or("");
    service.submit(cmd_id.value, cmd, shared, core::Service::Id::chosen, fingerprint);
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(core::Result<core::Decision>)>(
      initiate, asio::use_awaitable, std::move(id), std::move(command));
}

}  // namespace roombus::v1
