// Credentials and sessions for the portal: scrypt password hashes, signed session cookies, CSRF
// tokens bound to a session, and a limiter for failed sign-ins. Pure functions of their inputs
// (and OpenSSL); where they are stored is users.h's business.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rc::portal {

// "scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>" with OWASP's N=2^14, r=8, p=5 and a
// 16-byte random salt.
std::string hash_password(const std::string& password);
// Constant-time comparison; false for a malformed or unknown encoding, never throws.
bool verify_password(const std::string& password, const std::string& encoded);

// What a session cookie says. `epoch` is the user's session epoch when it was issued: signing
// out or changing the password raises the epoch in the user's Secret, which ends every older
// session without a server-side session table.
struct SessionClaims {
  std::string user;
  int64_t expires = 0;  // unix seconds
  int64_t epoch = 0;

  bool operator==(const SessionClaims&) const = default;
};

// Signs with HMAC-SHA256 under a key shared by every portal replica.
class SessionCodec {
 public:
  explicit SessionCodec(std::string key);  // at least 32 bytes; throws std::invalid_argument
  // "<base64url payload>.<base64url mac>", safe as a cookie value.
  std::string encode(const SessionClaims& claims) const;
  // nullopt when the value is malformed, the signature is wrong, or it expired at `now`.
  std::optional<SessionClaims> decode(const std::string& cookie, int64_t now) const;
  // A token bound to `binding` (the session cookie, or the user in trusted-header mode), that a
  // page must echo in X-CSRF-Token; check_csrf compares in constant time.
  std::string csrf_token(const std::string& binding) const;
  bool check_csrf(const std::string& binding, const std::string& token) const;

 private:
  std::string key_;
};

// Failed sign-ins per user and per address: after `max_failures` within `window`, that user
// (from anywhere) and that address (for any user) must wait until the oldest failure leaves
// the window. Thread-safe. One replica's view: replicas do not share counts.
class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LoginLimiter(int max_failures, std::chrono::seconds window);
  // Seconds until another attempt is allowed; 0 when it is allowed now.
  int64_t retry_after(const std::string& user, const std::string& address,
                      Clock::time_point now = Clock::now());
  // Sign-in: only the address is refused. A user's failures (from anywhere) slow each further
  // attempt down instead, doubling from 1 s to 16 s, so that strangers guessing a password
  // cannot lock its owner out: the right password still works, a little later.
  int64_t address_retry_after(const std::string& address, Clock::time_point now = Clock::now());
  Clock::duration user_delay(const std::string& user, Clock::time_point now = Clock::now());
  void record_failure(const std::string& user, const std::string& address,
                      Clock::time_point now = Clock::now());
  // A successful sign-in clears the user's failures (not the address's).
  void record_success(const std::string& user);

 private:
  // The failures of a key still in the window, or null; holds mu_.
  const std::vector<Clock::time_point>* recent(const std::string& key, Clock::time_point now);

  int max_failures_;
  std::chrono::seconds window_;
  std::mutex mu_;
  std::map<std::string, std::vector<Clock::time_point>> failures_;  // "u:<user>" / "a:<address>"
  Clock::time_point next_sweep_{};  // when to next drop keys whose failures all expired
};

}  // namespace rc::portal
