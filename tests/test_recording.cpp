// Recordings: GIFs read back with giflib's decoder, frame by frame as a viewer composes them, MP4s
// with libavformat and libavcodec's H.264 decoder, and the recorder's queue, which drops frames
// instead of waiting for the encoder.
#include <gif_lib.h>
#ifdef LATENT_HAVE_LIBAV
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}
#endif
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "latent/error.h"
#include "latent/recording.h"
#include "gif_reader.h"
#include "test_support.h"

namespace latent {
namespace {

// A frame of a dark background with a bright square at (x, y), colours from a smooth ramp.
RgbImage square_frame(int width, int height, int x, int y, int side) {
  RgbImage image{width, height, std::vector<uint8_t>(size_t(width) * height * 3)};
  for (int r = 0; r < height; ++r)
    for (int c = 0; c < width; ++c) {
      uint8_t* p = image.rgb.data() + (size_t(r) * width + c) * 3;
      const bool inside = c >= x && c < x + side && r >= y && r < y + side;
      p[0] = inside ? 250 : uint8_t(20 + c % 40);
      p[1] = inside ? 200 : uint8_t(30 + r % 40);
      p[2] = inside ? 40 : 60;
    }
  return image;
}

// The largest difference of any channel of any pixel.
int max_difference(const RgbImage& a, const RgbImage& b) {
  int worst = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) worst = std::max(worst, std::abs(int(a.rgb[i]) - int(b.rgb[i])));
  return worst;
}

std::string tmp_path(const std::string& name) {
  std::filesystem::create_directories(LATENT_TEST_TMP);
  return std::string(LATENT_TEST_TMP) + "/" + name;
}

TEST(Recording, AGifHoldsEveryFrameAsShownWithItsTime) {
  const std::string path = tmp_path("moving_square.gif");
  const int width = 96, height = 64, frames = 12;
  std::vector<RgbImage> sent;
  auto writer = open_gif_writer(path);
  for (int i = 0; i < frames; ++i) {
    sent.push_back(square_frame(width, height, 4 + 6 * i, 10 + i, 12));
    writer->add(sent.back(), i / 10.0);  // 10 frames a second
  }
  writer->finish(frames / 10.0);
  EXPECT_EQ(writer->stored_frames(), frames);

  const test::DecodedGif gif = test::read_gif(path);
  EXPECT_EQ(gif.width, width);
  EXPECT_EQ(gif.height, height);
  EXPECT_TRUE(gif.loops);
  ASSERT_EQ(int(gif.frames.size()), frames);
  for (int i = 0; i < frames; ++i) {
    EXPECT_EQ(gif.delays_cs[i], 10) << "frame " << i;
    // giflib's median cut keeps 5 bits a channel: within 8 levels of the source, after composing
    // each changed rectangle over the frames before it.
    EXPECT_LE(max_difference(gif.frames[i], sent[i]), 8) << "frame " << i;
  }
}

TEST(Recording, IdenticalFramesAreStoredOnceAndShownForTheirSum) {
  const std::string path = tmp_path("paused.gif");
  auto writer = open_gif_writer(path);
  const RgbImage a = square_frame(40, 30, 2, 2, 8), b = square_frame(40, 30, 20, 10, 8);
  // a for 0.0 .. 0.5 s (six identical frames), b for 0.6 .. 1.0 s.
  for (int i = 0; i < 6; ++i) writer->add(a, i / 10.0);
  for (int i = 6; i < 10; ++i) writer->add(b, i / 10.0);
  writer->finish(1.0);
  EXPECT_EQ(writer->stored_frames(), 2);
  const test::DecodedGif gif = test::read_gif(path);
  ASSERT_EQ(gif.frames.size(), 2u);
  EXPECT_EQ(gif.delays_cs[0], 60);
  EXPECT_EQ(gif.delays_cs[1], 40);
  // Only b's changed rectangle is stored for the second frame, and it composes to b.
  EXPECT_LE(max_difference(gif.frames[1], b), 8);
}

TEST(Recording, TheRecorderDropsFramesInsteadOfWaitingForTheEncoder) {
  // The encoder is held up until the test lets it go: offers meanwhile must return at once, the
  // first queue_frames of them accepted and the rest dropped. (Were offer() to wait, this would hang.)
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  int prepared = 0;
  const auto prepare = [&](const CapturedFrame& frame) {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return release; });
    ++prepared;
    return RgbImage{frame.width, frame.height, frame.pixels};
  };
  const std::string path = tmp_path("dropping.gif");
  Recorder recorder(path, 10, prepare, 3);
  int accepted = 0, dropped = 0;
  for (int i = 0; i < 20; ++i) {
    const RgbImage image = square_frame(32, 24, i, 4, 6);
    (recorder.offer({image.width, image.height, image.rgb, i / 10.0, ""}) ? accepted : dropped)++;
  }
  // The worker may have taken one frame off the queue before blocking in prepare.
  EXPECT_GE(accepted, 3);
  EXPECT_LE(accepted, 4);
  EXPECT_EQ(dropped, 20 - accepted);
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  const RecordingStats stats = recorder.stop();
  EXPECT_EQ(stats.captured, accepted);
  EXPECT_EQ(stats.dropped, dropped);
  EXPECT_EQ(prepared, accepted);
  EXPECT_EQ(stats.stored, accepted);
  EXPECT_EQ(stats.width, 32);
  EXPECT_GT(stats.bytes, 0);
  EXPECT_TRUE(stats.problem.empty()) << stats.problem;
  EXPECT_EQ(int(test::read_gif(path).frames.size()), accepted);
  EXPECT_FALSE(recorder.offer({32, 24, std::vector<uint8_t>(32 * 24 * 3), 3.0, ""}));  // stopped
}

TEST(Recording, TheRecorderPacesFramesAtItsRate) {
  Recorder recorder(tmp_path("paced.gif"), 10, nullptr);
  int due = 0;
  for (int ms = 0; ms < 1000; ms += 5) due += recorder.due(ms / 1000.0);  // 200 frames of the app in one second
  EXPECT_EQ(due, 10);
  // After a stall of 2 s, one frame and then the pace again (no burst to catch up).
  EXPECT_TRUE(recorder.due(3.0));
  EXPECT_FALSE(recorder.due(3.01));
  EXPECT_TRUE(recorder.due(3.11));
}

TEST(Recording, AFailingEncoderStopsTheRecordingWithItsReason) {
  Recorder recorder(tmp_path("resized.gif"), 10, nullptr, 8);
  const RgbImage small = square_frame(20, 20, 1, 1, 4), large = square_frame(30, 20, 1, 1, 4);
  EXPECT_TRUE(recorder.offer({small.width, small.height, small.rgb, 0.0, ""}));
  EXPECT_TRUE(recorder.offer({large.width, large.height, large.rgb, 0.1, ""}));
  const RecordingStats stats = recorder.stop();
  EXPECT_NE(stats.problem.find("changed size from 20x20 to 30x20"), std::string::npos) << stats.problem;
  EXPECT_EQ(stats.stored, 1);  // the file is closed and readable with what came before
  EXPECT_EQ(test::read_gif(tmp_path("resized.gif")).frames.size(), 1u);
}

// A recording replaces what was at its path only once it holds a frame: one that ends empty, or
// fails, leaves an earlier file (or a symlink) as it was, and no temporary beside it.
TEST(Recording, ARecordingThatEndsEmptyOrFailsLeavesWhatWasThere) {
  const std::string dir = tmp_path("keep");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
#ifdef LATENT_HAVE_LIBAV
  const std::vector<std::string> names = {"lecture.gif", "lecture.mp4"};
#else
  const std::vector<std::string> names = {"lecture.gif"};
#endif
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    test::write_bytes(path, {'k', 'e', 'e', 'p'});
    {
      Recorder recorder(path, 10, nullptr);
      EXPECT_EQ(recorder.stop().stored, 0);
    }
    EXPECT_EQ(test::read_bytes(path), (std::vector<uint8_t>{'k', 'e', 'e', 'p'})) << name;
    {
      auto writer = open_video_writer(path);  // a writer dropped unfinished (the app closing on an error)
    }
    EXPECT_EQ(test::read_bytes(path), (std::vector<uint8_t>{'k', 'e', 'e', 'p'})) << name;
  }
  // A symlink at the path stays, and so does its target.
  test::write_bytes(dir + "/target.gif", {'t'});
  std::filesystem::create_symlink(dir + "/target.gif", dir + "/link.gif");
  {
    auto wrapped = open_video_writer(dir + "/link.gif");
    try {
      wrapped->add(square_frame(8, 8, 1, 1, 2), 0);
      wrapped->add(square_frame(16, 8, 1, 1, 2), 0.1);  // another size: the write fails
      wrapped->finish(0.2);
    } catch (const Error&) {
    }
  }
  EXPECT_TRUE(std::filesystem::is_symlink(dir + "/link.gif"));
  EXPECT_EQ(test::read_bytes(dir + "/target.gif"), (std::vector<uint8_t>{'t'}));
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.path().filename().string().find(".tmp-") == std::string::npos ? 1 : 100;
  EXPECT_EQ(entries, int(names.size()) + 2);  // the kept files, the link and its target; no temporary
  // A recording that holds frames replaces the file whole.
  auto writer = open_video_writer(dir + "/lecture.gif");
  writer->add(square_frame(16, 8, 1, 1, 2), 0);
  writer->finish(0.1);
  EXPECT_EQ(test::read_gif(dir + "/lecture.gif").frames.size(), 1u);
}

TEST(Recording, BadPathsAndRatesAreRefusedWithTheirReason) {
  const auto refusal = [](const std::string& path, double fps) {
    try {
      Recorder recorder(path, fps, nullptr);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(refusal(tmp_path("clip.avi"), 10).find("'.avi' is not a recording format"), std::string::npos);
  EXPECT_NE(refusal(tmp_path("clip"), 10).find("no extension"), std::string::npos);
  const std::string missing = tmp_path("no/such/dir/clip.gif");
  EXPECT_NE(refusal(missing, 10).find("cannot write the recording " + missing), std::string::npos);
  std::filesystem::create_directories(tmp_path("a_dir.gif"));
  EXPECT_NE(refusal(tmp_path("a_dir.gif"), 10).find("cannot write the recording"), std::string::npos);
  EXPECT_NE(refusal(tmp_path("fast.gif"), 0).find("use 1 to 50"), std::string::npos);
  EXPECT_NE(refusal(tmp_path("clip.webm"), 10).find("(.gif or .mp4)"), std::string::npos);
  const std::string missing_mp4 = tmp_path("no/such/dir/clip.mp4");
  const std::string mp4_refusal = refusal(missing_mp4, 10);
#ifdef LATENT_HAVE_LIBAV
  EXPECT_NE(mp4_refusal.find("cannot write the recording " + missing_mp4), std::string::npos) << mp4_refusal;
#else
  EXPECT_NE(mp4_refusal.find("no MP4 writer"), std::string::npos) << mp4_refusal;
#endif
  EXPECT_NE(refusal(tmp_path("fast.gif"), 60).find("use 1 to 50"), std::string::npos);
}

TEST(Recording, ShrinkingAveragesEachPixelsArea) {
  RgbImage image{4, 2, {}};
  for (int i = 0; i < 8; ++i) image.rgb.insert(image.rgb.end(), {uint8_t(i * 10), uint8_t(100), uint8_t(255 - i)});
  const RgbImage half = resize_rgb(image, 2, 1);
  ASSERT_EQ(half.rgb.size(), 6u);
  // Pixels 0, 1, 4, 5 and 2, 3, 6, 7.
  EXPECT_EQ(half.rgb[0], (0 + 10 + 40 + 50 + 2) / 4);
  EXPECT_EQ(half.rgb[1], 100);
  EXPECT_EQ(half.rgb[3], (20 + 30 + 60 + 70 + 2) / 4);
  const RgbImage same = resize_rgb(image, 4, 2);
  EXPECT_EQ(same.rgb, image.rgb);
  const RgbImage doubled = resize_rgb(image, 8, 4);
  EXPECT_EQ(doubled.rgb[0], image.rgb[0]);
  EXPECT_EQ(doubled.rgb[(size_t(3) * 8 + 7) * 3], image.rgb[(size_t(1) * 4 + 3) * 3]);
}

TEST(Recording, FittingKeepsTheAspectRatioOnBlack) {
  RgbImage wide{8, 2, std::vector<uint8_t>(8 * 2 * 3, 200)};
  const RgbImage fitted = fit_rgb(wide, 8, 8);  // 8x2 fits as 8x2, rows 3..4 of 8
  ASSERT_EQ(fitted.width, 8);
  ASSERT_EQ(fitted.height, 8);
  for (int y = 0; y < 8; ++y) {
    const uint8_t expected = (y == 3 || y == 4) ? 200 : 0;
    EXPECT_EQ(fitted.rgb[(size_t(y) * 8 + 5) * 3], expected) << "row " << y;
  }
  RgbImage tall{2, 6, std::vector<uint8_t>(2 * 6 * 3, 90)};
  const RgbImage halved = fit_rgb(tall, 6, 3);  // 1x3, centred in columns 2..2
  for (int x = 0; x < 6; ++x) EXPECT_EQ(halved.rgb[(size_t(1) * 6 + x) * 3], x == 2 ? 90 : 0) << "column " << x;
  EXPECT_EQ(fit_rgb(wide, 4, 1).rgb, resize_rgb(wide, 4, 1).rgb);  // same aspect: a plain resize
}

#ifdef LATENT_HAVE_LIBAV
struct DecodedVideo {
  int width = 0, height = 0;
  std::string codec;
  std::vector<RgbImage> frames;
  std::vector<double> seconds;  // each frame's start
  double duration = 0;
};

DecodedVideo read_video(const std::string& path) {
  AVFormatContext* format = nullptr;
  if (avformat_open_input(&format, path.c_str(), nullptr, nullptr) < 0) throw Error("cannot open " + path);
  DecodedVideo out;
  const auto close = [&] { avformat_close_input(&format); };
  if (avformat_find_stream_info(format, nullptr) < 0 || format->nb_streams != 1) {
    close();
    throw Error("no single stream in " + path);
  }
  AVStream* stream = format->streams[0];
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  AVCodecContext* decoder = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(decoder, stream->codecpar);
  avcodec_open2(decoder, codec, nullptr);
  out.width = decoder->width, out.height = decoder->height, out.codec = codec->name;
  out.duration = double(stream->duration) * av_q2d(stream->time_base);
  SwsContext* scaler = sws_getContext(out.width, out.height, decoder->pix_fmt, out.width, out.height, AV_PIX_FMT_RGB24, SWS_POINT,
                                      nullptr, nullptr, nullptr);
  sws_setColorspaceDetails(scaler, sws_getCoefficients(SWS_CS_ITU709), 0, sws_getCoefficients(SWS_CS_ITU709), 1, 0, 1 << 16, 1 << 16);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  const auto take = [&] {
    while (avcodec_receive_frame(decoder, frame) == 0) {
      RgbImage image{out.width, out.height, std::vector<uint8_t>(size_t(out.width) * out.height * 3)};
      uint8_t* planes[1] = {image.rgb.data()};
      const int strides[1] = {out.width * 3};
      sws_scale(scaler, frame->data, frame->linesize, 0, out.height, planes, strides);
      out.frames.push_back(std::move(image));
      out.seconds.push_back(double(frame->best_effort_timestamp) * av_q2d(stream->time_base));
    }
  };
  while (av_read_frame(format, packet) >= 0) {
    avcodec_send_packet(decoder, packet);
    av_packet_unref(packet);
    take();
  }
  avcodec_send_packet(decoder, nullptr);
  take();
  av_frame_free(&frame);
  av_packet_free(&packet);
  sws_freeContext(scaler);
  avcodec_free_context(&decoder);
  close();
  return out;
}

// The mean absolute difference over the channels of a's pixels inside b (b may be padded larger).
double mean_difference(const RgbImage& a, const RgbImage& b) {
  double sum = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width * 3; ++x)
      sum += std::abs(int(a.rgb[size_t(y) * a.width * 3 + x]) - int(b.rgb[size_t(y) * b.width * 3 + x]));
  return sum / (double(a.width) * a.height * 3);
}

TEST(Recording, AnMp4HoldsEveryFrameAtItsTime) {
  const std::string path = tmp_path("moving_square.mp4");
  // Odd sides: H.264's 4:2:0 needs even ones, so the writer pads a row and a column.
  const int width = 97, height = 63, frames = 12;
  std::vector<RgbImage> sent;
  auto writer = open_mp4_writer(path);
  for (int i = 0; i < frames; ++i) {
    sent.push_back(square_frame(width, height, 4 + 6 * i, 10 + i, 16));
    writer->add(sent.back(), i == 5 ? 0.57 : i / 10.0);  // 10 a second, one frame late
  }
  writer->finish(1.25);
  EXPECT_EQ(writer->stored_frames(), frames);

  const DecodedVideo video = read_video(path);
  EXPECT_EQ(video.codec, "h264");
  EXPECT_EQ(video.width, width + 1);
  EXPECT_EQ(video.height, height + 1);
  ASSERT_EQ(int(video.frames.size()), frames);
  EXPECT_NEAR(video.duration, 1.25, 0.002);
  for (int i = 0; i < frames; ++i) {
    EXPECT_NEAR(video.seconds[i], i == 5 ? 0.57 : i / 10.0, 0.002) << "frame " << i;
    // Lossy: close on average, and the square's centre where it was drawn.
    EXPECT_LE(mean_difference(sent[i], video.frames[i]), 4.0) << "frame " << i;
    const uint8_t* centre = video.frames[i].rgb.data() + (size_t(10 + i + 8) * video.width + 4 + 6 * i + 8) * 3;
    EXPECT_NEAR(centre[0], 250, 12) << "frame " << i;
    EXPECT_NEAR(centre[2], 40, 12) << "frame " << i;
  }
}

TEST(Recording, AnMp4StoresIdenticalFramesOnceAndShowsThemForTheirSum) {
  const std::string path = tmp_path("paused.mp4");
  auto writer = open_mp4_writer(path);
  const RgbImage a = square_frame(64, 48, 2, 2, 8), b = square_frame(64, 48, 30, 20, 8);
  for (int i = 0; i < 6; ++i) writer->add(a, i / 10.0);
  for (int i = 6; i < 10; ++i) writer->add(b, i / 10.0);
  writer->finish(1.0);
  EXPECT_EQ(writer->stored_frames(), 2);
  const DecodedVideo video = read_video(path);
  ASSERT_EQ(video.frames.size(), 2u);
  EXPECT_NEAR(video.seconds[1], 0.6, 0.002);
  EXPECT_NEAR(video.duration, 1.0, 0.002);
  EXPECT_LE(mean_difference(b, video.frames[1]), 4.0);
}

TEST(Recording, AnMp4RecorderWritesWhatItCaptured) {
  const std::string path = tmp_path("recorder.mp4");
  Recorder recorder(path, 10, nullptr, 64);
  for (int i = 0; i < 8; ++i) {
    const RgbImage image = square_frame(80, 60, 5 * i, 20, 10);
    ASSERT_TRUE(recorder.offer(CapturedFrame{image.width, image.height, image.rgb, 5.0 + i / 10.0, ""}));
  }
  const RecordingStats stats = recorder.stop();
  EXPECT_EQ(stats.problem, "");
  EXPECT_EQ(stats.stored, 8);
  EXPECT_GT(stats.bytes, 0);
  EXPECT_NEAR(stats.seconds, 0.8, 1e-9);
  EXPECT_GT(stats.encode_seconds, 0);
  const DecodedVideo video = read_video(path);
  EXPECT_EQ(video.frames.size(), 8u);
  EXPECT_NEAR(video.duration, 0.8, 0.002);
}
#endif

}  // namespace
}  // namespace latent
