#include "data/folder_walk.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "latent/error.h"

namespace latent {
namespace {

const char* const kImageExtensions[] = {"png", "jpg", "jpeg", "bmp", "gif", "tga"};

std::string extension_of(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return "";
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

struct Entry {
  std::string name, path;
  bool directory = false;
};

// What a directory walk has seen: the folders open above the current one (a symlink back to one of
// them is a loop), and the running totals.
struct Walk {
  std::string root;
  std::vector<std::pair<dev_t, ino_t>> open;
  int64_t files = 0;
  FolderListing* listing = nullptr;

  void ignore(const std::string& name) {
    ++listing->ignored;
    const std::string ext = extension_of(name);
    const std::string kind = ext.empty() ? "(no extension)" : "." + ext;
    auto& kinds = listing->ignored_kinds;
    if (kinds.size() < 5 && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
};

// The entries of `dir`, sorted, hidden ones left out. A directory entry is one whose target (through
// symlinks) is a directory.
std::vector<Entry> read_entries(const std::string& dir, Walk& walk) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    const int e = errno;
    if (e == ENOENT) throw Error(dir + ": no such folder");
    if (e == ENOTDIR) throw Error(dir + ": not a folder");
    if (e == ELOOP) throw Error(dir + ": a symlink loop");
    if (e == EACCES) throw Error(dir + ": permission denied (cannot read the folder)");
    throw Error(dir + ": cannot read the folder (" + std::strerror(e) + ")");
  }
  std::vector<Entry> entries;
  while (const dirent* de = ::readdir(d)) {
    const std::string name = de->d_name;
    if (name.empty() || name[0] == '.') continue;
    Entry e{name, dir + "/" + name};
    struct stat st {};
    if (::stat(e.path.c_str(), &st) != 0) {
      if (errno == ELOOP) {
        ::closedir(d);
        throw Error(e.path + ": a symlink loop (the link resolves to itself)");
      }
      walk.ignore(name);  // a dangling link
      continue;
    }
    e.directory = S_ISDIR(st.st_mode);
    if (!e.directory && !S_ISREG(st.st_mode)) {
      walk.ignore(name);  // a FIFO, socket or device: never opened
      continue;
    }
    entries.push_back(std::move(e));
  }
  ::closedir(d);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return entries;
}

// Enters `dir`, checking that it is not one of the folders already open above it.
struct Enter {
  Walk& walk;
  Enter(Walk& w, const std::string& dir) : walk(w) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) throw Error(dir + ": cannot read the folder (" + std::strerror(errno) + ")");
    const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
    if (std::find(walk.open.begin(), walk.open.end(), id) != walk.open.end())
      throw Error(dir + ": a symlink loop (it leads back to a folder above it)");
    if (int(walk.open.size()) >= kFolderMaxDepth)
      throw Error(dir + ": folders nested more than " + std::to_string(kFolderMaxDepth) + " deep");
    walk.open.push_back(id);
  }
  ~Enter() { walk.open.pop_back(); }
};

// Every image under `dir`, at any depth, with `label`.
void collect(const std::string& dir, int32_t label, Walk& walk, std::vector<FolderImage>* out) {
  Enter enter(walk, dir);
  for (const Entry& e : read_entries(dir, walk)) {
    if (e.directory) {
      collect(e.path, label, walk, out);
    } else if (has_image_extension(e.name)) {
      if (++walk.files > kFolderMaxFiles)
        throw Error(walk.root + ": more than " + std::to_string(kFolderMaxFiles) + " images");
      out->push_back({e.path, label});
    } else {
      walk.ignore(e.name);
    }
  }
}

// One side of the layout: `dir` by class subfolders, or flat. Returns the class names it found (in
// order) with the images labelled by their index in that list.
std::vector<std::string> list_side(const std::string& dir, Walk& walk, std::vector<FolderImage>* out) {
  Enter enter(walk, dir);
  const std::vector<Entry> entries = read_entries(dir, walk);
  if (entries.empty()) throw Error(dir + ": the folder is empty");
  const bool by_class = std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.directory; });
  std::vector<std::string> classes;
  for (const Entry& e : entries) {
    if (e.directory) {
      const size_t before = out->size();
      collect(e.path, int32_t(classes.size()), walk, out);
      if (out->size() == before) throw Error(e.path + ": a class folder with no images (.png, .jpg, .jpeg, .bmp, .gif or .tga)");
      classes.push_back(e.name);
    } else if (has_image_extension(e.name) && !by_class) {
      if (++walk.files > kFolderMaxFiles)
        throw Error(walk.root + ": more than " + std::to_string(kFolderMaxFiles) + " images");
      out->push_back({e.path, -1});
    } else {
      walk.ignore(e.name);  // with class folders, an image beside them belongs to no class
    }
  }
  return classes;
}

}  // namespace

bool has_image_extension(const std::string& name) {
  const std::string ext = extension_of(name);
  return std::find(std::begin(kImageExtensions), std::end(kImageExtensions), ext) != std::end(kImageExtensions);
}

FolderListing list_image_folder(const std::string& root_in) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  FolderListing listing;
  Walk walk{root, {}, 0, &listing};
  const std::vector<Entry> top = read_entries(root, walk);
  auto has_dir = [&](const char* name) {
    return std::any_of(top.begin(), top.end(), [&](const Entry& e) { return e.directory && e.name == name; });
  };
  if (has_dir("train") && has_dir("test")) {
    listing.given_split = true;
    Enter enter(walk, root);
    for (const Entry& e : top)
      if (e.name != "train" && e.name != "test") walk.ignore(e.name);
    std::vector<std::string> train_classes = list_side(root + "/train", walk, &listing.train);
    std::vector<std::string> test_classes = list_side(root + "/test", walk, &listing.test);
    if (train_classes.empty() != test_classes.empty())
      throw Error(root + ": " + (train_classes.empty() ? "train/ is flat but test/" : "test/ is flat but train/") +
                  " has class folders; both need class folders, or neither");
    // One list of classes for both sides, sorted, with each side's labels mapped onto it.
    std::set<std::string> all(train_classes.begin(), train_classes.end());
    all.insert(test_classes.begin(), test_classes.end());
    listing.classes.assign(all.begin(), all.end());
    auto relabel = [&](std::vector<FolderImage>& images, const std::vector<std::string>& names) {
      for (auto& image : images)
        if (image.label >= 0)
          image.label = int32_t(std::lower_bound(listing.classes.begin(), listing.classes.end(), names[size_t(image.label)]) -
                                listing.classes.begin());
    };
    relabel(listing.train, train_classes);
    relabel(listing.test, test_classes);
  } else {
    if (top.empty())
      throw Error(root + (listing.ignored ? ": no images in the folder (only hidden or special files)" : ": the folder is empty"));
    listing.ignored = 0;  // list_side reads the root again, counting what it skips
    listing.ignored_kinds.clear();
    listing.classes = list_side(root, walk, &listing.train);
  }
  if (listing.train.empty() && listing.test.empty()) {
    std::string kinds;
    for (const auto& k : listing.ignored_kinds) kinds += (kinds.empty() ? "" : " ") + k;
    throw Error(root + ": no images (.png, .jpg, .jpeg, .bmp, .gif or .tga)" +
                (listing.ignored ? "; " + std::to_string(listing.ignored) + " other files (" + kinds + ")" : std::string()));
  }
  return listing;
}

}  // namespace latent
