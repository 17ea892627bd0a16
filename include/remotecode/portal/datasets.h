// The datasets volume as the portal sees it: a directory of files (the same volume workspaces
// and jobs mount read-only at /data). Uploads stream into a hidden temporary file and are
// renamed into place only when complete, so a dropped upload never leaves a partial dataset.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rc::portal {

struct Dataset {
  std::string name;
  uint64_t size = 0;
  std::string modified;  // RFC 3339
  std::string owner;     // the uploader; "" when unknown (a file put there by other means)
};

// Reads up to `n` bytes of the body into `buf`; returns 0 at the end of the body; throws on a
// broken connection.
using BodyReader = std::function<size_t(char* buf, size_t n)>;

class DatasetStore {
 public:
  explicit DatasetStore(std::string directory);  // created when missing
  std::vector<Dataset> list() const;
  std::optional<Dataset> get(const std::string& name) const;
  // Throws HttpError: 400 for a bad name, 409 when it exists (or is being uploaded), 413 when
  // the body passes `max_bytes` (nothing is kept).
  Dataset upload(const std::string& name, const std::string& owner, const BodyReader& body,
                 uint64_t max_bytes);
  // False when there is no such dataset.
  bool remove(const std::string& name);
  const std::string& directory() const { return directory_; }

 private:
  void remove_abandoned_uploads();
  std::string directory_;
};

// "" when `name` may name a dataset, otherwise why not (for a 400 message).
std::string dataset_name_problem(const std::string& name);

}  // namespace rc::portal
