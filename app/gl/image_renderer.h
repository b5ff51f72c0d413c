#pragma once
// Decoded images as GL textures, drawn inside ImGui windows through our own shader program
// (shaders/image.vert, image.frag) with a colormap. Main thread only: GL objects are created,
// updated and freed here and nowhere else.
#include <imgui.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "latent/arrays.h"
#include "ui/colormap.h"

namespace latent::app {

// The version of a texture's content: it changes whenever one of ours is uploaded or its sampling
// changes (0 for textures made elsewhere, such as the font atlas, which never change).
uint64_t texture_version(ImTextureID id);

// An image as a float texture: one channel (drawn through a colormap) or RGB (drawn as it is);
// `smooth` picks linear or nearest magnification.
class ImageTexture {
 public:
  ImageTexture() = default;
  ~ImageTexture();
  ImageTexture(const ImageTexture&) = delete;
  ImageTexture& operator=(const ImageTexture&) = delete;

  // Uploads `channels` (1 or 3) planes of width × height floats in [0, 1], row-major, top row first.
  void upload(const float* pixels, int width, int height, int channels = 1);
  // Uploads images [first, first + rows·cols) of a batch as one tiled texture with 1-pixel gaps.
  void upload_tiled(const ImageBatch& images, int rows, int cols, int64_t first = 0);
  void set_smooth(bool smooth);
  bool valid() const { return id_ != 0; }
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  bool smooth() const { return smooth_; }
  ImTextureID id() const { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(id_)); }

 private:
  unsigned id_ = 0;
  int width_ = 0, height_ = 0, channels_ = 1;
  bool smooth_ = false;
  std::vector<float> interleaved_;  // an RGB upload's pixels as GL takes them
  // upload_tiled()'s staging, kept: a fresh 1.3 MB vector for the 20×20 grid was 330 page faults
  // in the frame, 4.5 ms of it on this VM (the explorer maps blocks over 256 KiB; startup_heap.h).
  std::vector<float> tiled_;
};

// An RGBA8 texture drawn by ImGui's own program (for pictures that are already in colour), sampled
// nearest: ours are only drawn at their size or magnified (the pad's scatter, heatmaps).
class RgbaTexture {
 public:
  RgbaTexture() = default;
  ~RgbaTexture();
  RgbaTexture(const RgbaTexture&) = delete;
  RgbaTexture& operator=(const RgbaTexture&) = delete;
  // width × height pixels in ImGui's packed ABGR (R in the low byte), top row first.
  void upload(const uint32_t* pixels, int width, int height);
  bool valid() const { return id_ != 0; }
  ImTextureID id() const { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(id_)); }

 private:
  unsigned id_ = 0;
  int width_ = 0, height_ = 0;
};

class ImageRenderer {
 public:
  // Loads the shaders from `shader_dir` (falling back to the copies embedded at build time) and
  // links the program. Returns "" or a message saying what failed.
  std::string init(const std::string& shader_dir);
  void shutdown();
  // Where the shaders came from: a directory, or "embedded".
  const std::string& source() const { return source_; }

  // Queues `texture` into the window's draw list at [min, max], drawn by our program.
  void draw(ImDrawList* list, const ImageTexture& texture, ImVec2 min, ImVec2 max, ui::Colormap map) const;
  // Same, at the cursor, advancing it like ImGui::Image.
  void image(const ImageTexture& texture, ImVec2 size, ui::Colormap map) const;

 private:
  static void use_program(const ImDrawList* list, const ImDrawCmd* cmd);
  struct Program {
    unsigned id = 0;
    int u_projection = -1, u_image = -1;
  };
  // One per colormap, then one for RGB images (see shaders/image.frag).
  std::array<Program, ui::kColormapCount + 1> programs_;
  unsigned nearest_sampler_ = 0;                       // for images drawn at their size or larger
  std::string source_;
};

}  // namespace latent::app
