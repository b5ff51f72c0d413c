#include "gl/image_renderer.h"

#include <glad/gl.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "embedded_shaders.h"
#include "gl/program.h"

namespace latent::app {

namespace {

// Texture id -> the version its pixels (or sampling) last changed at. Versions come from one counter,
// so a texture id that GL hands out again never repeats an old version.
std::unordered_map<unsigned, uint64_t>& texture_versions() {
  static std::unordered_map<unsigned, uint64_t> versions;
  return versions;
}

void mark_texture_changed(unsigned id) {
  static uint64_t counter = 0;
  texture_versions()[id] = ++counter;
}

// Creates the texture on first use, then (re)specifies or updates its pixels. `minify_linear`: a
// texture drawn smaller than its size is filtered; one only ever drawn at its size or larger need
// not be, and sampling it nearest in both directions spares a software rasteriser the per-pixel
// choice between the two filters (llvmpipe, a blended 1024×640 quad: 3.3 → 2.1 ms).
void upload_texture(unsigned& id, int& width, int& height, bool smooth, bool minify_linear, int internal_format,
                    unsigned format, unsigned type, const void* pixels, int new_width, int new_height) {
  if (!id) {
    glGenTextures(1, &id);
    glBindTexture(GL_TEXTURE_2D, id);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, minify_linear ? GL_LINEAR : GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, smooth ? GL_LINEAR : GL_NEAREST);
  }
  glBindTexture(GL_TEXTURE_2D, id);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  if (new_width != width || new_height != height)
    glTexImage2D(GL_TEXTURE_2D, 0, internal_format, new_width, new_height, 0, format, type, pixels);
  else
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, new_width, new_height, format, type, pixels);
  width = new_width;
  height = new_height;
  mark_texture_changed(id);
}

}  // namespace

uint64_t texture_version(ImTextureID id) {
  const auto& versions = texture_versions();
  auto it = versions.find(unsigned(reinterpret_cast<intptr_t>(id)));
  return it == versions.end() ? 0 : it->second;
}

ImageTexture::~ImageTexture() {
  if (id_) glDeleteTextures(1, &id_);
}

void ImageTexture::upload(const float* pixels, int width, int height, int channels) {
  if (channels != channels_) width_ = height_ = 0;  // another format: specify the texture afresh
  channels_ = channels;
  if (channels != 3) return upload_texture(id_, width_, height_, smooth_, true, GL_R32F, GL_RED, GL_FLOAT, pixels, width, height);
  // GL takes RGB interleaved; ours are planes.
  const size_t plane = size_t(width) * height;
  interleaved_.resize(plane * 3);
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c) interleaved_[i * 3 + c] = pixels[c * plane + i];
  upload_texture(id_, width_, height_, smooth_, true, GL_RGB32F, GL_RGB, GL_FLOAT, interleaved_.data(), width, height);
}

void ImageTexture::upload_tiled(const ImageBatch& images, int rows, int cols, int64_t first) {
  const int w = images.width, h = images.height;
  const int tw = cols * (w + 1) - 1, th = rows * (h + 1) - 1, channels = images.channels;
  const size_t plane = size_t(tw) * th;
  tiled_.assign(plane * channels, 0.15f);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      int64_t i = first + int64_t(r) * cols + c;
      if (i >= images.count) break;
      for (int ch = 0; ch < channels; ++ch) {
        const float* src = images.image(i) + size_t(ch) * w * h;
        for (int y = 0; y < h; ++y)
          std::copy(src + y * w, src + (y + 1) * w,
                    tiled_.begin() + ch * plane + (size_t(r) * (h + 1) + y) * tw + size_t(c) * (w + 1));
      }
    }
  upload(tiled_.data(), tw, th, channels);
}

void ImageTexture::set_smooth(bool smooth) {
  if (smooth == smooth_) return;
  smooth_ = smooth;
  if (!id_) return;
  glBindTexture(GL_TEXTURE_2D, id_);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, smooth_ ? GL_LINEAR : GL_NEAREST);
  mark_texture_changed(id_);
}

RgbaTexture::~RgbaTexture() {
  if (id_) glDeleteTextures(1, &id_);
}

void RgbaTexture::upload(const uint32_t* pixels, int width, int height) {
  upload_texture(id_, width_, height_, false, false, GL_RGBA8, GL_RGBA, GL_UNSIGNED_BYTE, pixels, width, height);
}

namespace {

const ImageRenderer* g_renderer = nullptr;  // the callback has no user pointer for the renderer

// The callback's data: the colormap, and whether the image is drawn at least at its own size with
// nearest magnification, so that sampling it nearest in both directions gives the same pixels.
constexpr intptr_t kMapMask = 0xFF, kNearest = 0x100;

}  // namespace

std::string ImageRenderer::init(const std::string& shader_dir) {
  std::string problem;
  for (int map = 0; map <= ui::kColormapCount; ++map) {  // the last: RGB, no colormap
    BuiltProgram built = build_program(shader_dir, "image", embedded_shaders::image_vert, embedded_shaders::image_frag,
                                       "#define COLORMAP " + std::to_string(map) + "\n");
    if (problem.empty()) problem = built.problem;
    Program& p = programs_[size_t(map)];
    p.id = built.id;
    if (!p.id) {
      shutdown();
      return built.problem;
    }
    source_ = built.source;
    p.u_projection = glGetUniformLocation(p.id, "u_projection");
    p.u_image = glGetUniformLocation(p.id, "u_image");
  }
  glGenSamplers(1, &nearest_sampler_);
  glSamplerParameteri(nearest_sampler_, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glSamplerParameteri(nearest_sampler_, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glSamplerParameteri(nearest_sampler_, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glSamplerParameteri(nearest_sampler_, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  g_renderer = this;
  return problem;
}

void ImageRenderer::shutdown() {
  for (Program& p : programs_) {
    if (p.id) glDeleteProgram(p.id);
    p = Program{};
  }
  if (nearest_sampler_) glDeleteSamplers(1, &nearest_sampler_);
  nearest_sampler_ = 0;
  g_renderer = nullptr;
}

void ImageRenderer::use_program(const ImDrawList*, const ImDrawCmd* cmd) {
  const ImageRenderer* r = g_renderer;
  const ImDrawData* dd = ImGui::GetDrawData();
  if (!r || !dd) return;
  const intptr_t data = reinterpret_cast<intptr_t>(cmd->UserCallbackData);
  const intptr_t map = std::clamp<intptr_t>(data & kMapMask, 0, ui::kColormapCount);
  const Program& p = r->programs_[size_t(map)];
  glUseProgram(p.id);
  glUniformMatrix4fv(p.u_projection, 1, GL_FALSE, imgui_projection(*dd).data());
  glUniform1i(p.u_image, 0);
  glBindSampler(0, (data & kNearest) ? r->nearest_sampler_ : 0);  // the reset after the image unbinds it
}

void ImageRenderer::draw(ImDrawList* list, const ImageTexture& texture, ImVec2 min, ImVec2 max, ui::Colormap map) const {
  if (!texture.valid() || !programs_[0].id) return;
  const ImVec2 scale = ImGui::GetIO().DisplayFramebufferScale;
  const bool nearest = !texture.smooth() && (max.x - min.x) * scale.x >= float(texture.width()) &&
                       (max.y - min.y) * scale.y >= float(texture.height());
  // A colormap is for one value per pixel: colour images are drawn as they are.
  const intptr_t program = texture.channels() == 3 ? ui::kColormapCount : static_cast<intptr_t>(map);
  list->AddCallback(&ImageRenderer::use_program, reinterpret_cast<void*>(program | (nearest ? kNearest : 0)));
  list->AddImage(texture.id(), min, max);
  list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

void ImageRenderer::image(const ImageTexture& texture, ImVec2 size, ui::Colormap map) const {
  ImVec2 p = ImGui::GetCursorScreenPos();
  draw(ImGui::GetWindowDrawList(), texture, p, ImVec2(p.x + size.x, p.y + size.y), map);
  ImGui::Dummy(size);
}

}  // namespace latent::app
