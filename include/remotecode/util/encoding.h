// Small encoding helpers shared by every module: base64, hex, random tokens and names.
// OpenSSL does the work; these wrappers only fix the shapes the rest of the code wants.
#pragma once
#include <string>
#include <string_view>

namespace rc::util {

std::string base64_encode(std::string_view data);
// Throws std::invalid_argument when the input is not valid base64.
std::string base64_decode(std::string_view data);

// `bytes` random bytes from OpenSSL's CSPRNG, hex-encoded (2 * bytes characters).
std::string random_hex(size_t bytes);
// `n` random characters from [bcdfghjklmnpqrstvwxz2456789], the alphabet Kubernetes uses for
// generateName suffixes (no vowels, so no words).
std::string random_name_suffix(size_t n);
std::string sha256_hex(std::string_view data);
// Percent-encodes everything but RFC 3986 unreserved characters (for query values and names).
std::string url_escape(std::string_view s);

}  // namespace rc::util
