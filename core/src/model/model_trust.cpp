// The TorchScript files known here by their SHA-256 (latent/model_trust.h).
#include "latent/model_trust.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "latent/error.h"
#include "latent/files.h"
#include "latent/sha256.h"

namespace latent {
namespace {

// Both programs append to the list, so each line is written in one write() to a file opened with
// O_APPEND. Reading stops at a size the kept lines never reach, so that a damaged or hostile file
// costs bounded time and memory.
constexpr std::uintmax_t kMostBytesRead = std::uintmax_t(4) << 20;

std::mutex g_mutex;  // one thread of this process at a time; other processes append atomically

bool is_digest(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return lines;
  std::ifstream in(path, std::ios::binary);
  std::uintmax_t read = 0;
  for (std::string line; read < kMostBytesRead && std::getline(in, line);) {
    read += line.size() + 1;
    if (line.size() > 64 && line[64] == ' ' && is_digest(line.substr(0, 64))) lines.push_back(line);
  }
  return lines;
}

}  // namespace

std::string trusted_models_path() { return config_directory() + "/trusted-models"; }

bool is_trusted_model(const std::string& sha256) {
  if (!is_digest(sha256)) return false;
  std::lock_guard<std::mutex> lock(g_mutex);
  for (const std::string& line : read_lines(trusted_models_path()))
    if (line.compare(0, 64, sha256) == 0) return true;
  return false;
}

std::string trust_model(const std::string& sha256, const std::string& path) {
  if (!is_digest(sha256)) return "not a SHA-256 digest: " + printable(sha256);
  const std::string list = trusted_models_path();
  std::string shown = path;
  std::replace_if(shown.begin(), shown.end(), [](char c) { return c == '\n' || c == '\r'; }, '?');
  const std::string line = sha256 + " " + shown + "\n";
  std::lock_guard<std::mutex> lock(g_mutex);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(list).parent_path(), ec);
  std::vector<std::string> lines = read_lines(list);
  if (std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.compare(0, 64, sha256) == 0; })) return "";
  if (int(lines.size()) >= 2 * kTrustedModelsKept) {
    // Kept short: the newest entries, rewritten whole and renamed over the list.
    lines.erase(lines.begin(), lines.end() - (kTrustedModelsKept - 1));
    std::string text;
    for (const std::string& l : lines) text += l + "\n";
    text += line;
    try {
      write_file_atomically(list, text.data(), text.size(), "the list of known models");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  const int fd = ::open(list.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return list + ": " + std::strerror(errno);
  const ssize_t wrote = ::write(fd, line.data(), line.size());
  const int saved = errno;
  ::close(fd);
  if (wrote != ssize_t(line.size())) return list + ": " + (wrote < 0 ? std::strerror(saved) : "written in part");
  return "";
}

std::string trust_model_file(const std::string& path) {
  try {
    return trust_model(sha256_file(path), path);
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace latent
