#pragma once
// Recording what the explorer shows: frames in, an animated GIF (giflib) or an MP4 (H.264 through
// libavcodec/libavformat) out. The frames are
// encoded on a worker thread behind a short queue; a frame offered while the queue is full is
// dropped and counted, so that recording never holds up the frame that offers it.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace latent {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, top row first, 3 bytes a pixel
};

// A frame as captured, before the worker prepares it (crops, scales, captions): `pixels` in the
// capturer's own layout, taken at `seconds` on the recording's clock.
struct CapturedFrame {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
  double seconds = 0;
  std::string caption;
};

// The formats a recording can have, from the file's extension.
enum class VideoFormat { Gif, Mp4 };
// The format of `path`, or an Error naming the extension and the formats there are.
VideoFormat video_format(const std::string& path);

// Frames written to one file, each shown from its time until the next frame's.
class VideoWriter {
 public:
  virtual ~VideoWriter() = default;
  // `seconds` grows from frame to frame; the image's size is the first frame's throughout.
  virtual void add(const RgbImage& frame, double seconds) = 0;
  // Closes the file, the last frame shown until `end_seconds`.
  virtual void finish(double end_seconds) = 0;
  // Frames in the file: consecutive identical frames are stored once, shown for their sum.
  virtual int64_t stored_frames() const = 0;
};

// An animated GIF that loops: each frame with its own 256-colour palette, and after the first only
// the rectangle that changed (the rest stays from the frame before), so that a view where little
// moves costs little. Delays come from the frames' times (GIF counts in hundredths of a second).
// Throws latent::Error naming the path when it cannot be written.
std::unique_ptr<VideoWriter> open_gif_writer(const std::string& path);
// An MP4 of H.264 video (4:2:0, so odd sides are padded by one repeated row or column), each frame
// timed to the millisecond from its capture time; identical consecutive frames merged. Throws
// latent::Error naming the path when it cannot be written or this build has no encoder.
std::unique_ptr<VideoWriter> open_mp4_writer(const std::string& path);
// The writer for the path's format.
std::unique_ptr<VideoWriter> open_video_writer(const std::string& path);

// Area-averaged scaling to width × height (both ≥ 1).
RgbImage resize_rgb(const RgbImage& image, int width, int height);
// Scaled (as resize_rgb) to fit width × height with its aspect ratio kept, centred on black.
RgbImage fit_rgb(const RgbImage& image, int width, int height);

struct RecordingStats {
  std::string path;
  int64_t captured = 0;  // offered and accepted
  int64_t dropped = 0;   // offered while the queue was full, or not read in time
  int64_t stored = 0;    // frames in the file (identical neighbours merged)
  int64_t bytes = 0;     // the file's size, once finished
  double seconds = 0;    // from the first frame to the end
  double encode_seconds = 0;  // the worker's wall-clock time preparing and encoding frames
  int width = 0, height = 0;
  std::string problem;   // why the recording stopped early, or ""
};

class Recorder {
 public:
  using Prepare = std::function<RgbImage(const CapturedFrame&)>;
  // Opens `path` (throws latent::Error naming what is wrong: the format, the place). `prepare`
  // turns a captured frame into the image written; it runs on the worker. At most `queue_frames`
  // frames wait for it. `fps` paces due(). The worker runs at `worker_nice` (Linux nice value), so
  // that encoding gives way to the thread that shows the frames.
  Recorder(const std::string& path, double fps, Prepare prepare, int queue_frames = 6, int worker_nice = 0);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Whether a frame is wanted at `seconds` (the recording's frame rate); true advances the pace.
  bool due(double seconds);
  // Never waits for the encoder: false when the frame was dropped (queue full, or stopped).
  bool offer(CapturedFrame frame);
  // A frame that was due but could not be read in time (its reader still busy with the one
  // before): counted with the dropped ones.
  void note_dropped();
  // Whether `frames` more would fit in the queue now (a replay, which may wait, offers only then).
  bool has_room(size_t frames) const;
  // Encodes what is queued, closes the file, and says what it holds. Idempotent.
  RecordingStats stop();
  // So far (the worker's counts move while it runs).
  RecordingStats stats() const;
  // The worker failed (a full disk): the reason; the recording then takes no more frames.
  std::string problem() const;
  double fps() const { return fps_; }

 private:
  void work();

  std::unique_ptr<VideoWriter> writer_;
  Prepare prepare_;
  double fps_;
  size_t queue_frames_;
  int worker_nice_;
  double next_due_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<CapturedFrame> queue_;
  bool stopping_ = false, stopped_ = false;
  double first_seconds_ = -1, last_seconds_ = 0;
  RecordingStats stats_;
  std::thread worker_;
};

}  // namespace latent
