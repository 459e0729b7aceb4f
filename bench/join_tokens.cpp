// Cost of one join-link operation: the shared token in every info answer, the personal links,
// and the JWT of every redirect into Jitsi. Single-threaded; prints microseconds per call.
#include <chrono>
#include <cstdio>
#include <string>

#include "roombus/crypto/ids.hpp"
#include "roombus/crypto/join_links.hpp"
#include "roombus/crypto/jwt.hpp"

namespace {

template <class F>
double micros_per_call(int calls, F f) {
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) f();
  std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - started;
  return took.count() / calls;
}

}  // namespace

int main() {
  using namespace roombus::crypto;
  JoinLinkCipher cipher(*parse_join_key(generate_join_key()));
  OpenSslIdSource ids;
  const std::string uid = ids.room_uid();
  const std::string token = cipher.seal_uid(uid);
  const std::string payload = "p|1|" + uid + "|pat@example.com";
  const std::string sealed = cipher.seal(payload);
  const std::string claims =
      R"({"iss":"app","aud":"jitsi_admin","sub":"meet.example.com","room":"abcdefghijklmnopqrstuvwxyz",)"
      R"("iat":1,"nbf":1,"exp":2,"context":{"user":{"name":"Ann"}},"moderator":false})";
  std::size_t sink = 0;  // keeps the calls from being optimised away
  std::printf("seal_uid (info answer)      %7.3f us\n",
              micros_per_call(1000000, [&] { sink += cipher.seal_uid(uid).size(); }));
  std::printf("open_uid (shared link)      %7.3f us\n",
              micros_per_call(1000000, [&] { sink += cipher.open_uid(token)->size(); }));
  std::printf("seal (personal link)        %7.3f us\n",
              micros_per_call(200000, [&] { sink += cipher.seal(payload).size(); }));
  std::printf("open (personal link)        %7.3f us\n",
              micros_per_call(200000, [&] { sink += cipher.open(sealed)->size(); }));
  std::printf("sign_jwt_hs256 (redirect)   %7.3f us\n",
              micros_per_call(100000, [&] { sink += sign_jwt_hs256(claims, "secret").size(); }));
  return sink == 0 ? 1 : 0;
}
