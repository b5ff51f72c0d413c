#include "gl/ui_renderer.h"

#include <glad/gl.h>

#include <algorithm>
#include <cstddef>

#include "embedded_shaders.h"
#include "gl/image_renderer.h"
#include "gl/program.h"

namespace latent::app {

namespace {

void scissor(const ui::PixelRect& r, int fb_height) { glScissor(r.x0, fb_height - r.y1, r.width(), r.height()); }

}  // namespace

std::string UiRenderer::init(const std::string& shader_dir, const float clear_rgb[3]) {
  for (int i = 0; i < 3; ++i) clear_[i] = clear_rgb[i];
  BuiltProgram built = build_program(shader_dir, "ui", embedded_shaders::ui_vert, embedded_shaders::ui_frag);
  program_ = built.id;
  if (!program_) return built.problem;
  u_projection_ = glGetUniformLocation(program_, "u_projection");
  u_texture_ = glGetUniformLocation(program_, "u_texture");

  glGenVertexArrays(1, &vao_);
  glGenBuffers(1, &vbo_);
  glGenBuffers(1, &ebo_);
  glBindVertexArray(vao_);
  glBindBuffer(GL_ARRAY_BUFFER, vbo_);
  glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, ebo_);
  glEnableVertexAttribArray(0);
  glEnableVertexAttribArray(1);
  glEnableVertexAttribArray(2);
  glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, sizeof(ImDrawVert), reinterpret_cast<void*>(offsetof(ImDrawVert, pos)));
  glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, sizeof(ImDrawVert), reinterpret_cast<void*>(offsetof(ImDrawVert, uv)));
  glVertexAttribPointer(2, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(ImDrawVert), reinterpret_cast<void*>(offsetof(ImDrawVert, col)));
  glBindVertexArray(0);

  upload_fonts();
  ImGuiIO& io = ImGui::GetIO();
  io.BackendRendererName = "latent_ui_renderer";
  io.BackendFlags |= ImGuiBackendFlags_RendererHasVtxOffset;  // our indices are 32-bit, into all lists' vertices
  return built.problem;
}

void UiRenderer::upload_fonts() {
  ImGuiIO& io = ImGui::GetIO();
  unsigned char* pixels = nullptr;
  int width = 0, height = 0;
  io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);
  if (!font_texture_) glGenTextures(1, &font_texture_);
  glBindTexture(GL_TEXTURE_2D, font_texture_);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
  io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(font_texture_)));
  damage_.invalidate();
}

void UiRenderer::shutdown() {
  release(kept_);
  if (font_texture_) glDeleteTextures(1, &font_texture_);
  if (vbo_) glDeleteBuffers(1, &vbo_);
  if (ebo_) glDeleteBuffers(1, &ebo_);
  if (vao_) glDeleteVertexArrays(1, &vao_);
  if (program_) glDeleteProgram(program_);
  font_texture_ = vbo_ = ebo_ = vao_ = program_ = 0;
  vbo_bytes_ = ebo_bytes_ = 0;
  if (ImGui::GetCurrentContext()) ImGui::GetIO().Fonts->SetTexID(nullptr);
}

void UiRenderer::ensure_target(Target& target, int width, int height) {
  if (target.framebuffer && target.width == width && target.height == height) return;
  release(target);
  glGenTextures(1, &target.texture);
  glBindTexture(GL_TEXTURE_2D, target.texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  glGenFramebuffers(1, &target.framebuffer);
  glBindFramebuffer(GL_FRAMEBUFFER, target.framebuffer);
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, target.texture, 0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  target.width = width;
  target.height = height;
}

void UiRenderer::release(Target& target) {
  if (target.framebuffer) glDeleteFramebuffers(1, &target.framebuffer);
  if (target.texture) glDeleteTextures(1, &target.texture);
  target = Target{};
}

void UiRenderer::setup_state(const ImDrawData& frame, int fb_width, int fb_height) const {
  glEnable(GL_BLEND);
  glBlendEquation(GL_FUNC_ADD);
  glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
  glDisable(GL_CULL_FACE);
  glDisable(GL_DEPTH_TEST);
  glDisable(GL_STENCIL_TEST);
  glDisable(GL_PRIMITIVE_RESTART);
  glEnable(GL_SCISSOR_TEST);
  glPolygonMode(GL_FRONT_AND_BACK, GL_FILL);
  glViewport(0, 0, fb_width, fb_height);
  glUseProgram(program_);
  glUniformMatrix4fv(u_projection_, 1, GL_FALSE, imgui_projection(frame).data());
  glUniform1i(u_texture_, 0);
  glActiveTexture(GL_TEXTURE0);
  glBindSampler(0, 0);
  glBindVertexArray(vao_);
}

void UiRenderer::plan(const ImDrawData& frame, const std::vector<ui::PixelRect>& rects, int fb_width, int fb_height) {
  // Each rectangle from scratch: cleared, then every command that reaches it, clipped to it, in the
  // frame's order, with only the triangles whose bounds reach it (a pass over all of a window's
  // triangles for each small rectangle would cost more than its pixels). Callbacks run in every
  // pass, so the GL state each command sees is the one a full redraw would give it.
  ops_.clear();
  indices_.clear();
  int64_t list_base = 0;
  std::vector<int64_t> list_vertex_base(size_t(frame.CmdListsCount));
  for (int n = 0; n < frame.CmdListsCount; ++n) {
    list_vertex_base[size_t(n)] = list_base;
    list_base += frame.CmdLists[n]->VtxBuffer.Size;
  }
  const std::vector<ui::PixelRect>& triangle_bounds = damage_.triangle_bounds();
  for (const ui::PixelRect& rect : rects) {
    ops_.push_back({Op::Begin, rect, nullptr, nullptr, 0, 0});
    size_t next_triangle = 0;
    for (int n = 0; n < frame.CmdListsCount; ++n) {
      const ImDrawList* list = frame.CmdLists[n];
      for (const ImDrawCmd& cmd : list->CmdBuffer) {
        if (cmd.UserCallback) {
          ops_.push_back({Op::Callback, rect, list, &cmd, 0, 0});
          continue;
        }
        // The tracker's triangle bounds follow the commands whose whole clip is not empty.
        const ui::PixelRect whole_clip = ui::clip_to_pixels(cmd.ClipRect, frame, fb_width, fb_height);
        if (whole_clip.empty() || cmd.ElemCount == 0) continue;
        const ui::PixelRect* bounds = triangle_bounds.data() + next_triangle;
        next_triangle += cmd.ElemCount / 3;
        const ui::PixelRect clip = ui::intersect(whole_clip, rect);
        if (clip.empty()) continue;
        const size_t first = indices_.size();
        const ImDrawIdx* idx = list->IdxBuffer.Data + cmd.IdxOffset;
        const auto base = uint32_t(list_vertex_base[size_t(n)] + cmd.VtxOffset);
        for (unsigned i = 0; i + 2 < cmd.ElemCount; i += 3) {
          const ui::PixelRect& b = bounds[i / 3];
          if (b.x1 <= rect.x0 || b.x0 >= rect.x1 || b.y1 <= rect.y0 || b.y0 >= rect.y1) continue;
          indices_.insert(indices_.end(), {base + idx[i], base + idx[i + 1], base + idx[i + 2]});
        }
        if (indices_.size() > first)
          ops_.push_back({Op::Draw, clip, list, &cmd, first, indices_.size() - first});
      }
    }
  }
  // Every list's vertices once, then the chosen triangles, into storage kept from frame to frame.
  // Re-specifying it every frame (glBufferData, the usual orphaning) had llvmpipe allocate and zero
  // a fresh 0.3-0.6 MB block each time: a new mapping under the explorer's malloc policy, its pages
  // faulted in again every frame (--frame-log's page_faults, 2 minutes: the main thread's 389,000
  // faults became 81,000, frames with any 69 % -> 15 %). A frame is planned after the last one was
  // shown, so the rasteriser is done with the storage written into.
  const auto ensure = [](GLenum target, int64_t& capacity, int64_t bytes) {
    if (bytes <= capacity) return;
    capacity = std::max(bytes, capacity + capacity / 2);
    glBufferData(target, GLsizeiptr(capacity), nullptr, GL_DYNAMIC_DRAW);
  };
  glBindVertexArray(vao_);
  glBindBuffer(GL_ARRAY_BUFFER, vbo_);
  ensure(GL_ARRAY_BUFFER, vbo_bytes_, list_base * int64_t(sizeof(ImDrawVert)));
  for (int n = 0; n < frame.CmdListsCount; ++n) {
    const ImDrawList* list = frame.CmdLists[n];
    glBufferSubData(GL_ARRAY_BUFFER, GLintptr(list_vertex_base[size_t(n)] * sizeof(ImDrawVert)),
                    GLsizeiptr(list->VtxBuffer.Size * sizeof(ImDrawVert)), list->VtxBuffer.Data);
  }
  ensure(GL_ELEMENT_ARRAY_BUFFER, ebo_bytes_, int64_t(indices_.size() * sizeof(uint32_t)));
  glBufferSubData(GL_ELEMENT_ARRAY_BUFFER, 0, GLsizeiptr(indices_.size() * sizeof(uint32_t)), indices_.data());
}

void UiRenderer::draw(const ImDrawData& frame, const std::vector<ui::PixelRect>& rects, const Target& target) {
  const int w = target.width, h = target.height;
  plan(frame, rects, w, h);
  glBindFramebuffer(GL_FRAMEBUFFER, target.framebuffer);
  for (const Op& op : ops_) {
    switch (op.kind) {
      case Op::Begin:
        setup_state(frame, w, h);
        scissor(op.rect, h);
        glClearColor(clear_[0], clear_[1], clear_[2], 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        break;
      case Op::Callback:
        if (op.cmd->UserCallback == ImDrawCallback_ResetRenderState) setup_state(frame, w, h);
        else op.cmd->UserCallback(op.list, op.cmd);
        break;
      case Op::Draw:
        scissor(op.rect, h);
        glBindTexture(GL_TEXTURE_2D, GLuint(reinterpret_cast<intptr_t>(op.cmd->GetTexID())));
        glDrawElements(GL_TRIANGLES, GLsizei(op.count), GL_UNSIGNED_INT,
                       reinterpret_cast<void*>(intptr_t(op.first * sizeof(uint32_t))));
        break;
    }
  }
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

UiRenderer::Target UiRenderer::kept() const {
  if (!in_back_buffer_) return kept_;
  Target window;
  window.width = kept_.width;
  window.height = kept_.height;
  return window;
}

bool UiRenderer::render(const ImDrawData& frame) {
  const int w = int(frame.DisplaySize.x * frame.FramebufferScale.x);
  const int h = int(frame.DisplaySize.y * frame.FramebufferScale.y);
  rects_.clear();
  if (w <= 0 || h <= 0 || !program_) return false;
  if (kept_.width != w || kept_.height != h) {
    if (in_back_buffer_) kept_.width = w, kept_.height = h;
    else ensure_target(kept_, w, h);
    damage_.invalidate();
  }
  rects_ = damage_.update(frame, texture_version);
  if (rects_.empty()) return false;
  draw(frame, rects_, kept());
  return true;
}

void UiRenderer::present() {
  if (in_back_buffer_ || !kept_.framebuffer) return;
  glBindFramebuffer(GL_READ_FRAMEBUFFER, kept_.framebuffer);
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
  glDisable(GL_SCISSOR_TEST);
  glBlitFramebuffer(0, 0, kept_.width, kept_.height, 0, 0, kept_.width, kept_.height, GL_COLOR_BUFFER_BIT, GL_NEAREST);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

std::vector<unsigned char> UiRenderer::read_pixels(int& width, int& height) const {
  const Target target = kept();
  width = target.width;
  height = target.height;
  std::vector<unsigned char> pixels(size_t(width) * height * 4);
  if (width <= 0 || height <= 0) return pixels;
  glBindFramebuffer(GL_READ_FRAMEBUFFER, target.framebuffer);
  if (!target.framebuffer) glReadBuffer(GL_BACK);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
  return pixels;
}

int64_t UiRenderer::count_pixels_unlike_full_redraw(const ImDrawData& frame) {
  if (kept_.width <= 0 || kept_.height <= 0) return 0;
  // Into the same framebuffer, so that both go through the same pixel format: the window's
  // 24-bit back buffer and an RGBA8 texture can blend one unit apart.
  int w = 0, h = 0;
  const std::vector<unsigned char> damaged = read_pixels(w, h);
  draw(frame, {ui::PixelRect{0, 0, w, h}}, kept());
  const std::vector<unsigned char> full = read_pixels(w, h);
  int64_t differing = 0;
  for (size_t i = 0; i < damaged.size(); i += 4)
    differing += damaged[i] != full[i] || damaged[i + 1] != full[i + 1] || damaged[i + 2] != full[i + 2];
  return differing;
}

}  // namespace latent::app
