#include "remotecode/portal/client_address.h"

#include <arpa/inet.h>

#include <sstream>
#include <stdexcept>

namespace rc::portal {

namespace {

// The address as 4 or 16 bytes; an IPv4-mapped IPv6 address counts as IPv4. Empty when not an
// address.
std::vector<unsigned char> address_bytes(std::string text) {
  while (!text.empty() && text.front() == ' ') text.erase(text.begin());
  while (!text.empty() && text.back() == ' ') text.pop_back();
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return {buf, buf + 4};
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped, mapped + 12, buf)) return {buf + 12, buf + 16};
    return {buf, buf + 16};
  }
  return {};
}

}  // namespace

TrustedProxies::TrustedProxies(const std::string& cidrs) {
  std::stringstream ss(cidrs);
  for (std::string entry; std::getline(ss, entry, ',');) {
    if (entry.find_first_not_of(' ') == std::string::npos) continue;
    auto slash = entry.find('/');
    Network n;
    n.prefix = address_bytes(entry.substr(0, slash));
    if (n.prefix.empty())
      throw std::invalid_argument("--trusted-proxies: '" + entry + "' is not an address or CIDR");
    int max_bits = static_cast<int>(n.prefix.size()) * 8;
    n.bits = max_bits;
    if (slash != std::string::npos) {
      try {
        size_t used = 0;
        n.bits = std::stoi(entry.substr(slash + 1), &used);
        if (used != entry.size() - slash - 1) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        n.bits = -1;
      }
      if (n.bits < 0 || n.bits > max_bits)
        throw std::invalid_argument("--trusted-proxies: '" + entry + "' has a bad prefix length");
    }
    networks_.push_back(std::move(n));
  }
}

bool TrustedProxies::contains(const std::string& address) const {
  auto bytes = address_bytes(address);
  if (bytes.empty()) return false;
  for (const auto& n : networks_) {
    if (n.prefix.size() != bytes.size()) continue;
    int full = n.bits / 8, rest = n.bits % 8;
    if (!std::equal(n.prefix.begin(), n.prefix.begin() + full, bytes.begin())) continue;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    if ((n.prefix[full] & mask) == (bytes[full] & mask)) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(const http::Request& request) const {
  std::string client = request.remote_address;
  if (!contains(client)) return client;
  // Right to left: each trusted hop names the one before it; the first untrusted one is the
  // client. Anything further left could have been written by the client itself.
  std::vector<std::string> hops;
  std::stringstream ss(request.header("X-Forwarded-For"));
  for (std::string hop; std::getline(ss, hop, ',');) hops.push_back(hop);
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (address_bytes(*it).empty()) break;  // garbage: stop at the last proxy we trust
    std::string hop = *it;
    hop.erase(0, hop.find_first_not_of(' '));
    hop.erase(hop.find_last_not_of(' ') + 1);
    client = hop;
    if (!contains(hop)) break;
  }
  return client;
}

}  // namespace rc::portal
