#pragma once
// Opening what a user names as an input file: only regular files (a FIFO, socket or device would
// block or never end), with a message that says what the path is instead, or why it cannot be read.
#include <cstdio>
#include <memory>
#include <string>

namespace latent {

struct FileCloser {
  void operator()(FILE* f) const { if (f) std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// Opens `path` for reading, never blocking: a path that is not a regular file, is missing or cannot be
// read throws Error("<path>: <what it is or why>"), e.g. "is a FIFO, not a regular file",
// "permission denied". `size` receives the opened file's size.
FilePtr open_regular_file(const std::string& path, int64_t* size = nullptr);

// What a path is, in words, for messages ("a directory", "a FIFO", "a socket", "a device"); ""
// for a regular file, "missing" when it does not exist.
std::string describe_path(const std::string& path);

// describe_path's answer for a path that cannot be used as a file, as a phrase: "it is a FIFO",
// "permission denied".
std::string describe_unusable(const std::string& kind);

// Why `path` could not be written as a file, or "" when it can: it is something else (a directory,
// a FIFO), or its directory takes no new file (found by creating and removing a probe there, which
// also holds for root, whom permission bits do not stop).
std::string write_problem(const std::string& path);

// The user's home: $HOME, or when it is unset or empty the password database's entry, else "/"
// (never the working directory, which would scatter settings wherever the app was started).
std::string home_directory();
// This tool's settings: $XDG_CONFIG_HOME/latent-explorer, else ~/.config/latent-explorer.
std::string config_directory();

// The last component of a path, as a name for what it holds: "digits" for "data/digits/" or
// "data/digits", the working directory's name for ".".
std::string path_basename(const std::string& path);

// Writes `size` bytes to "<path>.tmp-<pid>-<n>", fsyncs it and renames it over `path`, so that a
// crash at any moment leaves either the old file or the new one (temporaries a killed write left
// are removed first). Throws latent::Error("<path>: cannot write <what> (<why>)") and leaves `path`
// as it was.
void write_file_atomically(const std::string& path, const void* data, size_t size, const std::string& what);

// A fresh name beside `path` for writing it in full before renaming it over `path`:
// "<path>.tmp-<pid>-<n>", unique within the process (remove_stale_temporaries knows the pattern).
std::string temporary_path_for(const std::string& path);

// Whether a path exists at all (any kind, even a dangling entry a stat cannot follow).
bool path_exists(const std::string& path);

// Removes the temporaries that an interrupted write of `path` left beside it: "<name>.tmp-<pid>..."
// and "<name>.gz.download-<pid>" whose process is gone (a live writer's files are left alone).
// Returns how many it removed; errors are ignored (this is tidying, not the write itself).
int remove_stale_temporaries(const std::string& path);

}  // namespace latent
