// Stateless session cookies: the claims travel in the cookie, signed with HMAC-SHA256, so any
// replica holding the key can check them without a shared session store.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "remotecode/portal/auth.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {
namespace {

constexpr size_t kMinKeyBytes = 32;
// Browsers cap a cookie near 4 KiB; anything longer was not issued here.
constexpr size_t kMaxCookieBytes = 4096;

std::string hmac_sha256(const std::string& key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(mac), len);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 4648 section 5 without padding: safe in cookies and headers as is.
std::string base64url_encode(std::string_view data) {
  std::string s = util::base64_encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

// Only the canonical spelling is accepted, so a signed value cannot be re-spelled.
std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;
  std::string std64;
  std64.reserve(s.size() + 2);
  for (char c : s) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum)
      std64.push_back(c);
    else if (c == '-')
      std64.push_back('+');
    else if (c == '_')
      std64.push_back('/');
    else
      return std::nullopt;
  }
  while (std64.size() % 4 != 0) std64.push_back('=');
  std::string raw;
  try {
    raw = util::base64_decode(std64);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  if (base64url_encode(raw) != s) return std::nullopt;
  return raw;
}

std::optional<int64_t> get_int64(const nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    auto v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

}  // namespace

SessionCodec::SessionCodec(std::string key) : key_(std::move(key)) {
  if (key_.size() < kMinKeyBytes)
    throw std::invalid_argument("session key must be at least 32 bytes");
}

std::string SessionCodec::encode(const SessionClaims& claims) const {
  nlohmann::ordered_json payload = {{"u", claims.user}, {"x", claims.expires}, {"e", claims.epoch}};
  std::string body = base64url_encode(payload.dump());
  return body + "." + base64url_encode(hmac_sha256(key_, body));
}

std::optional<SessionClaims> SessionCodec::decode(const std::string& cookie, int64_t now) const {
  try {
    if (cookie.size() > kMaxCookieBytes) return std::nullopt;
    size_t dot = cookie.find('.');
    if (dot == std::string::npos || cookie.find('.', dot + 1) != std::string::npos)
      return std::nullopt;
    std::string_view body = std::string_view(cookie).substr(0, dot);
    auto mac = base64url_decode(std::string_view(cookie).substr(dot + 1));
    // The signature is checked before the payload is parsed: unsigned input never reaches the
    // JSON parser.
    if (!mac || !equal_constant_time(*mac, hmac_sha256(key_, body))) return std::nullopt;
    auto text = base64url_decode(body);
    if (!text) return std::nullopt;
    auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    auto u = j.find("u"), x = j.find("x"), e = j.find("e");
    if (u == j.end() || x == j.end() || e == j.end() || !u->is_string()) return std::nullopt;
    auto expires = get_int64(*x), epoch = get_int64(*e);
    if (!expires || !epoch) return std::nullopt;
    SessionClaims claims{u->get<std::string>(), *expires, *epoch};
    if (claims.user.empty() || now >= claims.expires) return std::nullopt;
    return claims;
  } catch (...) {
    return std::nullopt;  // a cookie the portal cannot read is simply no session
  }
}

std::string SessionCodec::csrf_token(const std::string& binding) const {
  // The "csrf\n" prefix keeps these MACs apart from session signatures under the same key.
  return base64url_encode(hmac_sha256(key_, "csrf\n" + binding));
}

bool SessionCodec::check_csrf(const std::string& binding, const std::string& token) const {
  if (binding.empty() || token.empty()) return false;
  return equal_constant_time(token, csrf_token(binding));
}

}  // namespace rc::portal
