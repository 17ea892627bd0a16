// scrypt password hashes in a self-describing string, so the cost can be raised later without
// invalidating stored hashes: verify reads the parameters back from the encoding.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "remotecode/portal/auth.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {
namespace {

constexpr uint64_t kN = uint64_t{1} << 14;
constexpr uint64_t kR = 8;
constexpr uint64_t kP = 5;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

// Bounds for what verify accepts. A stored hash is data, not code: a corrupted or hostile value
// must not make one sign-in allocate gigabytes or spin for minutes.
constexpr uint64_t kMaxN = uint64_t{1} << 20;
constexpr uint64_t kMaxR = 32;
constexpr uint64_t kMaxP = 16;
constexpr uint64_t kMaxMemory = uint64_t{64} << 20;  // scrypt needs about 128 * r * (N + p)
constexpr size_t kMinSaltBytes = 8, kMaxSaltBytes = 64;
constexpr size_t kMinHashBytes = 16, kMaxHashBytes = 64;

std::string derive(const std::string& password, const std::string& salt, uint64_t n, uint64_t r,
                   uint64_t p, size_t length) {
  std::string out(length, '\0');
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                     kMaxMemory + 128 * r * p, reinterpret_cast<unsigned char*>(out.data()),
                     out.size()) != 1)
    throw std::runtime_error("scrypt failed");
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Decimal digits only: no sign, no spaces, no leading zeros, at most `max`.
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 8 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// Only the canonical encoding, so one hash has exactly one spelling.
std::optional<std::string> decode_b64(std::string_view s, size_t min, size_t max) {
  if (s.empty() || s.size() > 4 * ((max + 2) / 3)) return std::nullopt;
  std::string raw;
  try {
    raw = util::base64_decode(s);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  if (raw.size() < min || raw.size() > max || util::base64_encode(raw) != s) return std::nullopt;
  return raw;
}

}  // namespace

std::string hash_password(const std::string& password) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  std::string hash = derive(password, salt, kN, kR, kP, kHashBytes);
  std::string out = "scrypt$" + std::to_string(kN) + "$" + std::to_string(kR) + "$" +
                    std::to_string(kP) + "$" + util::base64_encode(salt) + "$" +
                    util::base64_encode(hash);
  OPENSSL_cleanse(hash.data(), hash.size());
  return out;
}

bool verify_password(const std::string& password, const std::string& encoded) {
  try {
    if (encoded.size() > 512) return false;
    auto parts = split(encoded, '$');
    if (parts.size() != 6 || parts[0] != "scrypt") return false;
    auto n = parse_uint(parts[1], kMaxN);
    auto r = parse_uint(parts[2], kMaxR);
    auto p = parse_uint(parts[3], kMaxP);
    if (!n || !r || !p || *n < 2 || (*n & (*n - 1)) != 0 || *r == 0 || *p == 0) return false;
    if (128 * *r * *n > kMaxMemory) return false;
    auto salt = decode_b64(parts[4], kMinSaltBytes, kMaxSaltBytes);
    auto want = decode_b64(parts[5], kMinHashBytes, kMaxHashBytes);
    if (!salt || !want) return false;
    std::string got = derive(password, *salt, *n, *r, *p, want->size());
    bool ok = CRYPTO_memcmp(got.data(), want->data(), got.size()) == 0;
    OPENSSL_cleanse(got.data(), got.size());
    return ok;
  } catch (...) {
    return false;  // the caller treats any failure as a wrong password
  }
}

}  // namespace rc::portal
