// Portal credentials: scrypt password hashes, signed session cookies, CSRF tokens and the
// sign-in limiter, checked as a sign-in would use them and against hostile stored values.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "remotecode/portal/auth.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {
namespace {

using namespace std::chrono_literals;

const std::string kKey(32, 'k');

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t end; (end = s.find(sep, start)) != std::string::npos; start = end + 1)
    parts.push_back(s.substr(start, end - start));
  parts.push_back(s.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(1, sep) : "") + parts[i];
  return out;
}

std::string b64url(const std::string& raw) {
  std::string s = util::base64_encode(raw);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

std::string b64url_decode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  return util::base64_decode(s);
}

// What an attacker who knows the key could sign: lets tests reach the checks after the MAC.
std::string sign(const std::string& key, const std::string& payload_json) {
  std::string body = b64url(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return body + "." + b64url(std::string(reinterpret_cast<const char*>(mac), len));
}

// ---- passwords ----

TEST(Password, HashThenVerify) {
  std::string encoded = hash_password("correct horse battery staple");
  EXPECT_TRUE(verify_password("correct horse battery staple", encoded));
  EXPECT_FALSE(verify_password("correct horse battery stapl", encoded));
  EXPECT_FALSE(verify_password("Correct horse battery staple", encoded));
  EXPECT_FALSE(verify_password("", encoded));
}

TEST(Password, EncodingCarriesOwaspParametersSaltAndHash) {
  auto parts = split(hash_password("pw"), '$');
  ASSERT_EQ(parts.size(), 6u);
  EXPECT_EQ(parts[0], "scrypt");
  EXPECT_EQ(parts[1], "16384");
  EXPECT_EQ(parts[2], "8");
  EXPECT_EQ(parts[3], "5");
  EXPECT_EQ(util::base64_decode(parts[4]).size(), 16u);
  EXPECT_EQ(util::base64_decode(parts[5]).size(), 32u);
}

TEST(Password, SamePasswordHashesDifferently) {
  std::string a = hash_password("same"), b = hash_password("same");
  EXPECT_NE(a, b);
  EXPECT_NE(split(a, '$')[4], split(b, '$')[4]);  // the salt differs
  EXPECT_TRUE(verify_password("same", a));
  EXPECT_TRUE(verify_password("same", b));
}

TEST(Password, EmptyPasswordStillHashes) {
  std::string encoded = hash_password("");
  EXPECT_TRUE(verify_password("", encoded));
  EXPECT_FALSE(verify_password(" ", encoded));
}

// RFC 7914 section 12: a hash made elsewhere, with other parameters, verifies here.
TEST(Password, VerifiesRfc7914VectorWithItsOwnParameters) {
  const unsigned char dk[] = {0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06,
                              0xcd, 0x81, 0xfd, 0x38, 0xeb, 0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f,
                              0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2, 0xd5,
                              0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf, 0x62, 0xd4, 0x97, 0x05,
                              0x24, 0x2a, 0x9a, 0xf9, 0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e,
                              0x40, 0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58, 0x87};
  std::string encoded = "scrypt$16384$8$1$" + util::base64_encode("SodiumChloride") + "$" +
                        util::base64_encode(std::string(reinterpret_cast<const char*>(dk), 64));
  EXPECT_TRUE(verify_password("pleaseletmein", encoded));
  EXPECT_FALSE(verify_password("pleaseletmeout", encoded));
}

TEST(Password, MalformedEncodingsAreFalseNotErrors) {
  std::string good = hash_password("pw");
  ASSERT_TRUE(verify_password("pw", good));
  auto with = [&](size_t index, const std::string& value) {
    auto parts = split(good, '$');
    parts[index] = value;
    return join(parts, '$');
  };
  std::vector<std::string> bad = {
      "",
      "pw",
      "scrypt",
      "$$$$$",
      with(0, "bcrypt"),
      with(0, "SCRYPT"),
      with(1, "2097152"),               // N = 2^21: over the cap
      with(1, "1073741824"),            // N = 2^30: a gigabyte-scale allocation
      with(1, "99999999999999999999"),  // overflows
      with(1, "16383"),                 // not a power of two
      with(1, "1"),
      with(1, "0"),
      with(1, "-16384"),
      with(1, "+16384"),
      with(1, "016384"),
      with(1, ""),
      with(2, "0"),
      with(2, "1000"),
      with(3, "0"),
      with(3, "1000000"),
      with(4, "!!!not base64!!!"),
      with(4, ""),
      with(4, util::base64_encode("short")),  // a 5-byte salt
      with(5, "@@@@"),
      with(5, ""),
      with(5, split(good, '$')[5].substr(4)),  // a truncated hash
      good + "$extra",
      good.substr(0, good.size() - 1),
      good + "\n",
      " " + good,
  };
  for (const std::string& encoded : bad) {
    EXPECT_NO_THROW(EXPECT_FALSE(verify_password("pw", encoded)) << encoded);
  }
}

TEST(Password, HostileMemoryCostIsRejectedWithinTheCaps) {
  // Each parameter alone is within its own cap, together they ask for 1 GiB.
  std::string encoded = "scrypt$1048576$8$1$" + util::base64_encode(std::string(16, 's')) + "$" +
                        util::base64_encode(std::string(32, 'h'));
  EXPECT_FALSE(verify_password("pw", encoded));
}

// ---- sessions ----

TEST(Session, EncodeThenDecode) {
  SessionCodec codec(kKey);
  SessionClaims claims{"alice", 2000, 3};
  auto got = codec.decode(codec.encode(claims), 1000);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, claims);
}

TEST(Session, CookieIsCompactJsonAndSafeAsACookieValue) {
  std::string cookie = SessionCodec(kKey).encode({"alice", 2000, 3});
  auto parts = split(cookie, '.');
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(b64url_decode(parts[0]), R"({"u":"alice","x":2000,"e":3})");
  EXPECT_EQ(b64url_decode(parts[1]).size(), 32u);  // HMAC-SHA256
  for (char c : cookie) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    EXPECT_TRUE(ok) << "character '" << c << "' in " << cookie;
  }
}

TEST(Session, TamperedPayloadIsRejected) {
  SessionCodec codec(kKey);
  auto parts = split(codec.encode({"alice", 2000, 3}), '.');
  for (const char* payload :
       {R"({"u":"admin","x":2000,"e":3})", R"({"u":"alice","x":9999999999,"e":3})",
        R"({"u":"alice","x":2000,"e":2})"}) {
    EXPECT_FALSE(codec.decode(b64url(payload) + "." + parts[1], 1000).has_value()) << payload;
  }
}

TEST(Session, TamperedMacIsRejected) {
  SessionCodec codec(kKey);
  std::string cookie = codec.encode({"alice", 2000, 3});
  auto parts = split(cookie, '.');
  std::string mac = b64url_decode(parts[1]);
  mac[0] = static_cast<char>(mac[0] ^ 1);
  EXPECT_FALSE(codec.decode(parts[0] + "." + b64url(mac), 1000).has_value());
  EXPECT_FALSE(codec.decode(parts[0] + "." + b64url(mac.substr(0, 31)), 1000).has_value());
  EXPECT_FALSE(codec.decode(parts[0] + ".", 1000).has_value());
  EXPECT_FALSE(codec.decode(parts[0], 1000).has_value());
  // The same MAC spelled with base64 padding or the standard alphabet is not the issued cookie.
  EXPECT_FALSE(codec.decode(cookie + "=", 1000).has_value());
  EXPECT_FALSE(codec.decode(parts[0] + "." + util::base64_encode(b64url_decode(parts[1])), 1000)
                   .has_value());
}

TEST(Session, ExpiresAtItsDeadline) {
  SessionCodec codec(kKey);
  std::string cookie = codec.encode({"alice", 2000, 3});
  EXPECT_TRUE(codec.decode(cookie, 1999).has_value());
  EXPECT_FALSE(codec.decode(cookie, 2000).has_value());
  EXPECT_FALSE(codec.decode(cookie, 5000).has_value());
}

TEST(Session, AnotherKeyRejects) {
  std::string cookie = SessionCodec(kKey).encode({"alice", 2000, 3});
  EXPECT_FALSE(SessionCodec(std::string(32, 'j')).decode(cookie, 1000).has_value());
  EXPECT_FALSE(SessionCodec(kKey + "x").decode(cookie, 1000).has_value());
}

TEST(Session, ShortKeyThrows) {
  EXPECT_THROW(SessionCodec(""), std::invalid_argument);
  EXPECT_THROW(SessionCodec(std::string(31, 'k')), std::invalid_argument);
  EXPECT_NO_THROW(SessionCodec(std::string(32, 'k')));
}

TEST(Session, MalformedCookiesAreNoSession) {
  SessionCodec codec(kKey);
  std::string good = codec.encode({"alice", 2000, 3});
  for (const std::string& cookie :
       {std::string(), std::string("."), std::string(".."), std::string("abc"),
        good + "." + split(good, '.')[1], "!!!." + split(good, '.')[1],
        split(good, '.')[0] + ".!!!", std::string(10000, 'a') + "." + split(good, '.')[1],
        " " + good, good + " "}) {
    EXPECT_NO_THROW(EXPECT_FALSE(codec.decode(cookie, 1000).has_value()) << cookie);
  }
}

// Correctly signed but unusable payloads: the key holder's own mistakes must not crash a request.
TEST(Session, SignedButMalformedPayloadsAreRejected) {
  SessionCodec codec(kKey);
  ASSERT_TRUE(codec.decode(sign(kKey, R"({"u":"alice","x":2000,"e":3})"), 1000).has_value());
  for (const std::string& payload : {
           std::string("not json"),
           std::string(""),
           std::string("[]"),
           std::string("null"),
           std::string(R"({"u":"alice","x":2000})"),
           std::string(R"({"x":2000,"e":3})"),
           std::string(R"({"u":"","x":2000,"e":3})"),
           std::string(R"({"u":7,"x":2000,"e":3})"),
           std::string(R"({"u":"alice","x":"2000","e":3})"),
           std::string(R"({"u":"alice","x":2000.5,"e":3})"),
           std::string(R"({"u":"alice","x":2000,"e":null})"),
           std::string(R"({"u":"alice","x":18446744073709551615,"e":3})"),
       }) {
    EXPECT_NO_THROW(EXPECT_FALSE(codec.decode(sign(kKey, payload), 1000).has_value()) << payload);
  }
}

TEST(Csrf, TokenIsBoundToItsBinding) {
  SessionCodec codec(kKey);
  std::string token = codec.csrf_token("cookie-a");
  EXPECT_EQ(token, codec.csrf_token("cookie-a"));  // stable for the life of the session
  EXPECT_TRUE(codec.check_csrf("cookie-a", token));
  EXPECT_FALSE(codec.check_csrf("cookie-b", token));
  EXPECT_FALSE(codec.check_csrf("cookie-a", codec.csrf_token("cookie-b")));
  EXPECT_FALSE(codec.check_csrf("cookie-a", ""));
  EXPECT_FALSE(codec.check_csrf("cookie-a", token.substr(1)));
  EXPECT_FALSE(codec.check_csrf("cookie-a", token + "A"));
  EXPECT_FALSE(SessionCodec(std::string(32, 'j')).check_csrf("cookie-a", token));
}

TEST(Csrf, TokenIsNotTheSessionSignature) {
  SessionCodec codec(kKey);
  std::string cookie = codec.encode({"alice", 2000, 3});
  auto parts = split(cookie, '.');
  EXPECT_NE(codec.csrf_token(parts[0]), parts[1]);
  EXPECT_EQ(codec.csrf_token("x").find_first_of("+/="), std::string::npos);
}

// ---- sign-in limiter ----

using Clock = LoginLimiter::Clock;
const Clock::time_point t0 = Clock::time_point{} + 1000h;

TEST(LoginLimiter, BlocksAUserFromAnywhereAfterMaxFailures) {
  LoginLimiter limiter(3, 60s);
  limiter.record_failure("alice", "10.0.0.1", t0);
  limiter.record_failure("alice", "10.0.0.2", t0);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.9", t0), 0);
  limiter.record_failure("alice", "10.0.0.3", t0);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.9", t0), 60);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.9", t0 + 20s), 40);
  EXPECT_EQ(limiter.retry_after("bob", "10.0.0.9", t0), 0);  // other users are unaffected
}

// Sign-in: strangers failing for a user from many addresses slow that user's attempts down,
// never refuse them, so the owner still signs in with the right password.
TEST(LoginLimiter, AUsersFailuresDelayButNeverRefuseSignIn) {
  LoginLimiter limiter(3, 60s);
  for (int i = 0; i < 2; ++i) limiter.record_failure("admin", "10.0.1." + std::to_string(i), t0);
  EXPECT_EQ(limiter.user_delay("admin", t0), Clock::duration::zero());
  limiter.record_failure("admin", "10.0.1.2", t0);
  EXPECT_EQ(limiter.address_retry_after("10.0.0.9", t0), 0) << "the owner's address is not refused";
  EXPECT_EQ(limiter.user_delay("admin", t0), 1s);
  limiter.record_failure("admin", "10.0.1.3", t0 + 1s);
  EXPECT_EQ(limiter.user_delay("admin", t0 + 1s), 2s);
  for (int i = 4; i < 40; ++i)
    limiter.record_failure("admin", "10.0.1." + std::to_string(i), t0 + 2s);
  EXPECT_EQ(limiter.user_delay("admin", t0 + 2s), 16s) << "the delay is capped";
  EXPECT_EQ(limiter.user_delay("admin", t0 + 70s), Clock::duration::zero())
      << "failures leave the window";
  EXPECT_EQ(limiter.user_delay("bob", t0), Clock::duration::zero());
}

TEST(LoginLimiter, AnAddressIsStillRefusedAfterMaxFailures) {
  LoginLimiter limiter(3, 60s);
  for (int i = 0; i < 3; ++i) limiter.record_failure("u" + std::to_string(i), "10.0.0.1", t0);
  EXPECT_EQ(limiter.address_retry_after("10.0.0.1", t0), 60);
  EXPECT_EQ(limiter.address_retry_after("10.0.0.2", t0), 0);
}

TEST(LoginLimiter, BlocksAnAddressForEveryUserAfterMaxFailures) {
  LoginLimiter limiter(3, 60s);
  limiter.record_failure("u1", "10.0.0.1", t0);
  limiter.record_failure("u2", "10.0.0.1", t0);
  limiter.record_failure("u3", "10.0.0.1", t0);
  EXPECT_EQ(limiter.retry_after("u4", "10.0.0.1", t0 + 1s), 59);
  EXPECT_EQ(limiter.retry_after("u1", "10.0.0.2", t0 + 1s), 0);
}

TEST(LoginLimiter, UnblocksWhenTheOldestFailureLeavesTheWindow) {
  LoginLimiter limiter(3, 60s);
  limiter.record_failure("alice", "10.0.0.1", t0);
  limiter.record_failure("alice", "10.0.0.1", t0 + 10s);
  limiter.record_failure("alice", "10.0.0.1", t0 + 20s);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0 + 30s), 30);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0 + 59s + 500ms), 1);  // rounds up
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0 + 60s), 0);
  // Two failures remain in the window, so one more blocks again, until t0 + 70s.
  limiter.record_failure("alice", "10.0.0.1", t0 + 61s);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0 + 61s), 9);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0 + 200s), 0);
}

TEST(LoginLimiter, FailuresWhileBlockedExtendTheWait) {
  LoginLimiter limiter(2, 60s);
  limiter.record_failure("alice", "10.0.0.1", t0);
  limiter.record_failure("alice", "10.0.0.1", t0 + 10s);
  limiter.record_failure("alice", "10.0.0.1", t0 + 30s);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0 + 30s), 40);  // until t0+10s leaves
}

TEST(LoginLimiter, SuccessClearsTheUserButNotTheAddress) {
  LoginLimiter limiter(3, 60s);
  for (int i = 0; i < 3; ++i) limiter.record_failure("alice", "10.0.0.1", t0);
  limiter.record_success("alice");
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.2", t0), 0);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.1", t0), 60);
  // The user's count starts over: two more failures elsewhere do not block.
  limiter.record_failure("alice", "10.0.0.2", t0);
  limiter.record_failure("alice", "10.0.0.3", t0);
  EXPECT_EQ(limiter.retry_after("alice", "10.0.0.4", t0), 0);
}

TEST(LoginLimiter, ManyDistinctUsersStillCountPerAddress) {
  LoginLimiter limiter(5, 60s);
  for (int i = 0; i < 20000; ++i)
    limiter.record_failure("user" + std::to_string(i), "10.0.0." + std::to_string(i % 250),
                           t0 + std::chrono::milliseconds(i));
  EXPECT_GT(limiter.retry_after("someone", "10.0.0.7", t0 + 30s), 0);
  EXPECT_EQ(limiter.retry_after("user7", "10.0.1.1", t0 + 30s), 0);
  EXPECT_EQ(limiter.retry_after("someone", "10.0.0.7", t0 + 200s), 0);
}

}  // namespace
}  // namespace rc::portal
