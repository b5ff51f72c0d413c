#include "latent/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace latent
