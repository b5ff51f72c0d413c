#pragma once
// Internal: the image files of a folder in torchvision's ImageFolder layout, and what they are for.
//   root/<class>/**/*.png|jpg|jpeg|bmp|gif|tga     one class per subfolder (nested folders inside it count)
//   root/*.png ...                                  a flat folder: unlabeled
//   root/train/<class>/...  root/test/<class>/...   the split given (each side flat or by class)
// Names starting with '.' are skipped; files of other kinds are counted, not read. Entries are sorted
// by name, so the same folder always lists the same way. No LibTorch here.
#include <cstdint>
#include <string>
#include <vector>

namespace latent {

struct FolderImage {
  std::string path;
  int32_t label = -1;  // index into FolderListing::classes, or -1 (unlabeled)
};

struct FolderListing {
  std::vector<FolderImage> train, test;  // test is empty unless the folder gives the split
  bool given_split = false;
  std::vector<std::string> classes;      // sorted; empty for an unlabeled folder
  int64_t ignored = 0;                   // files that are not images, and images outside any class folder
  std::vector<std::string> ignored_kinds;  // a few of their extensions, for the message
};

// Limits on what a walk will follow: a tree this deep or this large is a mistake, not a dataset.
constexpr int kFolderMaxDepth = 32;
constexpr int64_t kFolderMaxFiles = 20'000'000;

// Whether a file name has one of the image extensions above (any case).
bool has_image_extension(const std::string& name);

// Throws latent::Error: `root` is not a readable folder, it is empty, it holds no images, a class
// folder holds none, a symlink loops back to a folder above it, the tree is too deep or too large.
FolderListing list_image_folder(const std::string& root);

}  // namespace latent
