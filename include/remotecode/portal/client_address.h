// Who is really on the other end: the peer address, or, when the peer is a trusted proxy
// (--trusted-proxies), the last address in X-Forwarded-For that is not itself a trusted proxy.
// Sign-in limits count per client address, and the trusted-header mode believes the header
// only from these proxies.
#pragma once
#include <string>
#include <vector>

#include "remotecode/http/server.h"

namespace rc::portal {

class TrustedProxies {
 public:
  // Comma-separated CIDRs ("10.0.0.0/8,fd00::/8") or single addresses; throws
  // std::invalid_argument naming a bad entry.
  explicit TrustedProxies(const std::string& cidrs = "");
  bool contains(const std::string& address) const;
  bool empty() const { return networks_.empty(); }
  std::string client_address(const http::Request& request) const;

 private:
  struct Network {
    std::vector<unsigned char> prefix;  // 4 or 16 bytes
    int bits = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace rc::portal
