#include "latent/recording.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "latent/error.h"
#include "latent/files.h"
#include "latent/platform.h"

namespace latent {

VideoFormat video_format(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (extension == ".gif") return VideoFormat::Gif;
  if (extension == ".mp4") return VideoFormat::Mp4;
  throw Error("cannot record to " + path + ": " + (extension.empty() ? "no extension" : "'" + extension + "'") +
              " is not a recording format (.gif or .mp4)");
}

#ifndef LATENT_HAVE_GIF
std::unique_ptr<VideoWriter> open_gif_writer(const std::string& path) {
  throw Error("cannot record to " + path + ": this build has no GIF writer (install libgif-dev and build again)");
}
#endif
#ifndef LATENT_HAVE_LIBAV
std::unique_ptr<VideoWriter> open_mp4_writer(const std::string& path) {
  throw Error("cannot record to " + path + ": this build has no MP4 writer (install libavcodec-dev, libavformat-dev and libswscale-dev and build again)");
}
#endif

namespace {

// A recording is written under a temporary name and renamed over its path once it holds a frame, so
// that whatever was at the path (an earlier lecture.gif, a symlink) is replaced only by a finished
// recording, and a recording that ends empty or fails removes only the file it made.
class TemporaryFileWriter : public VideoWriter {
 public:
  TemporaryFileWriter(const std::string& path, VideoFormat format) : path_(path), temporary_(temporary_path_for(path)) {
    // Checked now, so that a bad place (a folder, a directory that takes no file) is reported when
    // the recording starts rather than when its rename fails at the end.
    if (std::string problem = write_problem(path); !problem.empty()) throw Error("cannot write the recording " + path + " (" + problem + ")");
    remove_stale_temporaries(path);
    named([&] { inner_ = format == VideoFormat::Gif ? open_gif_writer(temporary_) : open_mp4_writer(temporary_); });
  }
  ~TemporaryFileWriter() override {
    if (!finished_) {
      inner_.reset();
      std::error_code ec;
      std::filesystem::remove(temporary_, ec);
    }
  }
  void add(const RgbImage& frame, double seconds) override { named([&] { inner_->add(frame, seconds); }); }
  void finish(double end_seconds) override {
    finished_ = true;
    std::error_code ec;
    try {
      named([&] { inner_->finish(end_seconds); });
    } catch (...) {
      std::filesystem::remove(temporary_, ec);
      throw;
    }
    if (inner_->stored_frames() == 0) {  // an empty file would be no use; what was at the path stays
      std::filesystem::remove(temporary_, ec);
      return;
    }
    std::filesystem::rename(temporary_, path_, ec);
    if (ec) {
      std::filesystem::remove(temporary_, ec);
      throw Error("cannot write the recording " + path_ + " (" + ec.message() + ")");
    }
  }
  int64_t stored_frames() const override { return inner_->stored_frames(); }

 private:
  // The writers' messages name the file they write: the user's path, not the temporary one.
  template <typename F>
  void named(F&& f) {
    try {
      f();
    } catch (const Error& e) {
      std::string text = e.what();
      for (size_t at; (at = text.find(temporary_)) != std::string::npos;) text.replace(at, temporary_.size(), path_);
      throw Error(text);
    }
  }

  std::string path_, temporary_;
  std::unique_ptr<VideoWriter> inner_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<VideoWriter> open_video_writer(const std::string& path) {
  return std::make_unique<TemporaryFileWriter>(path, video_format(path));
}

RgbImage resize_rgb(const RgbImage& image, int width, int height) {
  width = std::max(1, width), height = std::max(1, height);
  if (width == image.width && height == image.height) return image;
  RgbImage out{width, height, std::vector<uint8_t>(size_t(width) * height * 3)};
  // Each output pixel averages the source pixels its area covers (a box filter), which keeps thin
  // lines and text legible when shrinking; enlarging repeats pixels.
  for (int y = 0; y < height; ++y) {
    const int sy0 = int(int64_t(y) * image.height / height);
    const int sy1 = std::max(sy0 + 1, int(int64_t(y + 1) * image.height / height));
    for (int x = 0; x < width; ++x) {
      const int sx0 = int(int64_t(x) * image.width / width);
      const int sx1 = std::max(sx0 + 1, int(int64_t(x + 1) * image.width / width));
      unsigned sum[3] = {0, 0, 0};
      for (int sy = sy0; sy < sy1; ++sy)
        for (int sx = sx0; sx < sx1; ++sx)
          for (int c = 0; c < 3; ++c) sum[c] += image.rgb[(size_t(sy) * image.width + sx) * 3 + c];
      const unsigned count = unsigned((sy1 - sy0) * (sx1 - sx0));
      for (int c = 0; c < 3; ++c) out.rgb[(size_t(y) * width + x) * 3 + c] = uint8_t((sum[c] + count / 2) / count);
    }
  }
  return out;
}

RgbImage fit_rgb(const RgbImage& image, int width, int height) {
  width = std::max(1, width), height = std::max(1, height);
  if (image.width <= 0 || image.height <= 0) return RgbImage{width, height, std::vector<uint8_t>(size_t(width) * height * 3, 0)};
  const double scale = std::min(double(width) / image.width, double(height) / image.height);
  const int inner_width = std::clamp(int(std::lround(image.width * scale)), 1, width);
  const int inner_height = std::clamp(int(std::lround(image.height * scale)), 1, height);
  if (inner_width == width && inner_height == height) return resize_rgb(image, width, height);
  const RgbImage inner = resize_rgb(image, inner_width, inner_height);
  RgbImage out{width, height, std::vector<uint8_t>(size_t(width) * height * 3, 0)};
  const int left = (width - inner_width) / 2, top = (height - inner_height) / 2;
  for (int y = 0; y < inner_height; ++y)
    std::copy_n(inner.rgb.data() + size_t(y) * inner_width * 3, size_t(inner_width) * 3,
                out.rgb.data() + (size_t(top + y) * width + left) * 3);
  return out;
}

Recorder::Recorder(const std::string& path, double fps, Prepare prepare, int queue_frames, int worker_nice)
    : prepare_(std::move(prepare)), fps_(fps), queue_frames_(size_t(std::max(1, queue_frames))), worker_nice_(worker_nice) {
  if (!(fps >= 1 && fps <= 50)) throw Error("recording frame rate " + std::to_string(fps) + ": use 1 to 50 frames a second");
  writer_ = open_video_writer(path);
  stats_.path = path;
  worker_ = std::thread([this] { work(); });
}

Recorder::~Recorder() {
  try {
    stop();
  } catch (...) {
  }
}

bool Recorder::due(double seconds) {
  const double period = 1.0 / fps_;
  if (next_due_ < 0 || seconds >= next_due_) {
    // On pace, the next frame is one period after this one's slot; after a stall, one after now.
    next_due_ = next_due_ < 0 || seconds - next_due_ > period ? seconds + period : next_due_ + period;
    return true;
  }
  return false;
}

bool Recorder::has_room(size_t frames) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size() + frames <= queue_frames_;
}

bool Recorder::offer(CapturedFrame frame) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !stats_.problem.empty()) return false;
    if (queue_.size() >= queue_frames_) {
      ++stats_.dropped;
      return false;
    }
    if (first_seconds_ < 0) first_seconds_ = frame.seconds;
    last_seconds_ = std::max(last_seconds_, frame.seconds);
    ++stats_.captured;
    queue_.push_back(std::move(frame));
  }
  wake_.notify_one();
  return true;
}

void Recorder::note_dropped() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!stopping_) ++stats_.dropped;
}

void Recorder::work() {
  if (worker_nice_ != 0) set_this_thread_nice(worker_nice_);
  for (;;) {
    CapturedFrame frame;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      frame = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      const auto began = std::chrono::steady_clock::now();
      const RgbImage image = prepare_ ? prepare_(frame) : RgbImage{frame.width, frame.height, std::move(frame.pixels)};
      writer_->add(image, frame.seconds - first_seconds_);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.encode_seconds += took.count();
      stats_.width = image.width, stats_.height = image.height;
      stats_.stored = writer_->stored_frames();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.problem = e.what();
      queue_.clear();
      return;
    }
  }
}

RecordingStats Recorder::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return stats_;
    stopping_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  stopped_ = true;
  // The last frame is shown for one period after it was taken.
  const double end = first_seconds_ < 0 ? 0 : last_seconds_ - first_seconds_ + 1.0 / fps_;
  stats_.seconds = end;
  try {
    const auto began = std::chrono::steady_clock::now();
    writer_->finish(end);
    stats_.encode_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    stats_.stored = writer_->stored_frames();
  } catch (const std::exception& e) {
    if (stats_.problem.empty()) stats_.problem = e.what();
  }
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(stats_.path, ec);
  stats_.bytes = ec || stats_.stored == 0 ? 0 : int64_t(bytes);  // an empty recording wrote nothing there
  return stats_;
}

RecordingStats Recorder::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  RecordingStats s = stats_;
  s.seconds = first_seconds_ < 0 ? 0 : last_seconds_ - first_seconds_;
  return s;
}

std::string Recorder::problem() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_.problem;
}

}  // namespace latent
