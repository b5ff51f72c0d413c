// MP4 (H.264) through libavcodec/libavformat: frames converted to 4:2:0 YUV (BT.709, video range),
// encoded without B-frames, each frame timed to the millisecond from its own capture time (variable
// frame rate), so that a stalled capture shows as a longer frame, not as faster playback. Identical
// consecutive frames are merged into one longer one, as the GIF writer does.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "latent/error.h"
#include "latent/recording.h"

namespace latent {
namespace {

std::string av_message(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof text);
  return text;
}

constexpr AVRational kMillisecond{1, 1000};
int64_t milliseconds(double seconds) { return int64_t(std::llround(seconds * 1000.0)); }

class Mp4Writer final : public VideoWriter {
 public:
  explicit Mp4Writer(const std::string& path) : path_(path) {
    // libav's own log would go to stderr; failures reach the user through the errors thrown here.
    static std::once_flag quiet;
    std::call_once(quiet, [] { av_log_set_level(AV_LOG_ERROR); });
    codec_ = avcodec_find_encoder_by_name("libx264");
    if (!codec_) codec_ = avcodec_find_encoder(AV_CODEC_ID_H264);
    if (!codec_) throw Error("cannot record to " + path + ": this system's libavcodec has no H.264 encoder (Debian's libavcodec59 has libx264)");
    AVFormatContext* format = nullptr;
    const int made = avformat_alloc_output_context2(&format, nullptr, "mp4", path.c_str());
    if (made < 0 || !format) throw Error("cannot record to " + path + ": " + av_message(made));
    format_ = format;
    // Opened now, so that a bad place is reported when the recording starts, not at its first frame.
    const int opened = avio_open(&format_->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (opened < 0) {
      avformat_free_context(format_);
      format_ = nullptr;
      throw Error("cannot write the recording " + path + " (" + av_message(opened) + ")");
    }
  }

  ~Mp4Writer() override {
    // A writer dropped without finish() (its recording failed) still leaves a playable file of what
    // it had: what the encoder holds is written, then the index.
    if (encoder_ && header_written_) {
      try {
        drain(nullptr);
        write_held(last_pts_ + 1);
      } catch (...) {
      }
      av_write_trailer(format_);
    }
    release();
  }

  void add(const RgbImage& frame, double seconds) override {
    if (frame.width <= 0 || frame.height <= 0 || frame.rgb.size() != size_t(frame.width) * frame.height * 3)
      throw Error("recording " + path_ + ": a frame of " + std::to_string(frame.width) + "x" + std::to_string(frame.height) +
                  " pixels has " + std::to_string(frame.rgb.size()) + " bytes");
    if (!encoder_) {
      start(frame.width, frame.height);
    } else if (frame.width != previous_.width || frame.height != previous_.height) {
      throw Error("recording " + path_ + ": the frames changed size from " + std::to_string(previous_.width) + "x" +
                  std::to_string(previous_.height) + " to " + std::to_string(frame.width) + "x" + std::to_string(frame.height));
    } else if (frame.rgb == previous_.rgb) {
      return;  // the frame before is shown for longer
    }
    int64_t pts = milliseconds(seconds);
    if (pts <= last_pts_) pts = last_pts_ + 1;
    last_pts_ = pts;
    previous_ = frame;
    convert(frame);
    picture_->pts = pts;
    drain(picture_);
    ++stored_;
  }

  void finish(double end_seconds) override {
    if (!header_written_) {  // no frame came (or the first failed): an empty file is no video
      release();
      std::remove(path_.c_str());
      return;
    }
    drain(nullptr);
    write_held(std::max(milliseconds(end_seconds), last_pts_ + 1));
    const int trailer = av_write_trailer(format_);
    header_written_ = false;
    release();
    if (trailer < 0) throw Error("recording " + path_ + ": cannot finish the file (" + av_message(trailer) + ")");
  }

  int64_t stored_frames() const override { return stored_; }

 private:
  void start(int width, int height) {
    // 4:2:0 needs even sides: an odd last row or column is repeated into the padding.
    width_ = width + (width & 1), height_ = height + (height & 1);
    encoder_ = avcodec_alloc_context3(codec_);
    if (!encoder_) throw Error("recording " + path_ + ": out of memory for the encoder");
    encoder_->width = width_;
    encoder_->height = height_;
    encoder_->pix_fmt = AV_PIX_FMT_YUV420P;
    encoder_->time_base = kMillisecond;
    encoder_->max_b_frames = 0;  // packets in display order, so each one's duration is known on arrival
    encoder_->gop_size = 120;    // a key frame every few seconds, for seeking in a slide
    encoder_->color_range = AVCOL_RANGE_MPEG;
    encoder_->colorspace = AVCOL_SPC_BT709;
    encoder_->color_primaries = AVCOL_PRI_BT709;
    encoder_->color_trc = AVCOL_TRC_BT709;
    // The encoder's threads, as many as x264 picks for the cores, inherit the worker's nice value:
    // they take the time the UI and the trainer leave, and a frame they cannot take in time is
    // dropped by the Recorder rather than waited for.
    encoder_->thread_count = 0;
    if (format_->oformat->flags & AVFMT_GLOBALHEADER) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    // Screen content: sharp text and flat areas. veryfast keeps up with a whole window on one core;
    // CRF 20 keeps small text readable.
    av_opt_set(encoder_->priv_data, "preset", "veryfast", 0);
    av_opt_set(encoder_->priv_data, "crf", "20", 0);
    int status = avcodec_open2(encoder_, codec_, nullptr);
    if (status < 0) throw Error("recording " + path_ + ": the H.264 encoder refused " + std::to_string(width_) + "x" + std::to_string(height_) + " (" + av_message(status) + ")");
    stream_ = avformat_new_stream(format_, nullptr);
    if (!stream_) throw Error("recording " + path_ + ": out of memory for the stream");
    stream_->time_base = kMillisecond;
    status = avcodec_parameters_from_context(stream_->codecpar, encoder_);
    if (status < 0) throw Error("recording " + path_ + ": " + av_message(status));
    // The index goes first, so that the file plays while it is still being downloaded or opened.
    AVDictionary* options = nullptr;
    av_dict_set(&options, "movflags", "+faststart", 0);
    status = avformat_write_header(format_, &options);
    av_dict_free(&options);
    if (status < 0) throw Error("cannot write the recording " + path_ + " (" + av_message(status) + ")");
    header_written_ = true;

    picture_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    held_ = av_packet_alloc();
    if (!picture_ || !packet_ || !held_) throw Error("recording " + path_ + ": out of memory for the frames");
    picture_->format = AV_PIX_FMT_YUV420P;
    picture_->width = width_;
    picture_->height = height_;
    status = av_frame_get_buffer(picture_, 0);
    if (status < 0) throw Error("recording " + path_ + ": " + av_message(status));
    scaler_ = sws_getContext(width_, height_, AV_PIX_FMT_RGB24, width_, height_, AV_PIX_FMT_YUV420P, SWS_POINT, nullptr, nullptr, nullptr);
    if (!scaler_) throw Error("recording " + path_ + ": no RGB to YUV conversion for " + std::to_string(width_) + "x" + std::to_string(height_));
    sws_setColorspaceDetails(scaler_, sws_getCoefficients(SWS_CS_ITU709), 1, sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
    padded_.assign(size_t(width_) * height_ * 3, 0);
    previous_ = RgbImage{width, height, {}};
  }

  void convert(const RgbImage& frame) {
    const size_t in_row = size_t(frame.width) * 3, out_row = size_t(width_) * 3;
    for (int y = 0; y < height_; ++y) {
      const uint8_t* in = frame.rgb.data() + size_t(std::min(y, frame.height - 1)) * in_row;
      uint8_t* out = padded_.data() + size_t(y) * out_row;
      std::memcpy(out, in, in_row);
      if (width_ > frame.width) std::memcpy(out + in_row, in + in_row - 3, 3);
    }
    const int status = av_frame_make_writable(picture_);
    if (status < 0) throw Error("recording " + path_ + ": " + av_message(status));
    const uint8_t* planes[1] = {padded_.data()};
    const int strides[1] = {int(out_row)};
    sws_scale(scaler_, planes, strides, 0, height_, picture_->data, picture_->linesize);
  }

  // Sends a picture (nullptr: the end) and writes every packet the encoder has ready.
  void drain(AVFrame* picture) {
    int status = avcodec_send_frame(encoder_, picture);
    if (status < 0 && !(picture == nullptr && status == AVERROR_EOF))
      throw Error("recording " + path_ + ": the encoder failed (" + av_message(status) + ")");
    for (;;) {
      status = avcodec_receive_packet(encoder_, packet_);
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      if (status < 0) throw Error("recording " + path_ + ": the encoder failed (" + av_message(status) + ")");
      // A packet is shown until the next one starts, so it is written when the next one arrives.
      if (held_->data) write_held(packet_->pts);
      av_packet_move_ref(held_, packet_);
    }
  }

  void write_held(int64_t next_pts) {
    if (!held_ || !held_->data) return;
    held_->duration = std::max<int64_t>(1, next_pts - held_->pts);
    held_->stream_index = stream_->index;
    av_packet_rescale_ts(held_, kMillisecond, stream_->time_base);
    const int status = av_interleaved_write_frame(format_, held_);  // takes the packet's data
    av_packet_unref(held_);
    if (status < 0) throw Error("cannot write the recording " + path_ + " (" + av_message(status) + ")");
  }

  void release() {
    if (scaler_) sws_freeContext(scaler_), scaler_ = nullptr;
    av_packet_free(&held_);
    av_packet_free(&packet_);
    av_frame_free(&picture_);
    avcodec_free_context(&encoder_);
    if (format_) {
      if (format_->pb) avio_closep(&format_->pb);
      avformat_free_context(format_);
      format_ = nullptr;
    }
  }

  std::string path_;
  const AVCodec* codec_ = nullptr;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* encoder_ = nullptr;
  AVStream* stream_ = nullptr;
  AVFrame* picture_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVPacket* held_ = nullptr;
  SwsContext* scaler_ = nullptr;
  bool header_written_ = false;
  int width_ = 0, height_ = 0;
  int64_t last_pts_ = -1, stored_ = 0;
  RgbImage previous_;
  std::vector<uint8_t> padded_;
};

}  // namespace

std::unique_ptr<VideoWriter> open_mp4_writer(const std::string& path) { return std::make_unique<Mp4Writer>(path); }

}  // namespace latent
