#include "scene.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "install_dirs.h"
#include "latent/error.h"
#include "latent/files.h"

namespace latent::app {
namespace {

constexpr const char* kHeader = "latent-explorer scene ";
constexpr int kFormat = 1;
constexpr uintmax_t kMaxBytes = 64 * 1024;

// Splits a line into words at spaces; "double quotes" keep spaces in a word.
std::vector<std::string> words(const std::string& line, const std::string& where) {
  std::vector<std::string> out;
  std::string word;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted, any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) out.push_back(word), word.clear(), any = false;
    } else {
      word += c, any = true;
    }
  }
  if (quoted) throw Error(where + ": a quote is not closed");
  if (any) out.push_back(word);
  return out;
}

// The text after "key:", without the spaces that follow the colon.
std::string after_key(const std::string& line, size_t key_length) {
  const size_t start = line.find_first_not_of(" \t", key_length);
  return start == std::string::npos ? std::string() : line.substr(start);
}

bool takes_path(const std::string& flag) {
  return flag == "--resume" || flag == "--model" || flag == "--checkpoint" || flag == "--labels" || flag == "--compare";
}
// Flags that name where the explorer writes (or, --frames, when it quits, and --model-time-limit, how
// long the scene's own .pt may run): a scene may not carry them.
bool writes_files(const std::string& flag) {
  static const char* const flags[] = {"--autosave", "--checkpoint", "--screenshot", "--stats", "--frame-log",
                                      "--layout",   "--record",     "--out",        "--frames", "--model-time-limit"};
  return std::find(std::begin(flags), std::end(flags), flag) != std::end(flags);
}
// A dataset flag's value is a path only when there is such a file or folder (else it is a name).
bool takes_dataset(const std::string& flag) { return flag == "--data" || flag == "--ood"; }

// One line of text for a title or watch line: line breaks become spaces.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

// `path` relative to `folder` when it lies inside it, else as it is.
std::string relative_inside(const std::string& path, const std::filesystem::path& folder) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) return path;
  const std::filesystem::path relative = absolute.lexically_relative(folder);
  if (relative.empty() || *relative.begin() == "..") return path;
  return relative.generic_string();
}

}  // namespace

Scene read_scene(const std::string& path) {
  const std::string kind = describe_path(path);
  if (kind == "missing") throw Error("scene " + path + ": no such file");
  if (!kind.empty()) throw Error("scene " + path + ": cannot be read (" + describe_unusable(kind) + ")");
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (ec || bytes > kMaxBytes) throw Error("scene " + path + ": " + (ec ? "cannot be read" : "over 64 KiB, not a scene"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("scene " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  if (all.find('\0') != std::string::npos) throw Error("scene " + path + ": a binary file, not a scene");

  Scene scene;
  scene.path = path;
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  std::istringstream lines(all);
  std::string line;
  int number = 0;
  bool header = false;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first);
    const std::string where = "scene " + path + " line " + std::to_string(number);
    if (!header) {
      if (line.rfind(kHeader, 0) != 0)
        throw Error("scene " + path + ": not a scene file (its first line should be \"" + kHeader + std::to_string(kFormat) + "\")");
      const std::string version = line.substr(std::string(kHeader).size());
      if (version != std::to_string(kFormat)) {
        char* end = nullptr;
        const long v = std::strtol(version.c_str(), &end, 10);
        if (end != version.c_str() && *end == '\0' && v > kFormat)
          throw Error("scene " + path + ": format " + version + " is newer than this explorer reads (" + std::to_string(kFormat) + ")");
        throw Error("scene " + path + ": unknown format '" + version + "'");
      }
      header = true;
      continue;
    }
    if (line.rfind("title:", 0) == 0) {
      scene.title = after_key(line, 6);
      continue;
    }
    if (line.rfind("watch:", 0) == 0) {
      scene.watch = after_key(line, 6);
      continue;
    }
    if (line.rfind("--", 0) != 0)
      throw Error(where + ": '" + line.substr(0, 40) + "' is neither a flag, title:, watch: nor a # comment");
    for (std::string& word : words(line, where)) scene.flags.push_back(std::move(word));
  }
  if (!header) throw Error("scene " + path + ": empty, not a scene");
  // A scene comes from someone else: it holds settings, never where the app writes, and it reads
  // only the files in its own folder (a scene and its checkpoint travel together).
  const std::filesystem::path inside = std::filesystem::weakly_canonical(folder, ec);
  std::vector<std::string> kept;
  for (size_t i = 0; i < scene.flags.size(); ++i) {
    std::string flag = scene.flags[i];
    const size_t equals = flag.find('=');
    const bool joined = equals != std::string::npos;
    std::string value = joined ? flag.substr(equals + 1) : std::string();
    if (joined) flag.resize(equals);
    const bool has_value = joined || (i + 1 < scene.flags.size() && scene.flags[i + 1].rfind("--", 0) != 0);
    if (!joined && has_value) value = scene.flags[i + 1];
    const size_t words_taken = (!joined && has_value) ? 2 : 1;
    if (writes_files(flag)) {
      scene.refused.push_back(flag + " (a scene does not choose where the explorer writes, when it quits or how long a model's "
                                     "code may run; give it on your own command line)");
      i += words_taken - 1;
      continue;
    }
    const bool path = takes_path(flag) || (takes_dataset(flag) && !value.empty() &&
                                           (std::filesystem::path(value).is_absolute() || std::filesystem::exists(folder / value, ec)));
    if (path && has_value) {
      const std::filesystem::path resolved = std::filesystem::path(value).is_absolute() ? std::filesystem::path(value) : folder / value;
      const std::filesystem::path real = std::filesystem::weakly_canonical(resolved, ec);
      const std::filesystem::path relative = real.lexically_relative(inside);
      if (ec || relative.empty() || *relative.begin() == "..") {
        scene.refused.push_back(flag + " " + value + " (outside the scene's folder " + inside.string() +
                                "; a scene opens only the files beside it)");
        i += words_taken - 1;
        continue;
      }
      value = resolved.string();
    }
    if (joined) {
      kept.push_back(flag + "=" + value);
    } else {
      kept.push_back(flag);
      if (has_value) kept.push_back(path ? value : scene.flags[i + 1]);
    }
    i += words_taken - 1;
  }
  scene.flags = std::move(kept);
  return scene;
}

void write_scene(const Scene& scene) {
  const std::filesystem::path folder = std::filesystem::absolute(scene.path).parent_path().lexically_normal();
  std::string text = std::string(kHeader) + std::to_string(kFormat) + "\n";
  if (!scene.title.empty()) text += "title: " + one_line(scene.title) + "\n";
  if (!scene.watch.empty()) text += "watch: " + one_line(scene.watch) + "\n";
  for (size_t i = 0; i < scene.flags.size(); ++i) {
    std::string word = scene.flags[i];
    const bool flag = word.rfind("--", 0) == 0;
    if (!flag && i > 0) {
      const std::string& before = scene.flags[i - 1];
      const bool path = takes_path(before) || (takes_dataset(before) && path_exists(word));
      if (path) word = relative_inside(word, folder);
    }
    if (word.find_first_of("\"\n\r") != std::string::npos)
      throw Error("scene " + scene.path + ": cannot be written: '" + one_line(word) + "' holds a quote or a line break");
    if (word.empty() || word.find_first_of(" \t#") != std::string::npos) word = "\"" + word + "\"";
    if (flag && i > 0) text += "\n";
    else if (i > 0) text += " ";
    text += word;
  }
  if (!scene.flags.empty()) text += "\n";
  if (text.size() > kMaxBytes) throw Error("scene " + scene.path + ": cannot be written: over 64 KiB");
  write_file_atomically(scene.path, text.data(), text.size(), "the scene");
}

std::vector<std::string> demo_scene_paths() {
  std::vector<std::string> paths;
  std::error_code ec;
  const std::string folder = data_dir(LATENT_SOURCE_SCENE_DIR, "scenes");
  if (!folder.empty())
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
      if (entry.path().extension() == ".scene") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string scene_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path a = std::filesystem::absolute(path, ec);
  return ec ? path : a.lexically_normal().string();
}

}  // namespace latent::app
