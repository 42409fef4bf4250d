// Stream (TCP) and datagram (UDP) sockets over IPv4 and IPv6, the plain C++
// layer under the Lua `tcp` and `udp` modules. Sockets are non-blocking;
// every wait is a poll() that honours a timeout and Ctrl-C.
//
// Errors: a network failure (refused, reset, timeout, out of scope, ...)
// throws NetError with a short message such as "connection refused:
// 127.0.0.1:9" or "timeout"; Ctrl-C throws Interrupted; misuse (a closed
// socket) throws std::logic_error.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "send.hpp"

namespace pkt {
class Scope;
}

namespace pkt::net {

struct NetError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family() const { return addr.ss_family; }
  std::string host() const;  // numeric; an IPv4-mapped IPv6 address shows as IPv4
  int port() const;
  std::string text() const;  // "127.0.0.1:80", "[::1]:80"
};

// Numeric addresses or names (getaddrinfo). Throws NetError "host not found: x".
std::vector<Endpoint> resolve(const std::string& host, int port, int socktype, bool passive = false);

class Socket {
 public:
  Socket() = default;
  Socket(int fd, int family, int type) : fd_(fd), family_(family), type_(type) {}
  ~Socket() { close(); }
  Socket(Socket&& o) noexcept { *this = std::move(o); }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  int family() const { return family_; }
  int type() const { return type_; }
  bool is_open() const { return fd_ >= 0; }
  void close();
  // A datagram socket neither bound nor used yet: it may still switch family
  // to reach its first destination.
  bool fresh = false;

 private:
  int fd_ = -1;
  int family_ = 0;
  int type_ = 0;
};

// Timeouts are in seconds; negative = wait without limit.

// TCP. `scope` may be null (unrestricted). Tries every address the host
// resolves to that is in scope, within one overall timeout.
Socket tcp_connect(const std::string& host, int port, double timeout, const Scope* scope);
Socket tcp_listen(const std::string& host, int port, int backlog);  // SO_REUSEADDR
Socket tcp_accept(const Socket& server, double timeout, Endpoint* peer);

// Sends what the socket takes at once (at least one byte, or throws).
std::size_t sock_send(const Socket& s, const char* data, std::size_t n, double timeout);
// Sends everything; `sent` counts the bytes that went, also when it throws.
void sock_send_all(const Socket& s, const char* data, std::size_t n, double timeout, std::size_t& sent);
// Up to n bytes (one datagram on UDP); "" at the end of a stream.
std::string sock_recv(const Socket& s, std::size_t n, double timeout);

// UDP.
Socket udp_open(int family);                            // unbound (fresh)
Socket udp_bind(const std::string& host, int port);     // family from host
std::size_t udp_sendto(Socket& s, const char* data, std::size_t n, const std::string& host, int port,
                       const Scope* scope);
std::string udp_recvfrom(const Socket& s, std::size_t n, double timeout, Endpoint* from);
void udp_connect(Socket& s, const std::string& host, int port, const Scope* scope);

Endpoint local_endpoint(const Socket& s);
Endpoint peer_endpoint(const Socket& s);  // len 0 when not connected

}  // namespace pkt::net
