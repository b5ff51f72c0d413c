#include "latent/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
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
#include "latent/files.h"
#include "latent/options.h"
#include "io/run_history.h"

namespace latent {
namespace {

constexpr char kMagic[8] = {'L', 'X', 'C', 'K', 'P', 'T', '\0', '\1'};
// Version 2 added the architecture (architecture, image_channels, channels). Version 1 files, all
// MLPs on gray images, still load: the keys they lack take those values.
constexpr uint32_t kVersion = 2;
constexpr uint32_t kOldestVersion = 1;
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
  m << "architecture=" << c.model.architecture << "\n"
    << "image_channels=" << c.model.image_channels << "\n"
    << "image_height=" << c.model.image_height << "\n"
    << "image_width=" << c.model.image_width << "\n"
    << "latent_dim=" << c.model.latent_dim << "\n"
    << "hidden=" << format_widths(c.model.hidden) << "\n"
    << "channels=" << format_widths(c.model.channels) << "\n"
    << "dense=" << format_dense(c.model.dense) << "\n"
    << "activation=" << to_string(c.model.activation) << "\n"
    << "likelihood=" << to_string(c.model.likelihood) << "\n"
    << "gaussian_sigma=" << c.model.gaussian_sigma << "\n"
    << "learn_sigma=" << (c.model.learn_sigma ? 1 : 0) << "\n"
    << "prior=" << c.model.prior << "\n"
    << "prior_components=" << c.model.prior_components << "\n"
    << "classes=" << c.model.classes << "\n"
    << "batch_size=" << c.train.batch_size << "\n"
    << "learning_rate=" << c.train.learning_rate << "\n"
    << "lr_schedule=" << to_string(c.train.lr_schedule) << "\n"
    << "beta=" << c.train.beta << "\n"
    << "warmup_epochs=" << c.train.warmup_epochs << "\n"
    << "corrupt=" << to_string(c.train.corrupt) << "\n"
    << "seed=" << c.train.seed << "\n"
    << "limit=" << c.train.limit << "\n"
    << "dataset=" << c.dataset << "\n"
    << "step=" << c.progress.step << "\n"
    << "epoch=" << c.progress.epoch << "\n"
    << "epoch_offset=" << c.progress.epoch_offset << "\n";
  return m.str();
}

// Progress counters a run can reach and still count on: 2^50 steps is decades of training, and a
// million epochs leaves room to add any --epochs without overflowing an int.
constexpr int64_t kMaxSteps = int64_t(1) << 50, kMaxEpochs = 1000000, kMaxEpochOffset = int64_t(1) << 40;

std::string validate_progress(const TrainingProgress& p) {
  if (p.step < 0 || p.step > kMaxSteps) return "step = " + std::to_string(p.step) + " is outside 0.." + std::to_string(kMaxSteps);
  if (p.epoch < 0 || p.epoch > kMaxEpochs) return "epoch = " + std::to_string(p.epoch) + " is outside 0.." + std::to_string(kMaxEpochs);
  if (p.epoch_offset < 0 || p.epoch_offset > kMaxEpochOffset)
    return "epoch_offset = " + std::to_string(p.epoch_offset) + " is outside 0.." + std::to_string(kMaxEpochOffset);
  return "";
}

// What every array must hold to be state a run can continue from: finite values (a NaN would only
// diverge again), and Adam's second moments, running means of squared gradients, never below zero.
std::string validate_values(const NamedArray& a) {
  const bool second_moment = a.name.rfind("adam.v.", 0) == 0;
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (!std::isfinite(a.values[i])) return "array '" + a.name + "' holds non-finite values (the first at index " + std::to_string(i) + ")";
    if (second_moment && a.values[i] < 0)
      return "array '" + a.name + "' (Adam's second moment) holds a negative value at " + std::to_string(i);
  }
  return "";
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

void parse_meta(const std::string& text, uint32_t version, Checkpoint& c, const std::string& what) {
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
    if (it == kv.end()) throw Error(std::string("it lacks '") + key + "'");
    return it->second;
  };
  try {
    if (version >= 2) {
      c.model.architecture = field("architecture");
      c.model.image_channels = parse_int32("image_channels", field("image_channels"));
      c.model.channels = parse_channels(field("channels"));
      // "dense" is optional in format 2: without it, the conv model has no dense layers.
      const auto dense = kv.find("dense");
      c.model.dense = dense == kv.end() ? std::vector<int>{} : parse_dense(dense->second);
    } else {
      c.model.architecture = "mlp";
      c.model.image_channels = 1;
      c.model.dense = {};
    }
    c.model.image_height = parse_int32("image_height", field("image_height"));
    c.model.image_width = parse_int32("image_width", field("image_width"));
    c.model.latent_dim = parse_int32("latent_dim", field("latent_dim"));
    c.model.hidden = parse_hidden(field("hidden"));
    c.model.activation = parse_activation(field("activation"));
    c.model.likelihood = parse_likelihood(field("likelihood"));
    c.model.gaussian_sigma = parse_double("gaussian_sigma", field("gaussian_sigma"));
    c.model.learn_sigma = parse_int("learn_sigma", field("learn_sigma")) != 0;
    // Optional: files written before priors were a choice have N(0, I).
    if (const auto prior = kv.find("prior"); prior != kv.end()) {
      c.model.prior = prior->second;
      const auto components = kv.find("prior_components");
      c.model.prior_components = components == kv.end() ? 0 : parse_int32("prior_components", components->second);
    }
    // Optional: files written before the conditional VAE are unconditional.
    if (const auto classes = kv.find("classes"); classes != kv.end()) c.model.classes = parse_int32("classes", classes->second);
    c.train.batch_size = parse_int32("batch_size", field("batch_size"));
    c.train.learning_rate = parse_double("learning_rate", field("learning_rate"));
    c.train.lr_schedule = parse_lr_schedule(field("lr_schedule"));
    c.train.beta = parse_double("beta", field("beta"));
    c.train.warmup_epochs = parse_double("warmup_epochs", field("warmup_epochs"));
    // Optional: files written before denoising trained on clean inputs.
    if (const auto corrupt = kv.find("corrupt"); corrupt != kv.end()) c.train.corrupt = parse_corruption(corrupt->second);
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
  if (!problem.empty()) throw Error(what + ": invalid checkpoint config: " + problem);
  problem = validate_progress(c.progress);
  if (!problem.empty()) throw Error(what + ": invalid checkpoint progress: " + problem);
}

std::string unsupported_version(uint32_t version) {
  return "checkpoint format version " + std::to_string(version) + " is not supported (this build reads " +
         std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) + ")";
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
  // Nothing is written that read_checkpoint would refuse: the same checks on the config, the
  // counters and the values.
  std::string problem = validate(checkpoint.model);
  if (problem.empty()) problem = validate(checkpoint.train);
  if (problem.empty()) problem = validate_progress(checkpoint.progress);
  for (size_t i = 0; problem.empty() && i < checkpoint.arrays.size(); ++i) problem = validate_values(checkpoint.arrays[i]);
  if (!problem.empty()) throw Error(path + ": not saved: " + problem + " (the file on disk is unchanged)");
  std::vector<uint8_t> bytes = serialize_checkpoint(checkpoint);
  write_file_atomically(path, bytes.data(), bytes.size(), "checkpoint");
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
  if (version < kOldestVersion || version > kVersion) throw Error(what + ": " + unsupported_version(version));
  uint64_t meta_len = r.get<uint64_t>("metadata length");
  if (meta_len > (1u << 20)) throw Error(what + ": malformed checkpoint (metadata too long)");
  const uint8_t* meta = r.take(size_t(meta_len), "metadata");
  Checkpoint c;
  parse_meta(std::string(reinterpret_cast<const char*>(meta), size_t(meta_len)), version, c, what);
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
    if (const std::string problem = validate_values(a); !problem.empty()) throw Error(what + ": invalid checkpoint state: " + problem);
    c.arrays.push_back(std::move(a));
  }
  if (r.remaining() != 0) throw Error(what + ": malformed checkpoint (trailing bytes)");
  return c;
}

namespace {

// Whether the open file's last four bytes are the CRC-32 of the bytes before them, read in chunks
// (bounded memory); the file's position is left where it was.
bool crc_matches(std::FILE* f, int64_t size) {
  if (size < 4) return false;
  const long at = std::ftell(f);
  if (at < 0 || std::fseek(f, 0, SEEK_SET) != 0) return false;
  std::vector<uint8_t> chunk(size_t(1) << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  int64_t left = size - 4;
  bool ok = true;
  while (ok && left > 0) {
    const size_t n = size_t(std::min<int64_t>(left, int64_t(chunk.size())));
    ok = std::fread(chunk.data(), 1, n, f) == n;
    crc = crc32(crc, chunk.data(), uInt(n));
    left -= int64_t(n);
  }
  uint32_t stored = 0;
  ok = ok && std::fread(&stored, 1, 4, f) == 4 && uint32_t(crc) == stored;
  std::fseek(f, at, SEEK_SET);
  return ok;
}

}  // namespace

Checkpoint read_checkpoint(const std::string& path) {
  if (!path_exists(path)) throw Error(path + ": checkpoint not found");
  int64_t size = 0;
  FilePtr f = open_regular_file(path, &size);
  if (size > kCheckpointMaxBytes) throw Error(path + ": too large to be a checkpoint (" + std::to_string(size) + " bytes)");
  // The magic, version and metadata length first: a file that is no checkpoint is refused before
  // the rest of it is read.
  constexpr size_t kHead = sizeof kMagic + 4 + 8;
  std::vector<uint8_t> bytes(std::min<size_t>(size_t(size), kHead));
  if (!bytes.empty() && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) throw Error(path + ": read error");
  if (bytes.size() >= 6 && std::memcmp(bytes.data(), kMagic, 6) != 0)
    throw Error(path + ": not a latent-explorer checkpoint (wrong magic)");
  if (bytes.size() == kHead) {
    if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) throw Error(path + ": unsupported checkpoint variant");
    uint32_t version;
    std::memcpy(&version, bytes.data() + sizeof kMagic, 4);
    if (version < kOldestVersion || version > kVersion) throw Error(path + ": " + unsupported_version(version));
    uint64_t meta_len;
    std::memcpy(&meta_len, bytes.data() + sizeof kMagic + 4, 8);
    if (meta_len > (1u << 20)) throw Error(path + ": malformed checkpoint (metadata too long)");
    if (meta_len > uint64_t(size) - kHead) throw Error(path + ": checkpoint is truncated or corrupt (its metadata runs past the end)");
    // The metadata describes the model and the progress, and so bounds how large its file can be:
    // weights and two Adam moments, the training history, and per array at most a 256-byte name and
    // four dims.
    bytes.resize(kHead + size_t(meta_len));
    if (std::fread(bytes.data() + kHead, 1, size_t(meta_len), f.get()) != size_t(meta_len)) throw Error(path + ": read error");
    Checkpoint described;
    try {
      parse_meta(std::string(reinterpret_cast<const char*>(bytes.data() + kHead), size_t(meta_len)), version, described, path);
    } catch (const Error&) {
      // Metadata that does not parse is most often damage, which the CRC (not yet checked) says.
      if (!crc_matches(f.get(), size)) throw Error(path + ": checkpoint is truncated or corrupt (CRC mismatch)");
      throw;
    }
    const int64_t most = int64_t(kHead + meta_len) + 4 + int64_t(kMaxArrays) * (4 + 256 + 4 + 8 * kMaxRank) +
                         3 * parameter_count(described.model) * int64_t(sizeof(float)) +
                         history_max_bytes(described.progress.epoch) + 4;
    if (size > most)
      throw Error(path + ": not a valid checkpoint (" + std::to_string(size) + " bytes, more than the " + std::to_string(most) +
                  " its model can take)");
  }
  const size_t have = bytes.size();
  bytes.resize(size_t(size));
  if (bytes.size() > have && std::fread(bytes.data() + have, 1, bytes.size() - have, f.get()) != bytes.size() - have)
    throw Error(path + ": read error (the file changed while it was read?)");
  return parse_checkpoint(bytes.data(), bytes.size(), path);
}

}  // namespace latent
