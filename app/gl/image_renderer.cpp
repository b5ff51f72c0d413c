#include "gl/image_renderer.h"

#include <glad/gl.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "embedded_shaders.h"

namespace latent::app {

namespace {

// Creates the texture on first use, then (re)specifies or updates its pixels.
void upload_texture(unsigned& id, int& width, int& height, bool smooth, int internal_format, unsigned format,
                    unsigned type, const void* pixels, int new_width, int new_height) {
  if (!id) {
    glGenTextures(1, &id);
    glBindTexture(GL_TEXTURE_2D, id);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
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
}

}  // namespace

GrayTexture::~GrayTexture() {
  if (id_) glDeleteTextures(1, &id_);
}

void GrayTexture::upload(const float* pixels, int width, int height) {
  upload_texture(id_, width_, height_, smooth_, GL_R32F, GL_RED, GL_FLOAT, pixels, width, height);
}

void GrayTexture::upload_tiled(const ImageBatch& images, int rows, int cols, int64_t first) {
  const int w = images.width, h = images.height;
  const int tw = cols * (w + 1) - 1, th = rows * (h + 1) - 1;
  std::vector<float> tiled(size_t(tw) * th, 0.15f);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      int64_t i = first + int64_t(r) * cols + c;
      if (i >= images.count) break;
      const float* src = images.image(i);
      for (int y = 0; y < h; ++y)
        std::copy(src + y * w, src + (y + 1) * w, tiled.begin() + (size_t(r) * (h + 1) + y) * tw + size_t(c) * (w + 1));
    }
  upload(tiled.data(), tw, th);
}

void GrayTexture::set_smooth(bool smooth) {
  if (smooth == smooth_) return;
  smooth_ = smooth;
  if (!id_) return;
  glBindTexture(GL_TEXTURE_2D, id_);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, smooth_ ? GL_LINEAR : GL_NEAREST);
}

RgbaTexture::~RgbaTexture() {
  if (id_) glDeleteTextures(1, &id_);
}

void RgbaTexture::upload(const uint32_t* pixels, int width, int height) {
  upload_texture(id_, width_, height_, false, GL_RGBA8, GL_RGBA, GL_UNSIGNED_BYTE, pixels, width, height);
}

namespace {

const ImageRenderer* g_renderer = nullptr;  // the callback has no user pointer for the renderer

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

unsigned compile(unsigned kind, const std::string& source, std::string& log) {
  unsigned shader = glCreateShader(kind);
  const char* text = source.c_str();
  glShaderSource(shader, 1, &text, nullptr);
  glCompileShader(shader);
  int ok = 0;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char buf[2048];
    glGetShaderInfoLog(shader, sizeof buf, nullptr, buf);
    log = buf;
    glDeleteShader(shader);
    return 0;
  }
  return shader;
}

unsigned link(const std::string& vert, const std::string& frag, std::string& log) {
  unsigned vs = compile(GL_VERTEX_SHADER, vert, log);
  if (!vs) return 0;
  unsigned fs = compile(GL_FRAGMENT_SHADER, frag, log);
  if (!fs) {
    glDeleteShader(vs);
    return 0;
  }
  unsigned program = glCreateProgram();
  glAttachShader(program, vs);
  glAttachShader(program, fs);
  glLinkProgram(program);
  glDeleteShader(vs);
  glDeleteShader(fs);
  int ok = 0;
  glGetProgramiv(program, GL_LINK_STATUS, &ok);
  if (!ok) {
    char buf[2048];
    glGetProgramInfoLog(program, sizeof buf, nullptr, buf);
    log = buf;
    glDeleteProgram(program);
    return 0;
  }
  return program;
}

}  // namespace

std::string ImageRenderer::init(const std::string& shader_dir) {
  std::string vert, frag, log, problem;
  if (read_file(shader_dir + "/image.vert", vert) && read_file(shader_dir + "/image.frag", frag)) {
    program_ = link(vert, frag, log);
    if (program_) source_ = shader_dir;
    else problem = "shaders in " + shader_dir + " failed (" + log + "); using the embedded copy";
  }
  if (!program_) {
    program_ = link(embedded_shaders::image_vert, embedded_shaders::image_frag, log);
    if (!program_) return "image shader failed to build: " + log;
    source_ = "embedded";
  }
  u_projection_ = glGetUniformLocation(program_, "u_projection");
  u_image_ = glGetUniformLocation(program_, "u_image");
  u_colormap_ = glGetUniformLocation(program_, "u_colormap");
  g_renderer = this;
  return problem;
}

void ImageRenderer::shutdown() {
  if (program_) glDeleteProgram(program_);
  program_ = 0;
  g_renderer = nullptr;
}

void ImageRenderer::use_program(const ImDrawList*, const ImDrawCmd* cmd) {
  const ImageRenderer* r = g_renderer;
  const ImDrawData* dd = ImGui::GetDrawData();
  if (!r || !dd) return;
  // The same orthographic projection ImGui's OpenGL3 backend sets up.
  const float L = dd->DisplayPos.x, R = dd->DisplayPos.x + dd->DisplaySize.x;
  const float T = dd->DisplayPos.y, B = dd->DisplayPos.y + dd->DisplaySize.y;
  const float ortho[4][4] = {{2.0f / (R - L), 0, 0, 0},
                             {0, 2.0f / (T - B), 0, 0},
                             {0, 0, -1, 0},
                             {(R + L) / (L - R), (T + B) / (B - T), 0, 1}};
  glUseProgram(r->program_);
  glUniformMatrix4fv(r->u_projection_, 1, GL_FALSE, &ortho[0][0]);
  glUniform1i(r->u_image_, 0);
  glUniform1i(r->u_colormap_, int(reinterpret_cast<intptr_t>(cmd->UserCallbackData)));
}

void ImageRenderer::draw(ImDrawList* list, const GrayTexture& texture, ImVec2 min, ImVec2 max, ui::Colormap map) const {
  if (!texture.valid() || !program_) return;
  list->AddCallback(&ImageRenderer::use_program, reinterpret_cast<void*>(static_cast<intptr_t>(map)));
  list->AddImage(texture.id(), min, max);
  list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

void ImageRenderer::image(const GrayTexture& texture, ImVec2 size, ui::Colormap map) const {
  ImVec2 p = ImGui::GetCursorScreenPos();
  draw(ImGui::GetWindowDrawList(), texture, p, ImVec2(p.x + size.x, p.y + size.y), map);
  ImGui::Dummy(size);
}

}  // namespace latent::app
