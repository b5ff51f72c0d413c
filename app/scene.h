#pragma once
// A scene: a setup of the explorer in one text file, for a class or a demo. Its first line is
// "latent-explorer scene 1"; then "title:" and "watch:" lines (what it shows, and what to watch),
// '#' comments, and the explorer's own command-line flags, any number to a line:
//
//   latent-explorer scene 1
//   title: beta-VAE on shapes
//   watch: each traversal row changes one factor of the image
//   --data shapes --size 32x32 --latent 10 --beta 4
//   --views traversal,gallery,curves --lesson 10 --train
//
// `latent-explorer --scene FILE` starts with the scene's flags, then the command line's (which win).
// A path in the scene (--resume, --model, --labels, --compare, or a --data or --ood folder) is
// relative to the scene's own folder and must lie inside it. A scene is a file from someone else:
// it carries settings and the files beside it, never where the explorer writes (see Scene::refused).
#include <string>
#include <vector>

namespace latent::app {

struct Scene {
  std::string path;
  std::string title, watch;
  std::vector<std::string> flags;  // as on a command line, paths made absolute
  // What read_scene left out, each with why: flags that choose where the explorer writes (--autosave,
  // --checkpoint, --screenshot, --stats, --frame-log, --layout, --record, --out) or when it quits
  // (--frames), and files outside the scene's folder (absolute, "..", or a symlink out of it).
  std::vector<std::string> refused;
};

// Writes `scene` to scene.path in the form read_scene reads: the header, title and watch lines,
// then each flag with its value on a line. A path inside the scene's folder is written relative to
// it, so that a scene and its checkpoint can be moved or mailed together. Words with spaces are
// quoted; a word holding a double quote or a line break cannot be written and throws. Throws
// latent::Error naming the file when it cannot be written; an existing file is replaced whole or
// left as it was.
void write_scene(const Scene& scene);

// Reads a scene; throws latent::Error naming the file (and the line) for anything that is not one:
// no such file, not a regular file, over 64 KiB, no header, a newer format, an unclosed quote.
Scene read_scene(const std::string& path);

// A scene's words for a number ("%.6g") and for a path (made absolute and normal; write_scene makes
// it relative when it lies in the scene's folder; as given when it cannot be made absolute).
std::string scene_number(double value);
std::string absolute_path(const std::string& path);

// The scenes shipped with the explorer (its demos), each file's path, sorted by name; the folder is
// the source tree's assets/scenes, or the installed copy.
std::vector<std::string> demo_scene_paths();

}  // namespace latent::app
