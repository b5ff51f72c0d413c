#include "latent/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <pwd.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "latent/error.h"

namespace latent {
namespace {

std::string kind(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

std::string reason(int error) {
  if (error == ENOENT) return "not found";
  if (error == EACCES || error == EPERM) return "permission denied";
  return std::strerror(error);
}

}  // namespace

std::string describe_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? "missing" : reason(errno);
  return kind(st.st_mode);
}

std::string describe_unusable(const std::string& kind) {
  if (kind.rfind("a ", 0) == 0 || kind == "not a regular file") return "it is " + kind;
  return kind;
}

std::string write_problem(const std::string& path) {
  const std::string kind = describe_path(path);
  if (!kind.empty() && kind != "missing") return describe_unusable(kind);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string probe = dir + "/.latent-write-test-" + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot write in " + dir + ": " + reason(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

std::string home_directory() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* entry = ::getpwuid(::getuid()); entry && entry->pw_dir && *entry->pw_dir) return entry->pw_dir;
  return "/";
}

std::string config_directory() {
  if (const char* v = std::getenv("XDG_CONFIG_HOME"); v && *v) return std::string(v) + "/latent-explorer";
  return home_directory() + "/.config/latent-explorer";
}

std::string path_basename(const std::string& path) {
  std::filesystem::path p = std::filesystem::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  return name.empty() || name == "." ? std::filesystem::absolute(path).lexically_normal().parent_path().filename().string() : name;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

FilePtr open_regular_file(const std::string& path, int64_t* size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. What was opened is
  // checked with fstat, so a file renamed over the path in between cannot slip through.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw Error(path + ": " + reason(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw Error(path + ": " + reason(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const std::string what = kind(st.st_mode);
    throw Error(path + ": is " + what + (what == "not a regular file" ? "" : ", not a regular file"));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  FILE* f = ::fdopen(fd, "rb");
  if (!f) {
    const int e = errno;
    ::close(fd);
    throw Error(path + ": " + reason(e));
  }
  if (size) *size = int64_t(st.st_size);
  return FilePtr(f);
}

int remove_stale_temporaries(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  int removed = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string entry = e->d_name;
    for (const std::string& mark : {name + ".tmp-", name + ".gz.download-"}) {
      if (entry.compare(0, mark.size(), mark) != 0) continue;
      const char* digits = entry.c_str() + mark.size();
      char* end = nullptr;
      const long pid = std::strtol(digits, &end, 10);
      if (end == digits || pid <= 0 || (*end != '\0' && *end != '-')) continue;
      if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
      if (::unlink((dir + "/" + entry).c_str()) == 0) ++removed;
    }
  }
  ::closedir(d);
  return removed;
}

std::string temporary_path_for(const std::string& path) {
  // Unique per write, so that two writes to one path from one process (two trainers) cannot share it.
  static std::atomic<uint64_t> writes{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(writes++);
}

void write_file_atomically(const std::string& path, const void* data, size_t size, const std::string& what) {
  remove_stale_temporaries(path);
  const std::string tmp = temporary_path_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot write " + what + " (" + std::strerror(errno) + ")");
  const auto* bytes = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n == 0 ? "no progress" : std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": cannot write " + what + " (" + why + ")");
    }
    done += size_t(n);
  }
  // fsync before rename: otherwise a power cut can leave the new name pointing at empty data.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write " + what + " (flush failed: " + why + ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write " + what + " (cannot move it into place: " + why + ")");
  }
}

}  // namespace latent
