// Telling people a training job ended: a webhook (POST of a JSON document) and/or an email over
// SMTP, both through libcurl and configured on the operator. A failure is reported to the
// caller (which records an Event); it never fails the job.
#pragma once
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "remotecode/controllers/config.h"

namespace rc::controllers {

struct Notification {
  std::string namespace_name;
  std::string name;                               // the TrainingJob
  std::string phase;                              // Succeeded, Failed, Stopped
  std::string message;                            // one line: what happened
  nlohmann::json runs = nlohmann::json::array();  // status.runs
  std::vector<std::string> email_to;              // spec.notify.email
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Sends to every configured channel. Returns one error text per channel that failed (empty
  // when all succeeded or none is configured). Never throws.
  virtual std::vector<std::string> send(const Notification& n) = 0;
};

// libcurl-based: webhook when config.notify_webhook_url is set, email when config.smtp_url is set
// and the notification has recipients. Timeouts of 10 seconds per channel.
std::shared_ptr<Notifier> make_notifier(const OperatorConfig& config);

// The webhook body and the email text, exposed for tests.
nlohmann::json webhook_body(const Notification& n, const std::string& portal_url);
std::string email_message(const Notification& n, const std::string& from,
                          const std::string& portal_url);

// --- added by the notify implementation (helpers, exposed for tests) ---

// The same message with a fixed Date and Message-ID ("<id@domain>"), for exact tests.
std::string email_message(const Notification& n, const std::string& from,
                          const std::string& portal_url, std::chrono::system_clock::time_point now,
                          const std::string& message_id);
// A bare address fit for an SMTP envelope and a header: printable ASCII without spaces or any of
// < > , ; : " ( ) [ ] \ (so no CR/LF can get through), at most 254 characters, exactly one '@'
// with something on both sides, a domain of letters, digits, '-' and '.' (no empty label).
bool valid_email_address(const std::string& address);
// The envelope address of a From setting: "rc@example.com" or "Remote Code <rc@example.com>";
// nullopt when it is not one of those with a valid address and a display name without
// control characters or '<', '>', '"'.
std::optional<std::string> sender_address(const std::string& from);
// The URL without userinfo, query or fragment (scheme://host[:port]/path), for logs and errors.
std::string redact_url(const std::string& url);

}  // namespace rc::controllers
