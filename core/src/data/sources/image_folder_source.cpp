// A folder of images in torchvision's ImageFolder layout (folder_walk.h), decoded with stb_image on
// every core. Every header is read before any pixel is decoded: sizes that disagree, an image too
// large to decode, and a file that is not what its name says are reported first, in bounded memory.
#include <stb_image.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "data/folder_walk.h"
#include "data/source.h"
#include "latent/error.h"
#include "latent/files.h"

namespace latent {
namespace {

// stb_image decodes into memory it allocates: a header that declares more pixels than this is refused
// before decoding (8192 × 8192).
constexpr int64_t kMaxDecodePixels = int64_t(1) << 26;
// Nor more than this decoded (width · height · channels · bytes per value): a 48-megapixel RGB photo
// fits, an 8192 x 8192 RGBA image of 16-bit values (512 MiB) does not. stb_image's PNG decoder holds
// about twice this while it works, on each decoding core.
constexpr int64_t kMaxDecodedBytes = int64_t(128) << 20;
// Files larger than this are not images a VAE trains on.
constexpr int64_t kMaxImageFileBytes = int64_t(256) << 20;

struct ImageFile {
  std::string path;
  int32_t label = -1;
  bool test = false;
  int width = 0, height = 0, channels = 0;  // from the header
  std::string problem;                      // why it cannot be used, when it cannot
};

std::vector<uint8_t> read_whole(const std::string& path) {
  int64_t size = 0;
  FilePtr f = open_regular_file(path, &size);
  if (size > kMaxImageFileBytes) throw Error(path + ": " + std::to_string(size) + " bytes, more than an image file may be");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) throw Error(path + ": read failed");
  return bytes;
}

// An uncompressed BMP holds every row its header declares; one cut short would decode as black
// rows (a 66-byte file declaring 8000 x 8000). "" when the file is not such a BMP or is whole.
std::string truncated_bmp(FILE* file, int64_t file_size) {
  unsigned char h[34] = {};
  const long at = std::ftell(file);
  const size_t got = std::fread(h, 1, sizeof h, file);
  std::fseek(file, at, SEEK_SET);
  if (got < 26 || h[0] != 'B' || h[1] != 'M') return "";
  auto u32 = [&](int o) { return uint32_t(h[o]) | uint32_t(h[o + 1]) << 8 | uint32_t(h[o + 2]) << 16 | uint32_t(h[o + 3]) << 24; };
  auto u16 = [&](int o) { return uint32_t(h[o]) | uint32_t(h[o + 1]) << 8; };
  const uint32_t offset = u32(10), header = u32(14);
  int64_t width = 0, height = 0, bits = 0, compression = 0;
  if (header == 12) {
    width = u16(18), height = u16(20), bits = u16(24);
  } else if (got == sizeof h) {
    width = int32_t(u32(18)), height = int32_t(u32(22)), bits = u16(28), compression = u32(30);
  } else {
    return "";
  }
  // 0: BI_RGB, 3 and 6: bit fields; the run-length encodings (1, 2) may be short.
  if (compression != 0 && compression != 3 && compression != 6) return "";
  const int64_t stride = (std::abs(width) * bits + 31) / 32 * 4;
  const int64_t needed = int64_t(offset) + stride * std::abs(height);
  if (file_size >= needed) return "";
  return "a BMP of " + std::to_string(std::abs(width)) + "x" + std::to_string(std::abs(height)) + " needs " + std::to_string(needed) +
         " bytes and the file has " + std::to_string(file_size) + ": it is cut short";
}

// Reads each file's header on every core; a file that is not a readable image gets its problem.
void read_headers(std::vector<ImageFile>& files) {
  for_each_index(int64_t(files.size()), [&](int64_t i) {
    ImageFile& f = files[size_t(i)];
    try {
      int64_t size = 0;
      FilePtr file = open_regular_file(f.path, &size);
      if (!stbi_info_from_file(file.get(), &f.width, &f.height, &f.channels)) {
        f.problem = std::string("not a readable image (") + stbi_failure_reason() + ")";
        return;
      }
      const int depth = stbi_is_16_bit_from_file(file.get()) ? 2 : 1;
      const int64_t decoded = int64_t(f.width) * f.height * f.channels * depth;
      const std::string declared = "declares " + std::to_string(f.width) + "x" + std::to_string(f.height);
      if (int64_t(f.width) * f.height > kMaxDecodePixels) {
        f.problem = declared + " pixels, more than the " + std::to_string(kMaxDecodePixels) + " (8192x8192) an image may have";
      } else if (decoded > kMaxDecodedBytes) {
        f.problem = declared + " pixels of " + std::to_string(f.channels) + " channel" + (f.channels == 1 ? "" : "s") + " at " +
                    std::to_string(8 * depth) + " bits: " + std::to_string(decoded >> 20) + " MiB decoded, more than the " +
                    std::to_string(kMaxDecodedBytes >> 20) + " MiB an image may take";
      } else if (std::string cut = truncated_bmp(file.get(), size); !cut.empty()) {
        f.problem = cut;
      }
    } catch (const Error& e) {
      f.problem = e.what();
      if (f.problem.compare(0, f.path.size(), f.path) == 0) f.problem = f.problem.substr(std::min(f.problem.size(), f.path.size() + 2));
    }
  });
}

std::string bad_file_message(const ImageFile& f, int64_t bad) {
  return f.path + ": " + f.problem +
         (bad > 1 ? " (and " + std::to_string(bad - 1) + " more bad file" + (bad > 2 ? "s" : "") + ")" : std::string()) +
         "; --skip-bad skips such files";
}

// Drops the files with a problem, or with --skip-bad unset, fails on the first.
void drop_bad(std::vector<ImageFile>& files, const DataOptions& options, const std::string& root, bool report) {
  const int64_t bad = std::count_if(files.begin(), files.end(), [](const ImageFile& f) { return !f.problem.empty(); });
  if (bad == 0) return;
  const ImageFile& first = *std::find_if(files.begin(), files.end(), [](const ImageFile& f) { return !f.problem.empty(); });
  if (!options.skip_bad) throw Error(bad_file_message(first, bad));
  if (report)
    std::fprintf(stderr, "%s: skipped %lld bad image file%s (first: %s: %s)\n", printable(root).c_str(), (long long)bad,
                 bad == 1 ? "" : "s", printable(first.path).c_str(), printable(first.problem).c_str());
  files.erase(std::remove_if(files.begin(), files.end(), [](const ImageFile& f) { return !f.problem.empty(); }), files.end());
}

struct Probed {
  DatasetShape shape;
  FolderListing listing;
  std::vector<ImageFile> files;  // train files, then test files (given_split)
};

Probed probe_folder(const std::string& spec, const DataOptions& options, bool report) {
  check_data_options(options);
  Probed p;
  p.listing = list_image_folder(spec);
  for (const auto* side : {&p.listing.train, &p.listing.test})
    for (const auto& image : *side) p.files.push_back({image.path, image.label, side == &p.listing.test, 0, 0, 0, ""});
  if (report && p.listing.ignored > 0) {
    std::string kinds;
    for (const auto& k : p.listing.ignored_kinds) kinds += (kinds.empty() ? "" : " ") + k;
    std::fprintf(stderr, "%s: ignored %lld file%s that %s not images or not in a class folder (%s)\n", printable(spec).c_str(),
                 (long long)p.listing.ignored, p.listing.ignored == 1 ? "" : "s", p.listing.ignored == 1 ? "is" : "are", kinds.c_str());
  }
  read_headers(p.files);
  drop_bad(p.files, options, spec, report);
  if (p.files.empty()) throw Error(spec + ": every image file is bad; none is left to load");
  // Without --size, one size for all: the first two that differ are named.
  const ImageFile& first = p.files.front();
  bool any_colour = false;
  for (const ImageFile& f : p.files) {
    any_colour = any_colour || f.channels >= 3;
    if (options.height == 0 && (f.width != first.width || f.height != first.height))
      throw Error(spec + ": images differ in size: " + first.path + " is " + std::to_string(first.width) + "x" +
                  std::to_string(first.height) + " but " + f.path + " is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                  "; pass --size HxW to resize them all");
  }
  DatasetShape& s = p.shape;
  s.kind = "image-folder";
  s.directory = spec;
  s.name = path_basename(spec);
  s.channels = output_channels(options, any_colour);
  output_size(options, first.height, first.width, &s.height, &s.width);
  if (s.height > kMaxImageSide || s.width > kMaxImageSide)
    throw Error(spec + ": images are " + std::to_string(s.width) + "x" + std::to_string(s.height) + "; larger than " +
                std::to_string(kMaxImageSide) + " per side needs --size to shrink them");
  s.classes = int(p.listing.classes.size());
  if (p.listing.given_split) {
    s.test_size = std::count_if(p.files.begin(), p.files.end(), [](const ImageFile& f) { return f.test; });
    s.train_size = int64_t(p.files.size()) - s.test_size;
    if (s.train_size == 0 || s.test_size == 0)
      throw Error(spec + ": " + (s.train_size == 0 ? "train/" : "test/") + " has no usable images");
  } else {
    s.test_size = int64_t(held_out_indices(int64_t(p.files.size()), options, spec).size());
    s.train_size = int64_t(p.files.size()) - s.test_size;
  }
  return p;
}

DatasetShape shape_of(const std::string& spec, const DataOptions& options) { return probe_folder(spec, options, false).shape; }

// Decodes every file into its slot of `out` on every core, with progress on stderr for large folders.
void decode_all(std::vector<ImageFile>& files, const DatasetShape& s, uint8_t* out) {
  const int64_t image_bytes = int64_t(s.channels) * s.height * s.width;
  auto decode = [&](int64_t i) {
    ImageFile& f = files[size_t(i)];
    try {
      const std::vector<uint8_t> bytes = read_whole(f.path);
      int w = 0, h = 0, c = 0;
      stbi_uc* pixels = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &c, 0);
      if (!pixels) {
        f.problem = std::string("cannot decode (") + stbi_failure_reason() + ")";
      } else if (w != f.width || h != f.height || c != f.channels) {
        f.problem = "changed while it was being read";
      } else {
        conform_image(PixelView::interleaved(pixels, c, h, w), s.channels, s.height, s.width, out + i * image_bytes);
      }
      stbi_image_free(pixels);
    } catch (const Error& e) {
      f.problem = e.what();
    }
  };
  const int64_t n = int64_t(files.size());
  if (n < 5000) return for_each_index(n, decode);
  for_each_index(n, decode, [&](int64_t done) { std::fprintf(stderr, "decoding images: %lld of %lld\n", (long long)done, (long long)n); });
}

RawDataset load(const std::string& spec, const DataOptions& options) {
  Probed p = probe_folder(spec, options, true);
  RawDataset d;
  d.shape = p.shape;
  check_dataset_fits(d.shape, "loading " + spec);
  const int64_t image_bytes = int64_t(d.shape.channels) * d.shape.height * d.shape.width;
  PayloadBytes pixels(static_cast<size_t>(int64_t(p.files.size()) * image_bytes));
  decode_all(p.files, d.shape, pixels.data());
  // A file whose header read but whose pixels did not (a truncated PNG): the same rule as above.
  const int64_t bad = std::count_if(p.files.begin(), p.files.end(), [](const ImageFile& f) { return !f.problem.empty(); });
  if (bad > 0 && !options.skip_bad)
    throw Error(bad_file_message(*std::find_if(p.files.begin(), p.files.end(), [](const ImageFile& f) { return !f.problem.empty(); }), bad));
  if (bad > 0) std::fprintf(stderr, "%s: skipped %lld image file%s that failed to decode\n", printable(spec).c_str(), (long long)bad, bad == 1 ? "" : "s");
  RawSplit all, given_test;
  const bool whole = bad == 0 && !p.listing.given_split;
  if (whole) {  // the common case: every image, in order, no copy
    all.count = int64_t(p.files.size());
    all.pixels = std::move(pixels);
    for (const ImageFile& f : p.files) all.labels.push_back(f.label);
  }
  for (size_t i = 0; !whole && i < p.files.size(); ++i) {
    const ImageFile& f = p.files[i];
    if (!f.problem.empty()) continue;
    RawSplit& s = f.test ? given_test : all;
    s.pixels.insert(s.pixels.end(), pixels.data() + int64_t(i) * image_bytes, pixels.data() + int64_t(i + 1) * image_bytes);
    s.labels.push_back(f.label);
    ++s.count;
  }
  d.class_names = p.listing.classes;
  if (p.listing.given_split) {
    if (all.count == 0 || given_test.count == 0) throw Error(spec + ": " + (all.count == 0 ? "train/" : "test/") + " has no usable images");
    d.train = std::move(all);
    d.test = std::move(given_test);
  } else {
    split_held_out(std::move(all), image_bytes, options, spec, &d.train, &d.test);
  }
  d.shape.train_size = d.train.count;
  d.shape.test_size = d.test.count;
  return d;
}

bool is_folder(const std::string& spec) {
  struct stat st {};
  return ::stat(spec.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

DataSourceEntry image_folder_source() {
  return {"image-folder", "a folder of images: <class>/*.png|jpg|jpeg|bmp|gif|tga, flat, or train/ and test/", is_folder, shape_of, load};
}

}  // namespace latent
