// Animated GIF through giflib: a palette per frame (giflib's median cut, GifQuantizeBuffer), the
// changed rectangle only after the first frame, and identical frames merged into one longer one.
// A frame is held until the next one arrives, because its delay is the time until the next change.
#include <gif_lib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "latent/error.h"
#include "latent/recording.h"

namespace latent {
namespace {

// GIF counts delays in hundredths of a second; frame times are rounded to that clock so that the
// rounding errors do not add up over a long recording.
int centiseconds(double seconds) { return int(std::llround(seconds * 100.0)); }

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
};

// The smallest rectangle holding every pixel where a and b differ (empty when none does).
Rect changed_rect(const RgbImage& a, const RgbImage& b) {
  int x0 = a.width, y0 = a.height, x1 = -1, y1 = -1;
  const size_t row = size_t(a.width) * 3;
  for (int y = 0; y < a.height; ++y) {
    const uint8_t* pa = a.rgb.data() + size_t(y) * row;
    const uint8_t* pb = b.rgb.data() + size_t(y) * row;
    if (std::memcmp(pa, pb, row) == 0) continue;
    y0 = std::min(y0, y), y1 = y;
    int first = 0, last = a.width - 1;
    while (std::memcmp(pa + size_t(first) * 3, pb + size_t(first) * 3, 3) == 0) ++first;
    while (std::memcmp(pa + size_t(last) * 3, pb + size_t(last) * 3, 3) == 0) --last;
    x0 = std::min(x0, first), x1 = std::max(x1, last);
  }
  if (y1 < 0) return {};
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

class GifWriter final : public VideoWriter {
 public:
  explicit GifWriter(const std::string& path) : path_(path) {
    int error = 0;
    errno = 0;
    gif_ = EGifOpenFileName(path.c_str(), false, &error);
    if (!gif_) throw Error("cannot write the recording " + path + " (" + describe(error) + ")");
    EGifSetGifVersion(gif_, true);
  }
  ~GifWriter() override {
    if (gif_) {
      int error = 0;
      EGifCloseFile(gif_, &error);
    }
  }

  void add(const RgbImage& frame, double seconds) override {
    if (frame.width <= 0 || frame.height <= 0 || frame.rgb.size() != size_t(frame.width) * frame.height * 3)
      throw Error("recording " + path_ + ": a frame of " + std::to_string(frame.width) + "x" + std::to_string(frame.height) +
                  " pixels has " + std::to_string(frame.rgb.size()) + " bytes");
    if (previous_.width == 0) {
      if (frame.width > 65535 || frame.height > 65535)
        throw Error("recording " + path_ + ": a GIF is at most 65535 pixels a side, not " + std::to_string(frame.width) + "x" +
                    std::to_string(frame.height));
      start(frame.width, frame.height);
      previous_ = frame;
      hold({0, 0, frame.width, frame.height}, frame, seconds);
      return;
    }
    if (frame.width != previous_.width || frame.height != previous_.height)
      throw Error("recording " + path_ + ": the frames changed size from " + std::to_string(previous_.width) + "x" +
                  std::to_string(previous_.height) + " to " + std::to_string(frame.width) + "x" + std::to_string(frame.height));
    const Rect rect = changed_rect(previous_, frame);
    if (rect.empty()) return;  // the held frame is shown for longer
    // The held frame is shown until this one's time, at least one hundredth of a second.
    if (centiseconds(seconds) <= held_at_) seconds = (held_at_ + 1) / 100.0;
    write_held(centiseconds(seconds) - held_at_);
    previous_ = frame;
    hold(rect, frame, seconds);
  }

  void finish(double end_seconds) override {
    if (!gif_) return;
    if (has_held_) write_held(std::max(1, centiseconds(end_seconds) - held_at_));
    int error = 0;
    const int status = EGifCloseFile(gif_, &error);
    gif_ = nullptr;
    if (status != GIF_OK) throw Error("cannot finish the recording " + path_ + " (" + describe(error) + ")");
  }

  int64_t stored_frames() const override { return stored_; }

 private:
  static std::string describe(int error) {
    const char* text = GifErrorString(error);
    std::string why = text ? text : "giflib error " + std::to_string(error);
    if (errno != 0 && (error == E_GIF_ERR_OPEN_FAILED || error == E_GIF_ERR_WRITE_FAILED)) why += ": " + std::string(std::strerror(errno));
    return why;
  }
  void check(int status) {
    if (status != GIF_OK) throw Error("cannot write the recording " + path_ + " (" + describe(gif_->Error) + ")");
  }

  void start(int width, int height) {
    // No global palette: every frame carries its own.
    check(EGifPutScreenDesc(gif_, width, height, 8, 0, nullptr));
    // Loop for ever (the Netscape application extension, which every viewer reads).
    static const unsigned char kLoop[3] = {1, 0, 0};
    check(EGifPutExtensionLeader(gif_, APPLICATION_EXT_FUNC_CODE));
    check(EGifPutExtensionBlock(gif_, 11, "NETSCAPE2.0"));
    check(EGifPutExtensionBlock(gif_, 3, kLoop));
    check(EGifPutExtensionTrailer(gif_));
  }

  // Quantizes the rectangle of `frame` into the held frame's indices and palette.
  void hold(Rect rect, const RgbImage& frame, double seconds) {
    const size_t n = size_t(rect.width) * rect.height;
    std::vector<GifByteType> r(n), g(n), b(n);
    for (int y = 0; y < rect.height; ++y)
      for (int x = 0; x < rect.width; ++x) {
        const uint8_t* p = frame.rgb.data() + (size_t(rect.y + y) * frame.width + rect.x + x) * 3;
        const size_t i = size_t(y) * rect.width + x;
        r[i] = p[0], g[i] = p[1], b[i] = p[2];
      }
    held_indices_.resize(n);
    int colours = 256;
    if (GifQuantizeBuffer(unsigned(rect.width), unsigned(rect.height), &colours, r.data(), g.data(), b.data(),
                          held_indices_.data(), held_palette_) != GIF_OK)
      throw Error("recording " + path_ + ": cannot reduce a frame to 256 colours");
    held_rect_ = rect;
    held_at_ = centiseconds(seconds);
    has_held_ = true;
  }

  void write_held(int delay_cs) {
    // Disposal "do not dispose": the next frame's rectangle is drawn over this one.
    GraphicsControlBlock control{};
    control.DisposalMode = DISPOSE_DO_NOT;
    control.UserInputFlag = false;
    control.DelayTime = std::min(delay_cs, 65535);
    control.TransparentColor = NO_TRANSPARENT_COLOR;
    GifByteType extension[4];
    const size_t length = EGifGCBToExtension(&control, extension);
    check(EGifPutExtension(gif_, GRAPHICS_EXT_FUNC_CODE, int(length), extension));
    ColorMapObject* palette = GifMakeMapObject(256, held_palette_);
    if (!palette) throw Error("recording " + path_ + ": out of memory for a palette");
    const int status = EGifPutImageDesc(gif_, held_rect_.x, held_rect_.y, held_rect_.width, held_rect_.height, false, palette);
    GifFreeMapObject(palette);
    check(status);
    for (int y = 0; y < held_rect_.height; ++y) check(EGifPutLine(gif_, held_indices_.data() + size_t(y) * held_rect_.width, held_rect_.width));
    has_held_ = false;
    ++stored_;
  }

  std::string path_;
  GifFileType* gif_ = nullptr;
  RgbImage previous_;  // the last frame added (what the file shows after the held frame)
  bool has_held_ = false;
  Rect held_rect_;
  std::vector<GifByteType> held_indices_;
  GifColorType held_palette_[256] = {};
  int held_at_ = 0;  // the held frame's time, in hundredths of a second
  int64_t stored_ = 0;
};

}  // namespace

std::unique_ptr<VideoWriter> open_gif_writer(const std::string& path) { return std::make_unique<GifWriter>(path); }

}  // namespace latent
