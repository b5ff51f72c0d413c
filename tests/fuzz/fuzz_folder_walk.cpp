// libFuzzer target: the image-folder walker on directory trees the input describes. Each pair of
// bytes is one entry: the first picks the kind (folder, image-named file, other file, symlink to an
// ancestor, to a sibling, to itself, dangling, hidden), the second where it goes and its name. The
// walk must list the tree or throw latent::Error: never crash, hang or loop through a symlink cycle.
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "data/folder_walk.h"
#include "fuzz_support.h"
#include "latent/error.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 128) return 0;  // a tree of at most 64 entries
  const fs::path root = latent::fuzz::scratch_path() + ".d";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root);
  std::vector<fs::path> folders = {root};
  static const char* const kNames[] = {"a", "b", "train", "test", "c.png", "d.JPG", "e.txt", ".h"};
  for (size_t i = 0; i + 1 < size; i += 2) {
    const uint8_t kind = data[i] % 8, where = data[i + 1];
    const fs::path& parent = folders[where % folders.size()];
    const fs::path path = parent / (std::string(kNames[(where / 16) % 8]) + std::to_string(i));
    switch (kind) {
      case 0: fs::create_directory(path, ec); if (!ec) folders.push_back(path); break;
      case 1: latent::fuzz::write_scratch(data, 0); fs::copy_file(latent::fuzz::scratch_path(), path.string() + ".png", ec); break;
      case 2: latent::fuzz::write_scratch(data, 0); fs::copy_file(latent::fuzz::scratch_path(), path.string() + ".csv", ec); break;
      case 3: fs::create_directory_symlink(parent == root ? "." : "..", path, ec); break;
      case 4: fs::create_directory_symlink(folders[where % folders.size()], path, ec); break;
      case 5: fs::create_symlink(path.filename(), path, ec); break;
      case 6: fs::create_symlink("missing", path, ec); break;
      case 7: fs::create_directory(parent / ".hidden", ec); break;
    }
  }
  try {
    const latent::FolderListing listing = latent::list_image_folder(root.string());
    LATENT_FUZZ_CHECK(!listing.train.empty() || !listing.test.empty());
    for (const auto* side : {&listing.train, &listing.test})
      for (const auto& image : *side) {
        LATENT_FUZZ_CHECK(latent::has_image_extension(image.path));
        LATENT_FUZZ_CHECK(image.label >= -1 && image.label < int32_t(listing.classes.size()));
      }
  } catch (const latent::Error&) {
  }
  fs::remove_all(root, ec);
  return 0;
}
