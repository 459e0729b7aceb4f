// HTTP load generator: N keep-alive connections each POST /api/v1/room, back-to-back or at a rate.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

// One thread and epoll, like redis-benchmark, so both sides of the comparison spend the same CPU
// on the client. Every request carries a fresh Idempotency-Key, so the server stores an outcome
// with each event, as a retrying jitsi-admin client would make it do. Latency is measured from
// the first byte sent to the last byte of the reply; requests started during the warm-up are not
// counted. Prints one line of key=value pairs for scripts.
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string api_key;
  std::string server = "meet.example.com";
  std::string email = "alice@x.de";
  int connections = 64;
  double seconds = 10;
  double warmup = 1;
  std::string key_prefix = "bench";
  double rate = 0;    // requests per second over all connections; 0: back-to-back
  std::string trace;  // file for "uid sent_ns replied_ns" of each success (steady clock)
  std::string start = "2030-01-01T10:00";  // of every room created
  int duration = 30;                       // minutes
  long long requests = 0;                  // stop after this many requests; 0: no limit
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "http_load: %s\n"
               "usage: http_load --port P --api-key KEY [--host 127.0.0.1] [--connections 64]\n"
               "                 [--seconds 10] [--warmup 1] [--server meet.example.com]\n"
               "                 [--email alice@x.de] [--key-prefix bench]\n"
               "                 [--rate REQUESTS_PER_SECOND] [--trace FILE]\n"
               "                 [--start 2030-01-01T10:00] [--duration 30] [--requests N]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage("missing value");
    const char* value = argv[++i];
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = std::atoi(value);
    } else if (flag == "--api-key") {
      o.api_key = value;
    } else if (flag == "--server") {
      o.server = value;
    } else if (flag == "--email") {
      o.email = value;
    } else if (flag == "--connections") {
      o.connections = std::atoi(value);
    } else if (flag == "--seconds") {
      o.seconds = std::atof(value);
    } else if (flag == "--warmup") {
      o.warmup = std::atof(value);
    } else if (flag == "--key-prefix") {
      o.key_prefix = value;
    } else if (flag == "--rate") {
      o.rate = std::atof(value);
    } else if (flag == "--start") {
      o.start = value;
    } else if (flag == "--duration") {
      o.duration = std::atoi(value);
    } else if (flag == "--requests") {
      o.requests = std::atoll(value);
    } else if (flag == "--trace") {
      o.trace = value;
    } else {
      usage("unknown option");
    }
  }
  if (o.port <= 0 || o.port > 65535) usage("--port is required");
  if (o.api_key.empty()) usage("--api-key is required");
  if (o.connections < 1 || o.seconds <= 0 || o.warmup < 0 || o.rate < 0) usage("bad numbers");
  return o;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

struct Connection {
  int fd = -1;
  int index = 0;
  std::uint64_t sequence = 0;
  std::string out;
  std::size_t out_sent = 0;
  std::string in;
  Clock::time_point started;
  Clock::time_point next_at;  // with --rate: when this connection sends next
  bool busy = false;
};

struct Traced {
  std::string uid;
  Clock::time_point sent;
  Clock::time_point replied;
};

struct Totals {
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::vector<double> latencies_ms;
  std::string first_error;
};

class Load {
 public:
  explicit Load(Options options) : o_(std::move(options)) {
    body_ = "server=" + url_encode(o_.server) + "&email=" + url_encode(o_.email) +
            "&name=Bench&start=" + url_encode(o_.start) +
            "&duration=" + std::to_string(o_.duration);
  }

  int run() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return fail("epoll_create1");
    connections_.resize(static_cast<std::size_t>(o_.connections));
    for (int i = 0; i < o_.connections; ++i) {
      if (!open(connections_[static_cast<std::size_t>(i)], i)) return 1;
    }
    const auto start = Clock::now();
    measure_from_ = start + to_duration(o_.warmup);
    stop_sending_ = measure_from_ + to_duration(o_.seconds);
    if (o_.rate > 0) {
      // Each connection sends every connections/rate seconds, the connections evenly staggered.
      interval_ = to_duration(static_cast<double>(o_.connections) / o_.rate);
      for (auto& c : connections_) c.next_at = start + interval_ * c.index / o_.connections;
    }
    for (auto& c : connections_) send_next(c);

    std::vector<epoll_event> events(static_cast<std::size_t>(o_.connections));
    const auto give_up = stop_sending_ + std::chrono::seconds(10);
    while ((busy_ > 0 || (o_.rate > 0 && Clock::now() < stop_sending_)) && Clock::now() < give_up) {
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms());
      if (n < 0 && errno != EINTR) return fail("epoll_wait");
      for (int i = 0; i < n; ++i) {
        auto& c = connections_[events[static_cast<std::size_t>(i)].data.u32];
        if ((events[static_cast<std::size_t>(i)].events & EPOLLOUT) != 0) flush(c);
        if ((events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
          receive(c);
        }
      }
      if (o_.rate > 0) {
        for (auto& c : connections_) {
          if (!c.busy) send_next(c);
        }
      }
    }
    report();
    if (!o_.trace.empty() && !write_trace()) return 1;
    return totals_.ok > 0 ? 0 : 1;
  }

 private:
  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  int fail(const char* what) const {
    std::fprintf(stderr, "http_load: %s: %s\n", what, std::strerror(errno));
    return 1;
  }

  bool open(Connection& c, int index) {
    c.index = index;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail("socket") == 0;
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (::inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr) != 1) {
      std::fprintf(stderr, "http_load: bad --host %s\n", o_.host.c_str());
      return false;
    }
    // Blocking connect keeps set-up simple; the load itself is non-blocking.
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      return fail("connect") == 0;
    }
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(index);
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return fail("epoll_ctl") == 0;
    return true;
  }

  void close(Connection& c) {
    if (c.fd < 0) return;
    ::close(c.fd);
    c.fd = -1;
    if (c.busy) --busy_;
    c.busy = false;
  }

  // epoll_wait's timeout: until the next scheduled send with --rate, else 100 ms.
  int wait_ms() const {
    if (o_.rate <= 0) return 100;
    auto next = Clock::now() + std::chrono::milliseconds(100);
    for (const auto& c : connections_) {
      if (!c.busy && c.fd >= 0) next = std::min(next, c.next_at);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(ms.count(), 0));
  }

  bool write_trace() const {
    std::FILE* out = std::fopen(o_.trace.c_str(), "w");
    if (out == nullptr) return fail("open --trace file") == 0;
    auto ns = [](Clock::time_point t) {
      return static_cast<long long>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
    };
    for (const Traced& t : traced_) {
      std::fprintf(out, "%s %lld %lld\n", t.uid.c_str(), ns(t.sent), ns(t.replied));
    }
    return std::fclose(out) == 0;
  }

  void send_next(Connection& c) {
    if (c.fd < 0 || Clock::now() >= stop_sending_) return;
    if (o_.requests > 0 && sent_ >= o_.requests) return;
    if (o_.rate > 0) {
      if (Clock::now() < c.next_at) return;
      c.next_at += interval_;
    }
    const std::string key =
        o_.key_prefix + "-" + std::to_string(c.index) + "-" + std::to_string(c.sequence++);
    c.out = "POST /api/v1/room HTTP/1.1\r\nHost: " + o_.host + "\r\nAuthorization: Bearer " +
            o_.api_key + "\r\nIdempotency-Key: " + key +
            "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
            std::to_string(body_.size()) + "\r\n\r\n" + body_;
    c.out_sent = 0;
    ++sent_;
    c.started = Clock::now();
    c.busy = true;
    ++busy_;
    flush(c);
  }

  void flush(Connection& c) {
    while (c.fd >= 0 && c.out_sent < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c, EPOLLIN | EPOLLOUT);
        return;
      }
      error(c, "send failed");
      return;
    }
    watch(c, EPOLLIN);
  }

  void watch(Connection& c, std::uint32_t mask) {
    epoll_event ev{};
    ev.events = mask;
    ev.data.u32 = static_cast<std::uint32_t>(c.index);
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void receive(Connection& c) {
    char chunk[16384];
    for (;;) {
      if (c.fd < 0) return;
      const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        c.in.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      error(c, "connection closed by the server");
      return;
    }
    while (parse_reply(c)) {
    }
  }

  // Consumes one complete reply from c.in, if there is one.
  bool parse_reply(Connection& c) {
    const auto head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::size_t length = 0;
    const std::string_view head(c.in.data(), head_end);
    for (std::size_t at = 0; (at = head.find("\r\n", at)) != std::string_view::npos;) {
      at += 2;
      constexpr std::string_view kLength = "content-length:";
      if (head.size() - at < kLength.size()) continue;
      bool match = true;
      for (std::size_t i = 0; i < kLength.size() && match; ++i) {
        match = std::tolower(static_cast<unsigned char>(head[at + i])) == kLength[i];
      }
      if (!match) continue;
      std::size_t p = at + kLength.size();
      while (p < head.size() && head[p] == ' ') ++p;
      std::from_chars(head.data() + p, head.data() + head.size(), length);
    }
    if (c.in.size() < head_end + 4 + length) return false;
    const auto now = Clock::now();
    const bool ok = head.substr(0, 12) == "HTTP/1.1 200" &&
                    std::string_view(c.in).substr(head_end + 4, length).find("\"error\":false") !=
                        std::string_view::npos;
    if (c.started >= measure_from_ && now <= stop_sending_ + std::chrono::seconds(10)) {
      if (ok) {
        ++totals_.ok;
        if (!o_.trace.empty()) trace(c, head_end + 4, length, now);
        totals_.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(now - c.started).count());
        if (now <= stop_sending_) ++ok_in_window_;
      } else {
        ++totals_.errors;
        if (totals_.first_error.empty()) {
          totals_.first_error = c.in.substr(0, std::min<std::size_t>(head_end + 4 + length, 300));
        }
      }
    }
    c.in.erase(0, head_end + 4 + length);
    c.busy = false;
    --busy_;
    send_next(c);
    return c.fd >= 0 && !c.in.empty();
  }

  // Keeps the uid of a create's reply with its times: bench/run-kafka-bench joins them with the
  // times a consumer saw the room's record.
  void trace(const Connection& c, std::size_t body_at, std::size_t length, Clock::time_point now) {
    const std::string_view body = std::string_view(c.in).substr(body_at, length);
    constexpr std::string_view kUid = "\"uid\":\"";
    const auto at = body.find(kUid);
    if (at == std::string_view::npos) return;
    const auto end = body.find('"', at + kUid.size());
    if (end == std::string_view::npos) return;
    traced_.push_back(
        {std::string(body.substr(at + kUid.size(), end - at - kUid.size())), c.started, now});
  }

  void error(Connection& c, const char* what) {
    ++totals_.errors;
    if (totals_.first_error.empty()) totals_.first_error = what;
    close(c);
  }

  static double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
  }

  void report() {
    auto& l = totals_.latencies_ms;
    std::sort(l.begin(), l.end());
    const double rps = static_cast<double>(ok_in_window_) / o_.seconds;
    if (!totals_.first_error.empty()) {
      std::fprintf(stderr, "http_load: first error: %s\n", totals_.first_error.c_str());
    }
    std::printf(
        "connections=%d seconds=%.1f ok=%llu errors=%llu rps=%.0f p50_ms=%.3f p99_ms=%.3f "
        "max_ms=%.3f\n",
        o_.connections, o_.seconds, static_cast<unsigned long long>(totals_.ok),
        static_cast<unsigned long long>(totals_.errors), rps, percentile(l, 50), percentile(l, 99),
        l.empty() ? 0.0 : l.back());
  }

  Options o_;
  std::string body_;
  int epoll_ = -1;
  std::vector<Connection> connections_;
  int busy_ = 0;
  Clock::time_point measure_from_;
  Clock::time_point stop_sending_;
  Totals totals_;
  std::uint64_t ok_in_window_ = 0;
  Clock::duration interval_{};
  std::vector<Traced> traced_;
  long long sent_ = 0;
};

}  // namespace

int main(int argc, char** argv) { return Load(parse(argc, argv)).run(); }
