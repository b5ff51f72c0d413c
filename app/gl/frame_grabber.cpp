#include "gl/frame_grabber.h"

#include <glad/gl.h>

#include <cstring>

namespace latent::app {

FrameGrabber::~FrameGrabber() { release(); }

void FrameGrabber::release() {
  for (Slot& slot : slots_)
    if (slot.buffer) glDeleteBuffers(1, &slot.buffer), slot = Slot{};
}

void FrameGrabber::request(unsigned framebuffer, int x, int y, int width, int height, double seconds, std::string caption) {
  if (width <= 0 || height <= 0) return;
  Slot& slot = slots_[next_];
  next_ = 1 - next_;
  const size_t bytes = size_t(width) * height * 4;
  slot.pending = true;
  slot.width = width, slot.height = height, slot.seconds = seconds;
  slot.caption = std::move(caption);
  if (direct_) {
    slot.pixels.resize(bytes);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, framebuffer);
    if (!framebuffer) glReadBuffer(GL_BACK);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(x, y, width, height, GL_BGRA, GL_UNSIGNED_BYTE, slot.pixels.data());
    glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    return;
  }
  if (!slot.buffer) glGenBuffers(1, &slot.buffer);
  glBindBuffer(GL_PIXEL_PACK_BUFFER, slot.buffer);
  if (bytes > slot.bytes) {  // grown, never shrunk: a stable recording size re-specifies nothing
    glBufferData(GL_PIXEL_PACK_BUFFER, GLsizeiptr(bytes), nullptr, GL_STREAM_READ);
    slot.bytes = bytes;
  }
  glBindFramebuffer(GL_READ_FRAMEBUFFER, framebuffer);
  if (!framebuffer) glReadBuffer(GL_BACK);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  // BGRA: the layout of most window framebuffers, copied without converting each pixel.
  glReadPixels(x, y, width, height, GL_BGRA, GL_UNSIGNED_BYTE, nullptr);  // into the buffer, asynchronously
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
  glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
}

std::optional<CapturedFrame> FrameGrabber::take() {
  // The slot the next request would reuse holds the previous request: a frame old, its copy done.
  Slot& slot = slots_[next_];
  if (!slot.pending) return std::nullopt;
  slot.pending = false;
  CapturedFrame frame;
  frame.width = slot.width, frame.height = slot.height, frame.seconds = slot.seconds;
  frame.caption = std::move(slot.caption);
  const size_t bytes = size_t(slot.width) * slot.height * 4;
  if (direct_) {
    frame.pixels = std::move(slot.pixels);
    slot.pixels = {};
    return frame;
  }
  glBindBuffer(GL_PIXEL_PACK_BUFFER, slot.buffer);
  if (const void* data = glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, GLsizeiptr(bytes), GL_MAP_READ_BIT)) {
    frame.pixels.resize(bytes);
    std::memcpy(frame.pixels.data(), data, bytes);
    glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
  }
  glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
  if (frame.pixels.empty()) return std::nullopt;
  return frame;
}

std::vector<CapturedFrame> FrameGrabber::take_all() {
  std::vector<CapturedFrame> frames;
  for (int i = 0; i < 2; ++i) {  // the slot next_ names is the older one
    if (auto frame = take()) frames.push_back(std::move(*frame));
    next_ = 1 - next_;
  }
  return frames;
}

}  // namespace latent::app
