#pragma once
// What File -> Export and the views' PNG buttons write: the images as the screen shows them
// (through the same colormap), scaled by a whole factor, with an optional caption strip that says
// which model made them. No GL: tested without a display.
#include <cstdint>
#include <string>
#include <vector>

#include "latent/image_io.h"
#include "latent/recording.h"
#include "ui/colormap.h"

namespace latent::ui {

using RgbImage = latent::RgbImage;  // row-major, 3 bytes a pixel (latent/recording.h)

// Each gray value in [0, 1] through `map` (as shaders/image.frag draws it), or an RGB picture's
// colours as they are, each pixel as a factor x factor block (factor 1..8).
RgbImage colorize(const Picture& image, Colormap map, int factor);

// `image` with a strip below it holding `caption` in white on black, rendered from the TrueType
// font at `font_path`. Returns the image unchanged when the font cannot be read or the caption is
// empty.
RgbImage with_caption(const RgbImage& image, const std::string& caption, const std::string& font_path);

// Writes a PNG; throws latent::Error naming the path when it cannot.
void write_rgb_png(const std::string& path, const RgbImage& image);

// Where exports go by default: $XDG_PICTURES_DIR (the environment, else ~/.config/user-dirs.dirs)
// or ~/Pictures, then /latent-explorer.
std::string default_export_dir();

}  // namespace latent::ui
