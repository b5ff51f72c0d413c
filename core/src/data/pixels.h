#pragma once
// Internal: bringing a decoded image to the dataset's form: C = 1 or 3 channel planes of H×W bytes.
// Alpha is composited over black (the background of MNIST-like sets), colour becomes gray by Rec. 601
// luma (as Pillow's "L"), gray becomes RGB by repeating it, and the size changes by area averaging
// when shrinking and bilinear interpolation when enlarging. No LibTorch here.
#include <cstdint>

namespace latent {

// A decoded image as its source holds it: `channels` of 1 (gray), 2 (gray, alpha), 3 (RGB) or 4
// (RGBA), with element (c, y, x) at data[c·stride_c + y·stride_y + x·stride_x]. Interleaved pixels
// (stb_image, NumPy's HWC) have stride_c = 1; planar ones (CHW) have stride_x = 1.
struct PixelView {
  const uint8_t* data = nullptr;
  int channels = 1;
  int height = 0, width = 0;
  int64_t stride_c = 1, stride_y = 0, stride_x = 1;

  static PixelView interleaved(const uint8_t* data, int channels, int height, int width) {
    return {data, channels, height, width, 1, int64_t(width) * channels, channels};
  }
  static PixelView planar(const uint8_t* data, int channels, int height, int width) {
    return {data, channels, height, width, int64_t(height) * width, width, 1};
  }
};

// Writes `out_channels` planes of out_height × out_width bytes to `out`.
void conform_image(const PixelView& in, int out_channels, int out_height, int out_width, uint8_t* out);

}  // namespace latent
