#include "ui/damage.h"

#include <cctype>
#include <string>

#include <algorithm>
#include <cstring>
#include <limits>

namespace latent::ui {

namespace {

constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + kMul + (h << 6) + (h >> 2);
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 32);
}

uint64_t hash_bytes(const void* data, size_t size, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (; size >= 8; size -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = mix(h, v);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, size);
  return mix(h, tail ^ size);
}

// Order matters within a tile (blending), so the combination is not commutative.
uint64_t append(uint64_t tile_hash, uint64_t item) { return ((tile_hash << 7) | (tile_hash >> 57)) * kMul ^ item; }

// floor and ceil without a libm call (the x86-64 baseline has no SSE4.1 rounding instruction), for
// coordinates well inside int's range.
int floor_int(float v) {
  const int i = int(v);
  return i - (float(i) > v);
}
int ceil_int(float v) {
  const int i = int(v);
  return i + (float(i) < v);
}

PixelRect bounds(const PixelRect& a, const PixelRect& b) {
  return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

}  // namespace

bool is_software_rasterizer(const char* gl_renderer) {
  if (!gl_renderer) return false;
  std::string name(gl_renderer);
  for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char* cpu : {"llvmpipe", "softpipe", "swrast", "software rasterizer", "swr ", "gdi generic"})
    if (name.find(cpu) != std::string::npos) return true;
  return false;
}

PixelRect intersect(const PixelRect& a, const PixelRect& b) {
  PixelRect r{std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
  if (r.empty()) return {};
  return r;
}

PixelRect clip_to_pixels(const ImVec4& clip, const ImDrawData& frame, int fb_width, int fb_height) {
  const ImVec2 off = frame.DisplayPos, scale = frame.FramebufferScale;
  const float min_x = (clip.x - off.x) * scale.x, min_y = (clip.y - off.y) * scale.y;
  const float max_x = (clip.z - off.x) * scale.x, max_y = (clip.w - off.y) * scale.y;
  if (max_x <= min_x || max_y <= min_y) return {};
  // The backend's glScissor(x, fb_height - max_y, max_x - min_x, max_y - min_y), each cast to int,
  // turned back into top-left coordinates.
  const int x = int(min_x), w = int(max_x - min_x);
  const int gl_y = int(float(fb_height) - max_y), h = int(max_y - min_y);
  return intersect({x, fb_height - gl_y - h, x + w, fb_height - gl_y}, {0, 0, fb_width, fb_height});
}

PixelRect triangle_pixels(const ImDrawVert& a, const ImDrawVert& b, const ImDrawVert& c, const ImDrawData& frame) {
  const ImVec2 off = frame.DisplayPos, scale = frame.FramebufferScale;
  float min_x = a.pos.x, max_x = a.pos.x, min_y = a.pos.y, max_y = a.pos.y;
  for (const ImDrawVert* v : {&b, &c}) {
    min_x = v->pos.x < min_x ? v->pos.x : min_x;
    max_x = v->pos.x > max_x ? v->pos.x : max_x;
    min_y = v->pos.y < min_y ? v->pos.y : min_y;
    max_y = v->pos.y > max_y ? v->pos.y : max_y;
  }
  // Far off-screen vertices (ImGui parks hidden items at -FLT_MAX/2) stay representable.
  constexpr float kLimit = 1 << 24;
  auto to_pixel = [&](float v, float o, float s) { return std::clamp((v - o) * s, -kLimit, kLimit); };
  return {floor_int(to_pixel(min_x, off.x, scale.x)) - 1, floor_int(to_pixel(min_y, off.y, scale.y)) - 1,
          ceil_int(to_pixel(max_x, off.x, scale.x)) + 1, ceil_int(to_pixel(max_y, off.y, scale.y)) + 1};
}

DamageTracker::DamageTracker(int tile_size, int max_rects) : tile_(std::max(8, tile_size)), max_rects_(std::max(1, max_rects)) {}

std::vector<PixelRect> DamageTracker::update(const ImDrawData& frame, const TextureVersion& texture_version) {
  const int fb_width = int(frame.DisplaySize.x * frame.FramebufferScale.x);
  const int fb_height = int(frame.DisplaySize.y * frame.FramebufferScale.y);
  if (fb_width <= 0 || fb_height <= 0) {
    damaged_fraction_ = 0;
    return {};
  }
  if (fb_width != fb_width_ || fb_height != fb_height_) {
    fb_width_ = fb_width, fb_height_ = fb_height;
    cols_ = (fb_width + tile_ - 1) / tile_;
    rows_ = (fb_height + tile_ - 1) / tile_;
    valid_ = false;
  }
  // Everything that places vertices on the framebuffer goes into every tile's seed.
  uint64_t seed = 0;
  seed = hash_bytes(&frame.DisplayPos, sizeof frame.DisplayPos, seed);
  seed = hash_bytes(&frame.DisplaySize, sizeof frame.DisplaySize, seed);
  seed = hash_bytes(&frame.FramebufferScale, sizeof frame.FramebufferScale, seed);
  previous_.swap(hashes_);
  hashes_.assign(size_t(cols_) * rows_, seed);

  bounds_.clear();
  uint64_t state = 0;  // what the last callback set; 0 = the renderer's own state
  for (int n = 0; n < frame.CmdListsCount; ++n) {
    const ImDrawList* list = frame.CmdLists[n];
    for (const ImDrawCmd& cmd : list->CmdBuffer) {
      if (cmd.UserCallback) {
        state = cmd.UserCallback == ImDrawCallback_ResetRenderState
                    ? 0
                    : mix(mix(reinterpret_cast<uintptr_t>(cmd.UserCallback), reinterpret_cast<uintptr_t>(cmd.UserCallbackData)), 1);
        continue;
      }
      const PixelRect clip = clip_to_pixels(cmd.ClipRect, frame, fb_width, fb_height);
      if (clip.empty() || cmd.ElemCount == 0) continue;
      uint64_t command = mix(state, reinterpret_cast<uintptr_t>(cmd.GetTexID()));
      command = mix(command, texture_version(cmd.GetTexID()));
      command = hash_bytes(&clip, sizeof clip, command);
      const ImDrawIdx* idx = list->IdxBuffer.Data + cmd.IdxOffset;
      const ImDrawVert* vtx = list->VtxBuffer.Data + cmd.VtxOffset;
      for (unsigned i = 0; i + 2 < cmd.ElemCount; i += 3) {
        const ImDrawVert& a = vtx[idx[i]];
        const ImDrawVert& b = vtx[idx[i + 1]];
        const ImDrawVert& c = vtx[idx[i + 2]];
        const PixelRect covered = intersect(clip, triangle_pixels(a, b, c, frame));
        bounds_.push_back(covered);
        if (covered.empty()) continue;
        const ImDrawVert triangle[3] = {a, b, c};
        const uint64_t h = hash_bytes(triangle, sizeof triangle, command);
        for (int ty = covered.y0 / tile_; ty <= (covered.y1 - 1) / tile_; ++ty)
          for (int tx = covered.x0 / tile_; tx <= (covered.x1 - 1) / tile_; ++tx) {
            uint64_t& t = hashes_[size_t(ty) * cols_ + tx];
            t = append(t, h);
          }
      }
    }
  }

  std::vector<uint8_t> dirty(hashes_.size(), 1);
  if (valid_ && previous_.size() == hashes_.size())
    for (size_t i = 0; i < hashes_.size(); ++i) dirty[i] = hashes_[i] != previous_[i];
  valid_ = true;
  std::vector<PixelRect> rects = merge_tiles(dirty);
  int64_t area = 0;
  for (const PixelRect& r : rects) area += r.area();
  damaged_fraction_ = std::min(1.0, double(area) / (double(fb_width) * fb_height));
  return rects;
}

std::vector<PixelRect> DamageTracker::merge_tiles(const std::vector<uint8_t>& dirty) const {
  // Runs of dirty tiles along each row, stacked into taller rectangles where consecutive rows'
  // runs line up.
  std::vector<PixelRect> rects;
  std::vector<size_t> open;  // rects that ended on the previous row
  for (int ty = 0; ty < rows_; ++ty) {
    std::vector<size_t> now_open;
    const int y0 = ty * tile_, y1 = std::min(fb_height_, y0 + tile_);
    for (int tx = 0; tx < cols_;) {
      if (!dirty[size_t(ty) * cols_ + tx]) {
        ++tx;
        continue;
      }
      int end = tx;
      while (end < cols_ && dirty[size_t(ty) * cols_ + end]) ++end;
      const int x0 = tx * tile_, x1 = std::min(fb_width_, end * tile_);
      auto same = std::find_if(open.begin(), open.end(), [&](size_t i) { return rects[i].x0 == x0 && rects[i].x1 == x1; });
      if (same != open.end()) {
        rects[*same].y1 = y1;
        now_open.push_back(*same);
      } else {
        rects.push_back({x0, y0, x1, y1});
        now_open.push_back(rects.size() - 1);
      }
      tx = end;
    }
    open.swap(now_open);
  }
  return merge_rects(std::move(rects), max_rects_, int64_t(tile_) * tile_ * 4);
}

std::vector<PixelRect> merge_rects(std::vector<PixelRect> rects, int max_rects, int64_t pass_cost) {
  // Many scattered rectangles: first one per band of equal top and bottom, so the pairwise search
  // below stays small.
  if (rects.size() > 64) {
    std::sort(rects.begin(), rects.end(), [](const PixelRect& a, const PixelRect& b) {
      return a.y0 != b.y0 ? a.y0 < b.y0 : a.y1 < b.y1;
    });
    std::vector<PixelRect> bands;
    for (const PixelRect& r : rects) {
      if (!bands.empty() && bands.back().y0 == r.y0 && bands.back().y1 == r.y1) bands.back() = bounds(bands.back(), r);
      else bands.push_back(r);
    }
    rects.swap(bands);
  }
  while (rects.size() > 1) {
    int64_t best = std::numeric_limits<int64_t>::max();
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < rects.size(); ++i)
      for (size_t j = i + 1; j < rects.size(); ++j) {
        const int64_t added = bounds(rects[i], rects[j]).area() - rects[i].area() - rects[j].area();
        if (added < best) best = added, bi = i, bj = j;
      }
    if (int(rects.size()) <= max_rects && best >= pass_cost) break;
    rects[bi] = bounds(rects[bi], rects[bj]);
    rects.erase(rects.begin() + long(bj));
  }
  return rects;
}

}  // namespace latent::ui
