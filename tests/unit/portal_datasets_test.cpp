// The datasets store (a directory: uploads appear whole or not at all) and its API routes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "remotecode/portal/context.h"
#include "remotecode/portal/datasets.h"
#include "remotecode/portal/router.h"

namespace rc::portal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rc-datasets-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A body handed over in pieces of at most `piece` bytes, as a connection would.
BodyReader reader_of(std::string data, size_t piece = 1000) {
  return [data = std::move(data), piece, offset = size_t{0}](char* buf, size_t n) mutable {
    size_t take = std::min({n, piece, data.size() - offset});
    std::memcpy(buf, data.data() + offset, take);
    offset += take;
    return take;
  };
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every path under `dir` (relative), directories included.
std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string> kEmptyStore = {".locks", ".owners"};

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e.status;
  }
  return 0;
}

TEST(DatasetNames, FollowTheDocumentedRule) {
  EXPECT_EQ(dataset_name_problem("train-2024_v1.csv"), "");
  EXPECT_EQ(dataset_name_problem("a"), "");
  EXPECT_EQ(dataset_name_problem("a..b"), "");
  EXPECT_EQ(dataset_name_problem(std::string(200, 'x')), "");
  for (std::string bad : {"", ".hidden", "..", "../x", "a/b", "a b", "x\ny", "é", "a%2Fb"})
    EXPECT_NE(dataset_name_problem(bad), "") << bad;
  EXPECT_NE(dataset_name_problem(std::string(201, 'x')), "");
}

TEST(DatasetStore, UploadAppearsWithSizeOwnerAndTime) {
  TempDir dir;
  DatasetStore store(dir.path() + "/nested/datasets");  // created when missing
  std::string content(123456, 'q');
  content[5] = '\0';  // bytes, not text
  Dataset d = store.upload("train.bin", "alice", reader_of(content), 1 << 20);
  EXPECT_EQ(d.name, "train.bin");
  EXPECT_EQ(d.size, content.size());
  EXPECT_EQ(d.owner, "alice");
  EXPECT_TRUE(std::regex_match(d.modified, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << d.modified;
  EXPECT_EQ(read_file(store.directory() + "/train.bin"), content);

  auto listed = store.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "train.bin");
  EXPECT_EQ(listed[0].size, content.size());
  EXPECT_EQ(listed[0].owner, "alice");
  auto got = store.get("train.bin");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->owner, "alice");
  EXPECT_FALSE(store.get("other"));
  EXPECT_FALSE(store.get("../train.bin"));
  // No temporary file or lock stays behind.
  EXPECT_EQ(tree(store.directory()),
            (std::vector<std::string>{".locks", ".owners", ".owners/train.bin", "train.bin"}));
}

TEST(DatasetStore, EmptyUploadIsADataset) {
  TempDir dir;
  DatasetStore store(dir.path());
  EXPECT_EQ(store.upload("empty", "bob", reader_of(""), 10).size, 0u);
  EXPECT_TRUE(store.get("empty"));
}

TEST(DatasetStore, ExistingNameIsAConflictAndKeepsTheFirst) {
  TempDir dir;
  DatasetStore store(dir.path());
  store.upload("data", "alice", reader_of("first"), 100);
  EXPECT_EQ(status_of([&] { store.upload("data", "bob", reader_of("second"), 100); }), 409);
  EXPECT_EQ(read_file(dir.path() + "/data"), "first");
  EXPECT_EQ(store.get("data")->owner, "alice");
}

TEST(DatasetStore, NameBeingUploadedIsAConflict) {
  TempDir dir;
  DatasetStore store(dir.path());
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, release = false;
  BodyReader slow = [&, sent = false](char* buf, size_t) mutable -> size_t {
    std::unique_lock lk(mu);
    started = true;
    cv.notify_all();
    cv.wait(lk, [&] { return release; });
    if (sent) return 0;
    sent = true;
    buf[0] = 'x';
    return 1;
  };
  std::thread first([&] { store.upload("shared", "alice", slow, 100); });
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return started; });
  }
  // Not visible while incomplete; a second upload of the name is refused.
  EXPECT_TRUE(store.list().empty());
  EXPECT_FALSE(store.get("shared"));
  EXPECT_EQ(status_of([&] { store.upload("shared", "bob", reader_of("y"), 100); }), 409);
  // Another store on the same directory (another process sharing the volume) is refused too.
  DatasetStore other(dir.path());
  EXPECT_EQ(status_of([&] { other.upload("shared", "bob", reader_of("y"), 100); }), 409);
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  EXPECT_EQ(read_file(dir.path() + "/shared"), "x");
  EXPECT_EQ(store.get("shared")->owner, "alice");
}

TEST(DatasetStore, BadNamesAreRefusedAndWriteNothing) {
  TempDir dir;
  DatasetStore store(dir.path() + "/store");
  for (const std::string& bad :
       std::vector<std::string>{"../x", ".hidden", "a/b", "", "..", std::string(201, 'n')})
    EXPECT_EQ(status_of([&] { store.upload(bad, "alice", reader_of("data"), 100); }), 400) << bad;
  EXPECT_EQ(tree(dir.path()), (std::vector<std::string>{"store", "store/.locks", "store/.owners"}));
}

TEST(DatasetStore, TooLargeUploadLeavesNothing) {
  TempDir dir;
  DatasetStore store(dir.path());
  EXPECT_EQ(
      status_of([&] { store.upload("big", "alice", reader_of(std::string(1001, 'b')), 1000); }),
      413);
  EXPECT_FALSE(store.get("big"));
  EXPECT_EQ(tree(dir.path()), kEmptyStore);
  // Exactly the limit is allowed.
  EXPECT_EQ(store.upload("big", "alice", reader_of(std::string(1000, 'b')), 1000).size, 1000u);
}

TEST(DatasetStore, BrokenConnectionLeavesNothingAndFreesTheName) {
  TempDir dir;
  DatasetStore store(dir.path());
  BodyReader breaks = [calls = 0](char* buf, size_t n) mutable -> size_t {
    if (++calls > 3) throw std::runtime_error("connection reset");
    std::memset(buf, 'z', std::min<size_t>(n, 4096));
    return std::min<size_t>(n, 4096);
  };
  EXPECT_THROW(store.upload("partial", "alice", breaks, 1 << 20), std::runtime_error);
  EXPECT_FALSE(store.get("partial"));
  EXPECT_EQ(tree(dir.path()), kEmptyStore);
  EXPECT_EQ(store.upload("partial", "alice", reader_of("whole"), 100).size, 5u);
}

TEST(DatasetStore, RemoveDeletesFileAndOwner) {
  TempDir dir;
  DatasetStore store(dir.path());
  store.upload("gone", "alice", reader_of("abc"), 100);
  EXPECT_TRUE(store.remove("gone"));
  EXPECT_FALSE(store.remove("gone"));
  EXPECT_FALSE(store.remove("../etc"));
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(tree(dir.path()), kEmptyStore);
  // A new upload of the name does not inherit anything.
  EXPECT_EQ(store.upload("gone", "bob", reader_of("d"), 100).owner, "bob");
}

TEST(DatasetStore, ListShowsFilesPutThereByOtherMeansButNotHiddenOnes) {
  TempDir dir;
  DatasetStore store(dir.path());
  std::ofstream(dir.path() + "/copied.tar") << "by kubectl cp";
  std::ofstream(dir.path() + "/.hidden") << "no";
  std::ofstream(dir.path() + "/.uploading-abc") << "an upload of another process";
  fs::create_directory(dir.path() + "/a-directory");
  store.upload("b-uploaded", "alice", reader_of("x"), 100);
  auto listed = store.list();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "b-uploaded");
  EXPECT_EQ(listed[1].name, "copied.tar");
  EXPECT_EQ(listed[1].owner, "");
  EXPECT_EQ(listed[1].size, 13u);
}

// The routes, through a Router whose callers name themselves in test headers.
class DatasetRoutes : public ::testing::Test {
 protected:
  DatasetRoutes()
      : router_(
            [](const http::Request& r) -> std::optional<Principal> {
              if (r.header("X-User").empty()) return std::nullopt;
              Principal p;
              p.user = r.header("X-User");
              p.role = r.header("X-Admin") == "1" ? Role::Admin : Role::User;
              p.namespace_name = "rc-" + p.user;
              return p;
            },
            [](const std::string&, const std::string&) { return true; }) {
    ctx_.options.max_upload_bytes = 1000;
    add_dataset_routes(router_, ctx_);
  }

  http::Response call(const std::string& method, const std::string& path, const std::string& user,
                      const std::string& body = "", bool admin = false) {
    http::Request r;
    r.method = method;
    r.target = r.path = path;
    if (!user.empty()) r.headers["X-User"] = user;
    if (admin) r.headers["X-Admin"] = "1";
    r.headers["X-CSRF-Token"] = "t";
    r.headers["Content-Length"] = std::to_string(body.size());
    r.body = body;
    auto res = router_.dispatch(r);
    EXPECT_TRUE(res) << method << " " << path;
    return res ? *res : http::Response{};
  }

  TempDir dir_;
  Context ctx_;
  Router router_;
};

TEST_F(DatasetRoutes, AnswerUnavailableWithoutADirectory) {
  for (auto [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/api/v1/datasets"},
                                                        {"POST", "/api/v1/datasets/x"},
                                                        {"DELETE", "/api/v1/datasets/x"}}) {
    auto res = call(method, path, "alice", "abc");
    EXPECT_EQ(res.status, 503) << method;
    EXPECT_EQ(json::parse(res.body),
              (json{{"error", "unavailable"},
                    {"message", "datasets are not configured (--datasets-dir)"}}));
  }
}

TEST_F(DatasetRoutes, UploadListDelete) {
  ctx_.datasets = std::make_unique<DatasetStore>(dir_.path());
  EXPECT_EQ(call("GET", "/api/v1/datasets", "").status, 401);

  auto res = call("POST", "/api/v1/datasets/train.csv", "alice", "a,b\n1,2\n");
  EXPECT_EQ(res.status, 201);
  json created = json::parse(res.body);
  EXPECT_EQ(created["name"], "train.csv");
  EXPECT_EQ(created["size"], 8);
  EXPECT_EQ(created["owner"], "alice");
  EXPECT_TRUE(created["modified"].is_string());

  EXPECT_EQ(call("POST", "/api/v1/datasets/train.csv", "bob", "other").status, 409);
  EXPECT_EQ(call("POST", "/api/v1/datasets/.hidden", "bob", "x").status, 400);

  res = call("GET", "/api/v1/datasets", "bob");
  EXPECT_EQ(res.status, 200);
  json items = json::parse(res.body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], created);

  EXPECT_EQ(call("DELETE", "/api/v1/datasets/train.csv", "bob").status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/datasets/missing", "alice").status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/datasets/train.csv", "alice").status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/datasets/train.csv", "alice").status, 404);

  call("POST", "/api/v1/datasets/by-bob", "bob", "x");
  EXPECT_EQ(call("DELETE", "/api/v1/datasets/by-bob", "root", "", true).status, 204);
  EXPECT_EQ(json::parse(call("GET", "/api/v1/datasets", "bob").body)["items"], json::array());
}

TEST_F(DatasetRoutes, StreamedUploadReadsFromTheConnection) {
  ctx_.datasets = std::make_unique<DatasetStore>(dir_.path());
  http::Request r;
  r.method = "POST";
  r.target = r.path = "/api/v1/datasets/streamed";
  r.headers["X-User"] = "alice";
  r.headers["X-CSRF-Token"] = "t";
  r.read_body = reader_of(std::string(900, 's'), 64);
  auto res = router_.dispatch(r);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(read_file(dir_.path() + "/streamed"), std::string(900, 's'));

  // Declared too large: refused before a byte is read.
  bool read = false;
  r.target = r.path = "/api/v1/datasets/huge";
  r.headers["Content-Length"] = "1001";
  r.read_body = [&read](char*, size_t) -> size_t {
    read = true;
    return 0;
  };
  res = router_.dispatch(r);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(json::parse(res->body)["error"], "too_large");
  EXPECT_FALSE(read);

  // Undeclared (chunked) and too large: cut off at the limit, nothing kept.
  r.headers.erase("Content-Length");
  r.read_body = reader_of(std::string(5000, 'h'), 100);
  res = router_.dispatch(r);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_FALSE(ctx_.datasets->get("huge"));
  EXPECT_EQ(tree(dir_.path()),
            (std::vector<std::string>{".locks", ".owners", ".owners/streamed", "streamed"}));
}

}  // namespace
}  // namespace rc::portal
