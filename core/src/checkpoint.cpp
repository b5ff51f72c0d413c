#include "latent/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "latent/error.h"
#include "latent/options.h"

namespace latent {
namespace {

constexpr char kMagic[8] = {'L', 'X', 'C', 'K', 'P', 'T', '\0', '\1'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kMaxArrays = 4096;
constexpr uint32_t kMaxRank = 4;

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

class Reader {
 public:
  Reader(const uint8_t* p, size_t n, const std::string& what) : p_(p), n_(n), what_(what) {}
  template <typename T>
  T get(const char* field) {
    T v;
    std::memcpy(&v, take(sizeof(T), field), sizeof(T));
    return v;
  }
  const uint8_t* take(size_t bytes, const char* field) {
    if (bytes > n_ - pos_) throw Error(what_ + ": malformed checkpoint (" + field + " runs past the end)");
    const uint8_t* at = p_ + pos_;
    pos_ += bytes;
    return at;
  }
  size_t remaining() const { return n_ - pos_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  std::string what_;
};

std::string format_meta(const Checkpoint& c) {
  std::ostringstream m;
  m.precision(17);
  m << "image_height=" << c.model.image_height << "\n"
    << "image_width=" << c.model.image_width << "\n"
    << "latent_dim=" << c.model.latent_dim << "\n"
    << "hidden=" << format_hidden(c.model.hidden) << "\n"
    << "activation=" << to_string(c.model.activation) << "\n"
    << "likelihood=" << to_string(c.model.likelihood) << "\n"
    << "gaussian_sigma=" << c.model.gaussian_sigma << "\n"
    << "learn_sigma=" << (c.model.learn_sigma ? 1 : 0) << "\n"
    << "batch_size=" << c.train.batch_size << "\n"
    << "learning_rate=" << c.train.learning_rate << "\n"
    << "lr_schedule=" << to_string(c.train.lr_schedule) << "\n"
    << "beta=" << c.train.beta << "\n"
    << "warmup_epochs=" << c.train.warmup_epochs << "\n"
    << "seed=" << c.train.seed << "\n"
    << "limit=" << c.train.limit << "\n"
    << "dataset=" << c.dataset << "\n"
    << "step=" << c.progress.step << "\n"
    << "epoch=" << c.progress.epoch << "\n"
    << "epoch_offset=" << c.progress.epoch_offset << "\n";
  return m.str();
}

// A metadata integer that must fit an int: "image_height=4294967324" is an error, not 28.
int parse_int32(const char* key, const std::string& text) {
  int64_t v = parse_int(key, text);
  if (v < INT32_MIN || v > INT32_MAX) throw Error(std::string(key) + ": " + text + " is out of range");
  return int(v);
}

// The seed is unsigned 64-bit and written as such; "-7" would wrap to a value parse_int then refuses,
// so that a resumed run's next checkpoint would not load.
uint64_t parse_seed(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] < '0' || text[0] > '9' || end != text.c_str() + text.size() || errno == ERANGE)
    throw Error("seed: '" + text + "' is not an unsigned integer");
  return uint64_t(v);
}

void parse_meta(const std::string& text, Checkpoint& c, const std::string& what) {
  std::map<std::string, std::string> kv;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) throw Error(what + ": malformed checkpoint metadata line '" + line.substr(0, 60) + "'");
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto field = [&](const char* key) -> const std::string& {
    auto it = kv.find(key);
    if (it == kv.end()) throw Error(what + ": checkpoint metadata lacks '" + key + "'");
    return it->second;
  };
  try {
    c.model.image_height = parse_int32("image_height", field("image_height"));
    c.model.image_width = parse_int32("image_width", field("image_width"));
    c.model.latent_dim = parse_int32("latent_dim", field("latent_dim"));
    c.model.hidden = parse_hidden(field("hidden"));
    c.model.activation = parse_activation(field("activation"));
    c.model.likelihood = parse_likelihood(field("likelihood"));
    c.model.gaussian_sigma = parse_double("gaussian_sigma", field("gaussian_sigma"));
    c.model.learn_sigma = parse_int("learn_sigma", field("learn_sigma")) != 0;
    c.train.batch_size = parse_int32("batch_size", field("batch_size"));
    c.train.learning_rate = parse_double("learning_rate", field("learning_rate"));
    c.train.lr_schedule = parse_lr_schedule(field("lr_schedule"));
    c.train.beta = parse_double("beta", field("beta"));
    c.train.warmup_epochs = parse_double("warmup_epochs", field("warmup_epochs"));
    c.train.seed = parse_seed(field("seed"));
    c.train.limit = parse_int("limit", field("limit"));
    c.dataset = field("dataset");
    c.progress.step = parse_int("step", field("step"));
    c.progress.epoch = parse_int32("epoch", field("epoch"));
    c.progress.epoch_offset = parse_int("epoch_offset", field("epoch_offset"));
  } catch (const Error& e) {
    throw Error(what + ": bad checkpoint metadata: " + e.what());
  }
  std::string problem = validate(c.model);
  if (problem.empty()) problem = validate(c.train);
  if (problem.empty() && (c.progress.step < 0 || c.progress.epoch < 0 || c.progress.epoch_offset < 0))
    problem = "negative progress counters";
  if (!problem.empty()) throw Error(what + ": invalid checkpoint config: " + problem);
}

}  // namespace

const NamedArray* Checkpoint::find(const std::string& name) const {
  for (const auto& a : arrays)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<uint8_t> serialize_checkpoint(const Checkpoint& c) {
  std::vector<uint8_t> out(kMagic, kMagic + sizeof kMagic);
  put<uint32_t>(out, kVersion);
  std::string meta = format_meta(c);
  put<uint64_t>(out, meta.size());
  out.insert(out.end(), meta.begin(), meta.end());
  put<uint32_t>(out, uint32_t(c.arrays.size()));
  for (const auto& a : c.arrays) {
    put<uint32_t>(out, uint32_t(a.name.size()));
    out.insert(out.end(), a.name.begin(), a.name.end());
    put<uint32_t>(out, uint32_t(a.shape.size()));
    for (int64_t d : a.shape) put<int64_t>(out, d);
    const uint8_t* v = reinterpret_cast<const uint8_t*>(a.values.data());
    out.insert(out.end(), v, v + a.values.size() * sizeof(float));
  }
  uint32_t crc = uint32_t(crc32(0L, out.data(), uInt(out.size())));
  put<uint32_t>(out, crc);
  return out;
}

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  // A checkpoint is the state to come back to: weights that are not finite would only diverge again.
  for (const auto& a : checkpoint.arrays)
    for (float v : a.values)
      if (!std::isfinite(v))
        throw Error(path + ": not saved: array '" + a.name + "' holds non-finite values (the file on disk is unchanged)");
  std::vector<uint8_t> bytes = serialize_checkpoint(checkpoint);
  // Unique per save, so that two saves to one path from one process (two trainers) cannot share it.
  static std::atomic<uint64_t> saves{0};
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(saves++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot write checkpoint (" + std::strerror(errno) + ")");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": checkpoint write failed (" + why + ")");
    }
    done += size_t(n);
  }
  // fsync before rename: otherwise a power cut can leave the new name pointing at empty data.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error(path + ": checkpoint flush failed (" + std::strerror(errno) + ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot move checkpoint into place (" + why + ")");
  }
}

Checkpoint parse_checkpoint(const uint8_t* bytes, size_t size, const std::string& what) {
  if (size < sizeof kMagic + 4 + 8 + 4 + 4)
    throw Error(what + ": not a checkpoint (too short: " + std::to_string(size) + " bytes)");
  if (std::memcmp(bytes, kMagic, 6) != 0) throw Error(what + ": not a latent-explorer checkpoint (wrong magic)");
  if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0)
    throw Error(what + ": unsupported checkpoint variant");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes + size - 4, 4);
  uint32_t crc = uint32_t(crc32(0L, bytes, uInt(size - 4)));
  if (crc != stored_crc) throw Error(what + ": checkpoint is truncated or corrupt (CRC mismatch)");

  Reader r(bytes, size - 4, what);
  r.take(sizeof kMagic, "magic");
  uint32_t version = r.get<uint32_t>("version");
  if (version != kVersion)
    throw Error(what + ": checkpoint format version " + std::to_string(version) + " is not supported (this build reads " +
                std::to_string(kVersion) + ")");
  uint64_t meta_len = r.get<uint64_t>("metadata length");
  if (meta_len > (1u << 20)) throw Error(what + ": malformed checkpoint (metadata too long)");
  const uint8_t* meta = r.take(size_t(meta_len), "metadata");
  Checkpoint c;
  parse_meta(std::string(reinterpret_cast<const char*>(meta), size_t(meta_len)), c, what);
  uint32_t count = r.get<uint32_t>("array count");
  if (count > kMaxArrays) throw Error(what + ": malformed checkpoint (too many arrays)");
  for (uint32_t i = 0; i < count; ++i) {
    NamedArray a;
    uint32_t name_len = r.get<uint32_t>("array name length");
    if (name_len == 0 || name_len > 256) throw Error(what + ": malformed checkpoint (bad array name)");
    const uint8_t* name = r.take(name_len, "array name");
    a.name.assign(reinterpret_cast<const char*>(name), name_len);
    uint32_t rank = r.get<uint32_t>("array rank");
    if (rank > kMaxRank) throw Error(what + ": malformed checkpoint (array '" + a.name + "' has rank " + std::to_string(rank) + ")");
    uint64_t elements = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      int64_t dim = r.get<int64_t>("array dims");
      if (dim < 0 || dim > (int64_t(1) << 31)) throw Error(what + ": malformed checkpoint (array '" + a.name + "' has a bad dimension)");
      a.shape.push_back(dim);
      elements *= uint64_t(dim);
      if (elements > r.remaining() / sizeof(float) + 1)
        throw Error(what + ": malformed checkpoint (array '" + a.name + "' is larger than the file)");
    }
    const uint8_t* values = r.take(size_t(elements * sizeof(float)), "array values");
    a.values.resize(size_t(elements));
    // An array with a zero dimension has no values, and memcpy to an empty vector's null data() is UB.
    if (elements > 0) std::memcpy(a.values.data(), values, size_t(elements) * sizeof(float));
    if (c.find(a.name)) throw Error(what + ": malformed checkpoint (array '" + a.name + "' appears twice)");
    c.arrays.push_back(std::move(a));
  }
  if (r.remaining() != 0) throw Error(what + ": malformed checkpoint (trailing bytes)");
  return c;
}

Checkpoint read_checkpoint(const std::string& path) {
  const auto check = [&](const struct stat& st) {
    if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
    if (st.st_size > kCheckpointMaxBytes) throw Error(path + ": too large to be a checkpoint");
  };
  // stat() before opening, so that a FIFO is refused instead of blocking the open; then the size of
  // the file opened, not of the one stat() saw: a save may have renamed another file over the path
  // in between (TrainerStress read a newer, larger checkpoint with the older size).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(path + ": checkpoint not found");
  check(st);
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error(path + ": cannot open checkpoint (" + std::strerror(errno) + ")");
  if (::fstat(::fileno(f.get()), &st) != 0) throw Error(path + ": cannot stat checkpoint (" + std::strerror(errno) + ")");
  check(st);
  std::vector<uint8_t> bytes(size_t(st.st_size));
  if (!bytes.empty() && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
    throw Error(path + ": read error");
  return parse_checkpoint(bytes.data(), bytes.size(), path);
}

}  // namespace latent
