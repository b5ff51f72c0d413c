#pragma once
// Internal: where datasets come from. A source reads one kind of input (IDX files, an image folder,
// a .npy file, a generated set) into plain arrays; Dataset wraps them. Adding a kind is one file in
// sources/ and one line in data_sources() (registry.cpp). No LibTorch here.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "latent/dataset.h"
#include "data/pixels.h"
#include "latent/idx.h"

namespace latent {

// One split: count images of the shape's C·H·W bytes each, channel planes one after another.
struct RawSplit {
  int64_t count = 0;
  PayloadBytes pixels;
  std::vector<int32_t> labels;   // count entries (kUnlabeled where there are none)
  std::vector<int32_t> factors;  // count × factors.size() value indices (generated sets)
};

struct RawDataset {
  DatasetShape shape;
  std::vector<std::string> class_names;  // shape.classes entries
  std::vector<Factor> factors;
  RawSplit train, test;
};

struct DataSourceEntry {
  const char* kind;         // "idx", "image-folder", "npy", "shapes"
  const char* description;  // for --help and messages
  // Whether this source reads `spec` (a name it owns, a file or directory of its kind). Cheap: a
  // name compare or a look at a path, never a read of the data.
  bool (*claims)(const std::string& spec);
  // The shape the data will have, with every check short of decoding. Throws latent::Error.
  DatasetShape (*probe)(const std::string& spec, const DataOptions& options);
  RawDataset (*load)(const std::string& spec, const DataOptions& options);
};

// The entries, one per file in sources/.
DataSourceEntry named_idx_source();     // mnist, fashion-mnist (sources/idx_source.cpp)
DataSourceEntry idx_directory_source();  // a directory of the four IDX files
DataSourceEntry shapes_source();         // sources/shapes_source.cpp
DataSourceEntry npy_source();            // sources/npy_source.cpp
DataSourceEntry image_folder_source();   // sources/image_folder_source.cpp

// The registry, in the order specs are tried: the names first, then files and directories.
const std::vector<DataSourceEntry>& data_sources();
// The first entry that claims `spec`; Error when none does, saying what `spec` is and what --data takes.
const DataSourceEntry& data_source_for(const std::string& spec);

// A named set: its registry name, where scripts/setup puts it, and its class names.
struct NamedDataset {
  const char* name;
  const char* install_hint;  // what to do when it is not found
  std::vector<std::string> class_names;
};
const NamedDataset* find_named_dataset(const std::string& name);

// Shared by the sources: the rules every kind follows, in one place.

// The channel count --color asks for, given whether any image is stored in colour.
int output_channels(const DataOptions& options, bool any_colour);
// The final size: --size when given, else the images' own.
void output_size(const DataOptions& options, int height, int width, int* out_height, int* out_width);
// Checks the options a source cannot check itself (--test-split's range, --size's bounds).
void check_data_options(const DataOptions& options);
// The deterministic held-out split of `n` items: which indices go to the test split (sorted), by
// options.test_split. Error when n < 2.
std::vector<int64_t> held_out_indices(int64_t n, const DataOptions& options, const std::string& what);
// Splits `all` into train and test by held_out_indices, keeping order within each.
void split_held_out(RawSplit&& all, int64_t image_bytes, const DataOptions& options, const std::string& what,
                    RawSplit* train, RawSplit* test);
// The memory the loaded set will take, against what the machine allows (resources.h).
void check_dataset_fits(const DatasetShape& shape, const std::string& what);
// "0", "1", ... for labels without names: as many as the largest label + 1.
std::vector<std::string> numbered_classes(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

// Runs body(i) for i in [0, count) on every core (up to 8 threads; one for 64 items or fewer). With
// `progress`, the calling thread only reports: progress(done) about once a second until all are done.
void for_each_index(int64_t count, const std::function<void(int64_t)>& body,
                    const std::function<void(int64_t done)>& progress = nullptr);

// Brings `count` decoded images (image(i) gives the i-th) to out_channels planes of out_height ×
// out_width bytes each, image after image, into `out`, on every core (pixels.h says how).
void conform_images(int64_t count, const std::function<PixelView(int64_t)>& image, int out_channels,
                    int out_height, int out_width, uint8_t* out);

// The largest image side a dataset may have (after --size): larger ones would not fit a model.
constexpr int kMaxImageSide = 4096;

}  // namespace latent
