// Files and folders only their owner may read (kubeconfigs, passwords, keys): created with
// those permissions from the start, never widened and narrowed after.
#pragma once
#include <string>

namespace rc::util {

// Writes `content` to a temporary file created with mode 0600, syncs it, renames it over `path`
// and syncs the folder: readers and crashes see the old file or the whole new one, and no one
// else ever sees either.
void write_private_file(const std::string& path, const std::string& content);
// Creates the folder (and its parents) if missing and makes it 0700.
void make_private_dir(const std::string& path);

}  // namespace rc::util
