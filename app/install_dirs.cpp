#include "install_dirs.h"

#include <filesystem>

namespace latent::app {

std::string installed_share_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return "";
  return (exe.parent_path().parent_path() / "share" / "latent-explorer").string();
}

std::string data_dir(const std::string& source, const std::string& installed) {
  std::error_code ec;
  const std::string share = installed_share_dir();
  if (!share.empty() && std::filesystem::is_directory(share + "/" + installed, ec)) return share + "/" + installed;
  if (!source.empty() && std::filesystem::is_directory(source, ec)) return source;
  return "";
}

}  // namespace latent::app
