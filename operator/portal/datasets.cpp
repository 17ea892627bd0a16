// The datasets directory. Hidden entries belong to the store: ".uploading-*" (uploads in
// progress), ".owners/<name>" (who uploaded a dataset) and ".locks/<name>" (held, with flock,
// while <name> is uploaded, so two uploads of one name cannot both win, even from two
// processes sharing the volume).
#include "remotecode/portal/datasets.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "remotecode/portal/router.h"
#include "remotecode/util/clock.h"
#include "remotecode/util/encoding.h"

namespace rc::portal {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxNameLength = 200;
constexpr size_t kWriteBuffer = 256 * 1024;

HttpError storage_error(const std::string& what) {
  std::string message = what + ": " + std::strerror(errno);
  spdlog::error("datasets: {}", message);
  return HttpError(500, "internal", message);
}

std::string read_owner(const std::string& path) {
  std::ifstream in(path);
  std::string owner;
  std::getline(in, owner);
  return owner;
}

std::optional<Dataset> describe(const std::string& directory, const std::string& name) {
  struct stat st {};
  if (::stat((directory + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return std::nullopt;
  Dataset d;
  d.name = name;
  d.size = static_cast<uint64_t>(st.st_size);
  d.modified = util::rfc3339(std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec));
  d.owner = read_owner(directory + "/.owners/" + name);
  return d;
}

void write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw storage_error("cannot write the dataset");
    data += w;
    n -= static_cast<size_t>(w);
  }
}

void sync_directory(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Exclusive right to upload one name while it lives: a set of the names this process uploads
// (flock alone does not exclude threads on NFS, where it becomes a per-process POSIX lock) and
// a flock on a lock file for other processes. The lock file is removed on release; the inode
// check on acquiring guards against taking a lock on a file just removed by its holder.
class NameLock {
 public:
  explicit NameLock(std::string path) : path_(std::move(path)) {
    {
      std::lock_guard lk(mu());
      if (!held().insert(path_).second) throw conflict("a dataset of this name is being uploaded");
    }
    try {
      lock_file();
    } catch (...) {
      std::lock_guard lk(mu());
      held().erase(path_);
      throw;
    }
  }
  ~NameLock() {
    ::unlink(path_.c_str());
    ::close(fd_);
    std::lock_guard lk(mu());
    held().erase(path_);
  }
  NameLock(const NameLock&) = delete;
  NameLock& operator=(const NameLock&) = delete;

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& held() {
    static std::set<std::string> names;
    return names;
  }

  void lock_file() {
    for (;;) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd_ < 0) throw storage_error("cannot create the upload lock");
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw conflict("a dataset of this name is being uploaded");
      }
      struct stat held {
      }, current{};
      if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &current) == 0 &&
          held.st_ino == current.st_ino && held.st_dev == current.st_dev)
        return;
      ::close(fd_);
    }
  }

  std::string path_;
  int fd_ = -1;
};

// Removes the temporary file of an upload unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw storage_error("cannot create a file in the datasets directory");
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void sync_and_close() {
    if (::fsync(fd_) != 0) throw storage_error("cannot write the dataset");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw storage_error("cannot write the dataset");
  }
  void keep() { kept_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

void write_owner(const std::string& directory, const std::string& name, const std::string& owner) {
  std::string tmp = directory + "/.owners/.tmp-" + util::random_hex(8);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << owner << "\n";
    out.close();
    if (!out) {
      ::unlink(tmp.c_str());
      throw storage_error("cannot record the dataset's owner");
    }
  }
  if (::rename(tmp.c_str(), (directory + "/.owners/" + name).c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw storage_error("cannot record the dataset's owner");
  }
}

// Moves `from` to `to` unless `to` exists (then false). Falls back to link(2), then to a plain
// rename, on filesystems without RENAME_NOREPLACE (the name lock still excludes other uploads).
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    throw storage_error("cannot move the upload into place");
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return true;
  }
  if (errno == EEXIST) return false;
  if (::access(to.c_str(), F_OK) == 0) return false;
  if (::rename(from.c_str(), to.c_str()) != 0)
    throw storage_error("cannot move the upload into place");
  return true;
}

}  // namespace

std::string dataset_name_problem(const std::string& name) {
  if (name.empty()) return "a dataset name must not be empty";
  if (name.size() > kMaxNameLength)
    return "a dataset name must be at most " + std::to_string(kMaxNameLength) + " characters";
  if (name.front() == '.') return "a dataset name must not start with a dot";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "a dataset name may only contain letters, digits, '.', '_' and '-'";
  }
  return "";
}

DatasetStore::DatasetStore(std::string directory) : directory_(std::move(directory)) {
  while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
  fs::create_directories(directory_);
  fs::create_directories(directory_ + "/.owners");
  fs::create_directories(directory_ + "/.locks");
  remove_abandoned_uploads();
}

void DatasetStore::remove_abandoned_uploads() {
  // An upload cut off by a crash leaves its temporary file. A live upload writes to its file
  // all the time (another replica may be receiving one), so only files untouched for an hour
  // are taken for abandoned.
  std::error_code ec;
  auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto& entry : fs::directory_iterator(directory_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(".uploading-", 0) != 0) continue;
    std::error_code tec;
    auto written = fs::last_write_time(entry.path(), tec);
    if (tec || written > cutoff) continue;
    if (fs::remove(entry.path(), tec))
      spdlog::info("datasets: removed the abandoned upload {}", entry.path().string());
  }
}

std::vector<Dataset> DatasetStore::list() const {
  std::vector<Dataset> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory_, ec)) {
    std::string name = entry.path().filename().string();
    if (!dataset_name_problem(name).empty()) continue;  // hidden, or not a name we could serve
    if (auto d = describe(directory_, name)) out.push_back(std::move(*d));
  }
  if (ec) spdlog::warn("datasets: cannot list {}: {}", directory_, ec.message());
  std::sort(out.begin(), out.end(),
            [](const Dataset& a, const Dataset& b) { return a.name < b.name; });
  return out;
}

std::optional<Dataset> DatasetStore::get(const std::string& name) const {
  if (!dataset_name_problem(name).empty()) return std::nullopt;
  return describe(directory_, name);
}

Dataset DatasetStore::upload(const std::string& name, const std::string& owner,
                             const BodyReader& body, uint64_t max_bytes) {
  if (auto problem = dataset_name_problem(name); !problem.empty()) throw bad_request(problem);
  std::string final_path = directory_ + "/" + name;
  NameLock lock(directory_ + "/.locks/" + name);
  if (::access(final_path.c_str(), F_OK) == 0)
    throw conflict("a dataset named '" + name + "' exists");

  TempFile tmp(directory_ + "/.uploading-" + util::random_hex(12));
  std::vector<char> buf(kWriteBuffer);
  uint64_t total = 0;
  for (;;) {
    size_t n = body(buf.data(), buf.size());
    if (n == 0) break;
    total += n;
    if (total > max_bytes)
      throw HttpError(
          413, "too_large",
          "the upload is larger than the limit of " + std::to_string(max_bytes) + " bytes");
    write_all(tmp.fd(), buf.data(), n);
  }
  tmp.sync_and_close();

  // The owner is recorded first, so a dataset is never visible without it.
  std::string owner_path = directory_ + "/.owners/" + name;
  write_owner(directory_, name, owner);
  bool placed = false;
  try {
    placed = rename_no_replace(tmp.path(), final_path);
  } catch (...) {
    ::unlink(owner_path.c_str());
    throw;
  }
  if (!placed) {
    ::unlink(owner_path.c_str());
    throw conflict("a dataset named '" + name + "' exists");
  }
  tmp.keep();
  sync_directory(directory_);
  spdlog::info("datasets: {} uploaded {} ({} bytes)", owner, name, total);
  auto d = describe(directory_, name);
  if (!d) throw storage_error("the uploaded dataset disappeared");
  return *d;
}

bool DatasetStore::remove(const std::string& name) {
  if (!dataset_name_problem(name).empty()) return false;
  std::string path = directory_ + "/" + name;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return false;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    throw storage_error("cannot remove the dataset");
  }
  ::unlink((directory_ + "/.owners/" + name).c_str());
  spdlog::info("datasets: removed {}", name);
  return true;
}

}  // namespace rc::portal
