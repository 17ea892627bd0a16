// Sign-in, sign-out, the caller, password changes and (for admins) users.
#include <chrono>
#include <semaphore>
#include <thread>

#include "remotecode/portal/context.h"

namespace rc::portal {

using nlohmann::json;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json user_view(const Context& ctx, const std::string& username, Role role) {
  return {{"username", username},
          {"role", to_string(role)},
          {"namespace", ctx.users->namespace_of(username)}};
}

std::string string_field(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_string())
    throw bad_request(std::string(name) + ": required, a string");
  return body[name].get<std::string>();
}

bool secure_request(const http::Request& req) {
  return req.tls || req.header("X-Forwarded-Proto") == "https";
}

std::string session_cookie(const http::Request& req, const std::string& value, int64_t max_age) {
  return "rc_session=" + value +
         "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age) +
         (secure_request(req) ? "; Secure" : "");
}

// Issues a session for `user` and answers {user, csrfToken} with its cookie.
http::Response signed_in(const Context& ctx, const http::Request& req, const User& user,
                         int64_t epoch, int status) {
  int64_t ttl = ctx.options.session_ttl_seconds;
  std::string cookie = ctx.sessions->encode({user.username, unix_now() + ttl, epoch});
  auto r = json_response(status, {{"user", user_view(ctx, user.username, user.role)},
                                  {"csrfToken", ctx.sessions->csrf_token(cookie)}});
  r.set_header("Set-Cookie", session_cookie(req, cookie, ttl));
  return r;
}

HttpError rate_limited(int64_t seconds) {
  HttpError e(429, "rate_limited",
              "too many failed sign-ins; try again in " + std::to_string(seconds) + " s");
  e.headers.emplace_back("Retry-After", std::to_string(seconds));
  return e;
}

// scrypt holds 16 MiB for a fifth of a second: a burst of sign-ins must not run it without
// bound (memory), nor check many guesses for one user at the same moment (the failure limit
// is counted after each check). Waiting callers get a slot in turn, or 503 after a while.
class KdfSlot {
 public:
  KdfSlot() {
    if (!gate().try_acquire_for(std::chrono::seconds(10)))
      throw HttpError(503, "unavailable", "too many sign-ins at once; try again in a moment");
  }
  ~KdfSlot() { gate().release(); }
  KdfSlot(const KdfSlot&) = delete;
  KdfSlot& operator=(const KdfSlot&) = delete;

 private:
  static std::counting_semaphore<>& gate() {
    static std::counting_semaphore<> g(2);
    return g;
  }
};

// A hash to verify against when the user does not exist, so that a wrong name takes as long
// as a wrong password and names cannot be probed by timing.
const std::string& decoy_hash() {
  static const std::string h = hash_password("remote-code decoy password");
  return h;
}

}  // namespace

void add_account_routes(Router& router, Context& ctx) {
  router.add("POST", "/api/v1/login", Access::Public, [&ctx](Call& call) {
    json body = json_body(call.request);
    std::string username = string_field(body, "username");
    std::string password = string_field(body, "password");
    const std::string address = ctx.client_address(call.request);
    // A name that cannot exist is not a limiter key (it would let anyone fill memory with them);
    // its address still counts.
    const bool valid_name = username_problem(username).empty();
    const std::string limit_key = valid_name ? username : "";
    if (int64_t wait = ctx.limiter->address_retry_after(address); wait > 0)
      throw rate_limited(wait);
    // Someone may be guessing this user's password from elsewhere: answer later, not never.
    if (auto delay = ctx.limiter->user_delay(limit_key); delay.count() > 0)
      std::this_thread::sleep_for(delay);
    KdfSlot slot;
    auto user = valid_name ? ctx.users->find(username) : std::nullopt;
    bool ok = user && !user->password_hash.empty()
                  ? verify_password(password, user->password_hash)
                  : (verify_password(password, decoy_hash()), false);
    if (!ok) {
      ctx.limiter->record_failure(limit_key, address);
      throw HttpError(401, "unauthorized", "wrong username or password");
    }
    ctx.limiter->record_success(username);
    return signed_in(ctx, call.request, *user, user->session_epoch, 200);
  });
  router.exempt_from_csrf("POST", "/api/v1/login");

  router.add("POST", "/api/v1/logout", Access::SignedIn, [&ctx](Call& call) {
    ctx.users->bump_epoch(call.who().user);
    http::Response r;
    r.status = 204;
    r.set_header("Set-Cookie", session_cookie(call.request, "", 0));
    return r;
  });

  router.add("GET", "/api/v1/me", Access::SignedIn, [&ctx](Call& call) {
    const Principal& who = call.who();
    auto r = json_response(200, {{"user", user_view(ctx, who.user, who.role)},
                                 {"csrfToken", ctx.sessions->csrf_token(who.csrf_binding)}});
    if (who.from_header) {
      // Workspace forward-auth takes only the session cookie (never the header), so a user the
      // proxy names gets one here, on the first page load. Requests that carry the header go
      // on being the header's, with the CSRF token above.
      if (auto user = ctx.users->find(who.user)) {
        int64_t ttl = ctx.options.session_ttl_seconds;
        r.set_header("Set-Cookie",
                     session_cookie(call.request,
                                    ctx.sessions->encode(
                                        {user->username, unix_now() + ttl, user->session_epoch}),
                                    ttl));
      }
    }
    return r;
  });

  router.add("PUT", "/api/v1/me/password", Access::SignedIn, [&ctx](Call& call) {
    json body = json_body(call.request);
    std::string current = string_field(body, "currentPassword");
    std::string next = string_field(body, "newPassword");
    const Principal& who = call.who();
    auto user = ctx.users->find(who.user);
    if (!user || user->password_hash.empty())
      throw bad_request("this account signs in through the proxy and has no password");
    const std::string address = ctx.client_address(call.request);
    KdfSlot slot;
    if (int64_t wait = ctx.limiter->retry_after(who.user, address); wait > 0)
      throw rate_limited(wait);
    if (!verify_password(current, user->password_hash)) {
      ctx.limiter->record_failure(who.user, address);
      throw forbidden("currentPassword: wrong password");
    }
    int64_t epoch = ctx.users->set_password(who.user, next);
    return signed_in(ctx, call.request, *user, epoch, 200);
  });

  router.add("GET", "/api/v1/users", Access::Admin, [&ctx](Call&) {
    json items = json::array();
    for (const auto& u : ctx.users->list()) items.push_back(user_view(ctx, u.username, u.role));
    return json_response(200, {{"items", items}});
  });

  router.add("POST", "/api/v1/users", Access::Admin, [&ctx](Call& call) {
    json body = json_body(call.request);
    std::string role = body.value("role", "user");
    if (role != "user" && role != "admin") throw bad_request("role: must be user or admin");
    User u = ctx.users->create(string_field(body, "username"), string_field(body, "password"),
                               role == "admin" ? Role::Admin : Role::User);
    return json_response(201, user_view(ctx, u.username, u.role));
  });
}

}  // namespace rc::portal
