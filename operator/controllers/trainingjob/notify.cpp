// Notifications when a training job ends: a webhook POST and an email over SMTP, through libcurl.
//
// Secrets stay out of logs and errors: URLs are shown as scheme://host[:port]/path (no userinfo,
// query or fragment) and the SMTP password is only handed to libcurl. Every header value that
// comes from a user (recipients) is validated; invalid recipients are skipped and reported, so no
// CR/LF can ever reach the SMTP envelope or the message headers.
#include "remotecode/controllers/notify.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <string_view>

namespace rc::controllers {
namespace {

using nlohmann::json;

constexpr long kTimeoutMs = 10000;

std::once_flag curl_init;
void init_curl() {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string job_url(const Notification& n, const std::string& portal_url) {
  if (portal_url.empty()) return "";
  return trim_slash(portal_url) + "/jobs/" + n.namespace_name + "/" + n.name;
}

// Printable ASCII only: for header values.
std::string header_safe(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
  return out;
}

// One line of body text: control characters become spaces (UTF-8 is kept).
std::string body_line(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  return out;
}

// A JSON-style quoted form for error texts: control characters escaped, invalid UTF-8 replaced.
std::string quote_text(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string pairs_text(const json& obj, const std::string& sep) {
  std::string out;
  if (!obj.is_object()) return out;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!out.empty()) out += sep;
    out += it.key() + "=" + scalar_text(it.value());
  }
  return out;
}

// "run 0: Succeeded (lr=0.1, batch=32) loss=0.12 step=100 - message"
std::string run_line(const json& run, size_t position) {
  if (!run.is_object()) return "run " + std::to_string(position) + ": " + scalar_text(run);
  std::string line = "run ";
  line += run.contains("index") ? scalar_text(run["index"]) : std::to_string(position);
  if (run.contains("phase")) line += ": " + scalar_text(run["phase"]);
  for (const char* key : {"parameters", "values", "params"}) {
    if (run.contains(key) && run[key].is_object() && !run[key].empty()) {
      line += " (" + pairs_text(run[key], ", ") + ")";
      break;
    }
  }
  if (run.contains("metrics") && run["metrics"].is_object() && !run["metrics"].empty())
    line += " " + pairs_text(run["metrics"], " ");
  if (run.contains("step")) line += " step=" + scalar_text(run["step"]);
  if (run.contains("message") && run["message"].is_string() &&
      !run["message"].get<std::string>().empty())
    line += " - " + run["message"].get<std::string>();
  return body_line(line);
}

// Splits a line longer than SMTP allows (998 octets) without cutting a UTF-8 sequence.
void append_wrapped(std::string& out, const std::string& line) {
  constexpr size_t kMax = 900;
  size_t pos = 0;
  while (line.size() - pos > kMax) {
    size_t cut = pos + kMax;
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    if (cut == pos) cut = pos + kMax;
    out += line.substr(pos, cut - pos) + "\r\n";
    pos = cut;
  }
  out += line.substr(pos) + "\r\n";
}

std::string rfc5322_date(std::chrono::system_clock::time_point now) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
                tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string domain_of(const std::string& address) {
  size_t at = address.find('@');
  return at == std::string::npos ? "remote-code.invalid" : address.substr(at + 1);
}

std::string new_message_id(const std::string& domain) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t r;
  {
    std::lock_guard lk(mu);
    r = rng();
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016llx.%lld", static_cast<unsigned long long>(r),
                static_cast<long long>(secs));
  return std::string("<") + buf + ".rc@" + domain + ">";
}

// The From header value for a valid setting.
std::string from_header(const std::string& from) {
  auto addr = sender_address(from);
  if (!addr) return "remote-code@remote-code.invalid";
  size_t lt = from.find('<');
  if (lt == std::string::npos) return *addr;
  std::string name = from.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(0, 1);
  if (name.empty()) return *addr;
  return "\"" + name + "\" <" + *addr + ">";
}

std::vector<std::string> valid_recipients(const Notification& n) {
  std::vector<std::string> out;
  for (const std::string& a : n.email_to)
    if (valid_email_address(a)) out.push_back(a);
  return out;
}

// Replaces each secret that appears in `text` (libcurl's error buffer) with "***".
std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    if (s.size() < 3) continue;
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 3))
      text.replace(at, s.size(), "***");
  }
  return text;
}

// Secret parts of a URL: the whole URL, its userinfo and its query.
std::vector<std::string> url_secrets(const std::string& url) {
  std::vector<std::string> out{url};
  CURLU* u = curl_url();
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY}) {
      char* v = nullptr;
      if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v) out.emplace_back(v);
      curl_free(v);
    }
  }
  curl_url_cleanup(u);
  return out;
}

std::string curl_error(CURLcode rc, const char* errbuf, const std::vector<std::string>& secrets) {
  std::string text = curl_easy_strerror(rc);
  if (errbuf && *errbuf) {
    std::string detail = errbuf;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    text += " (" + scrub(header_safe(detail), secrets) + ")";
  }
  return text;
}

size_t discard_body(char*, size_t size, size_t n, void*) {
  return size * n;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t read_upload(char* buf, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t len = std::min(size * n, up->data->size() - up->pos);
  std::memcpy(buf, up->data->data() + up->pos, len);
  up->pos += len;
  return len;
}

class CurlNotifier : public Notifier {
 public:
  explicit CurlNotifier(OperatorConfig config) : config_(std::move(config)) { init_curl(); }

  std::vector<std::string> send(const Notification& n) override {
    std::vector<std::string> errors;
    try {
      if (!config_.notify_webhook_url.empty())
        if (std::string e = send_webhook(n); !e.empty()) errors.push_back(std::move(e));
      if (!config_.smtp_url.empty() && !n.email_to.empty())
        if (std::string e = send_email(n); !e.empty()) errors.push_back(std::move(e));
    } catch (const std::exception& e) {
      errors.push_back(std::string("notification failed: ") + e.what());
    }
    return errors;
  }

 private:
  std::string send_webhook(const Notification& n) {
    const std::string& url = config_.notify_webhook_url;
    std::string shown = redact_url(url);
    std::string body =
        webhook_body(n, config_.portal_url).dump(-1, ' ', false, json::error_handler_t::replace);
    CURL* h = curl_easy_init();
    if (!h) return "webhook " + shown + ": cannot start libcurl";
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, kTimeoutMs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, kTimeoutMs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "remote-code");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    std::string error;
    if (rc != CURLE_OK)
      error = "webhook " + shown + ": " + curl_error(rc, errbuf, url_secrets(url));
    else if (status < 200 || status > 299)
      error = "webhook " + shown + ": answered HTTP " + std::to_string(status);
    if (error.empty())
      spdlog::info("notified webhook {} that TrainingJob {}/{} is {}", shown, n.namespace_name,
                   n.name, header_safe(n.phase));
    else
      spdlog::warn("TrainingJob {}/{}: {}", n.namespace_name, n.name, error);
    return error;
  }

  std::string send_email(const Notification& n) {
    const std::string& url = config_.smtp_url;
    std::string shown = redact_url(url);
    std::vector<std::string> invalid;
    for (const std::string& a : n.email_to)
      if (!valid_email_address(a)) invalid.push_back(quote_text(a));
    std::vector<std::string> to = valid_recipients(n);

    std::string problem;
    if (!invalid.empty()) {
      problem = "email: skipped invalid recipient address";
      problem += invalid.size() == 1 ? " " : "es ";
      for (size_t i = 0; i < invalid.size(); ++i) problem += (i ? ", " : "") + invalid[i];
    }
    auto finish = [&](const std::string& failure) {
      std::string error = problem;
      if (!failure.empty()) error += (error.empty() ? "email: " : "; ") + failure;
      if (error.empty())
        spdlog::info("emailed {} recipient(s) via {} that TrainingJob {}/{} is {}", to.size(),
                     shown, n.namespace_name, n.name, header_safe(n.phase));
      else
        spdlog::warn("TrainingJob {}/{}: {}", n.namespace_name, n.name, error);
      return error;
    };
    if (to.empty()) return finish(problem.empty() ? "no recipients" : "nobody left to send to");
    auto sender = sender_address(config_.smtp_from);
    if (!sender)
      return finish("not sent: the sender " + quote_text(config_.smtp_from) +
                    " is not a valid address (set --smtp-from)");

    std::string message = email_message(n, config_.smtp_from, config_.portal_url);
    CURL* h = curl_easy_init();
    if (!h) return finish("cannot start libcurl");
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string mail_from = "<" + *sender + ">";
    curl_slist* rcpt = nullptr;
    for (const std::string& a : to) rcpt = curl_slist_append(rcpt, ("<" + a + ">").c_str());
    Upload up{&message, 0};
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, kTimeoutMs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, kTimeoutMs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    // smtp:// upgrades with STARTTLS when the server offers it; smtps:// is TLS from the start.
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     url.rfind("smtps://", 0) == 0 ? static_cast<long>(CURLUSESSL_ALL)
                                                   : static_cast<long>(CURLUSESSL_TRY));
    if (!config_.smtp_user.empty())
      curl_easy_setopt(h, CURLOPT_USERNAME, config_.smtp_user.c_str());
    if (!config_.smtp_password.empty())
      curl_easy_setopt(h, CURLOPT_PASSWORD, config_.smtp_password.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    // One refused recipient does not stop the mail to the others.
#if LIBCURL_VERSION_NUM >= 0x080200
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
      std::vector<std::string> secrets = url_secrets(url);
      if (!config_.smtp_password.empty()) secrets.push_back(config_.smtp_password);
      return finish("sending via " + shown + " failed: " + curl_error(rc, errbuf, secrets));
    }
    if (!problem.empty()) problem += "; sent to the other " + std::to_string(to.size());
    return finish("");
  }

  OperatorConfig config_;
};

}  // namespace

bool valid_email_address(const std::string& address) {
  if (address.empty() || address.size() > 254) return false;
  size_t at = address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size() ||
      address.find('@', at + 1) != std::string::npos)
    return false;
  for (unsigned char c : address) {
    if (c <= 0x20 || c >= 0x7f) return false;  // controls (CR, LF), space, non-ASCII
    if (std::string_view("<>,;\"()[]\\:").find(static_cast<char>(c)) != std::string_view::npos)
      return false;
  }
  std::string_view domain(address.data() + at + 1, address.size() - at - 1);
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string::npos)
    return false;
  for (char c : domain)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  return true;
}

std::optional<std::string> sender_address(const std::string& from) {
  size_t lt = from.find('<');
  if (lt == std::string::npos) {
    if (valid_email_address(from)) return from;
    return std::nullopt;
  }
  if (from.empty() || from.back() != '>') return std::nullopt;
  std::string addr = from.substr(lt + 1, from.size() - lt - 2);
  if (!valid_email_address(addr)) return std::nullopt;
  for (size_t i = 0; i < lt; ++i) {
    unsigned char c = from[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>') return std::nullopt;
  }
  return addr;
}

std::string redact_url(const std::string& url) {
  std::string out = "<invalid URL>";
  CURLU* u = curl_url();
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    auto get = [&](CURLUPart part) {
      char* v = nullptr;
      std::string s;
      if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v) s = v;
      curl_free(v);
      return s;
    };
    out = get(CURLUPART_SCHEME) + "://" + get(CURLUPART_HOST);
    if (std::string port = get(CURLUPART_PORT); !port.empty()) out += ":" + port;
    std::string path = get(CURLUPART_PATH);
    if (path != "/") out += path;
  }
  curl_url_cleanup(u);
  return out;
}

json webhook_body(const Notification& n, const std::string& portal_url) {
  json body = {{"kind", "TrainingJobFinished"},
               {"namespace", n.namespace_name},
               {"name", n.name},
               {"phase", n.phase},
               {"message", n.message},
               {"runs", n.runs.is_array() ? n.runs : json::array()}};
  if (std::string url = job_url(n, portal_url); !url.empty()) body["url"] = url;
  return body;
}

std::string email_message(const Notification& n, const std::string& from,
                          const std::string& portal_url, std::chrono::system_clock::time_point now,
                          const std::string& message_id) {
  std::vector<std::string> to = valid_recipients(n);
  std::string job = header_safe(n.namespace_name + "/" + n.name);
  std::string phase = header_safe(n.phase);

  std::string m;
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "From: " + from_header(from) + "\r\n";
  if (to.empty()) {
    m += "To: undisclosed-recipients:;\r\n";
  } else {
    m += "To: ";
    for (size_t i = 0; i < to.size(); ++i) m += (i ? ",\r\n " : "") + to[i];
    m += "\r\n";
  }
  m += "Subject: TrainingJob " + job + " " + phase + "\r\n";
  m += "Message-ID: " + header_safe(message_id) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "\r\n";

  append_wrapped(m, "TrainingJob " + job + " ended: " + phase + ".");
  if (!n.message.empty()) append_wrapped(m, body_line(n.message));
  if (n.runs.is_array() && !n.runs.empty()) {
    m += "\r\nRuns:\r\n";
    size_t i = 0;
    for (const json& run : n.runs) append_wrapped(m, "  " + run_line(run, i++));
  }
  if (std::string url = job_url(n, portal_url); !url.empty())
    append_wrapped(m, "\r\nDetails: " + body_line(url));
  m += "\r\n-- \r\nSent by remote-code.\r\n";
  return m;
}

std::string email_message(const Notification& n, const std::string& from,
                          const std::string& portal_url) {
  auto sender = sender_address(from);
  return email_message(n, from, portal_url, std::chrono::system_clock::now(),
                       new_message_id(domain_of(sender ? *sender : "")));
}

std::shared_ptr<Notifier> make_notifier(const OperatorConfig& config) {
  return std::make_shared<CurlNotifier>(config);
}

}  // namespace rc::controllers
