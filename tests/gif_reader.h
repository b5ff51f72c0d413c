#pragma once
// A GIF read back with giflib's decoder, frame by frame as a viewer composes them (tests only).
#include <gif_lib.h>

#include <string>
#include <vector>

#include "latent/error.h"
#include "latent/recording.h"

namespace latent::test {

struct DecodedGif {
  int width = 0, height = 0;
  std::vector<RgbImage> frames;  // as shown, each composed over the one before
  std::vector<int> delays_cs;
  bool loops = false;
};

inline DecodedGif read_gif(const std::string& path) {
  int error = 0;
  GifFileType* gif = DGifOpenFileName(path.c_str(), &error);
  if (!gif) throw Error("cannot open " + path);
  if (DGifSlurp(gif) != GIF_OK) {
    DGifCloseFile(gif, &error);
    throw Error("cannot decode " + path);
  }
  DecodedGif out;
  out.width = gif->SWidth, out.height = gif->SHeight;
  RgbImage canvas{out.width, out.height, std::vector<uint8_t>(size_t(out.width) * out.height * 3)};
  for (int i = 0; i < gif->ImageCount; ++i) {
    const SavedImage& image = gif->SavedImages[i];
    const GifImageDesc& d = image.ImageDesc;
    const ColorMapObject* map = d.ColorMap ? d.ColorMap : gif->SColorMap;
    for (int y = 0; y < d.Height; ++y)
      for (int x = 0; x < d.Width; ++x) {
        const GifColorType c = map->Colors[image.RasterBits[size_t(y) * d.Width + x]];
        uint8_t* p = canvas.rgb.data() + (size_t(d.Top + y) * out.width + d.Left + x) * 3;
        p[0] = c.Red, p[1] = c.Green, p[2] = c.Blue;
      }
    GraphicsControlBlock control{};
    DGifSavedExtensionToGCB(gif, i, &control);
    out.delays_cs.push_back(control.DelayTime);
    out.frames.push_back(canvas);
    for (int e = 0; e < image.ExtensionBlockCount; ++e)
      if (image.ExtensionBlocks[e].Function == APPLICATION_EXT_FUNC_CODE && image.ExtensionBlocks[e].ByteCount == 11 &&
          std::string(reinterpret_cast<const char*>(image.ExtensionBlocks[e].Bytes), 11) == "NETSCAPE2.0")
        out.loops = true;
  }
  DGifCloseFile(gif, &error);
  return out;
}

}  // namespace latent::test
