// The rules of --size, --color and --test-split, apart from the sources (the fuzz targets and the
// option parser link them without the data layer).
#include <string>

#include "data/source.h"
#include "latent/dataset.h"
#include "latent/error.h"

namespace latent {

std::string validate(const DataOptions& o) {
  if (o.color != "gray" && o.color != "rgb" && o.color != "auto") return "--color: '" + o.color + "' is not gray, rgb or auto";
  if (!(o.test_split > 0 && o.test_split <= 0.5))
    return "--test-split: " + std::to_string(o.test_split) + " is out of range (a fraction above 0, at most 0.5)";
  if ((o.height > 0) != (o.width > 0) || o.height < 0 || o.width < 0 || o.height > kMaxImageSide || o.width > kMaxImageSide)
    return "--size: " + std::to_string(o.height) + "x" + std::to_string(o.width) + " is out of range (1.." +
           std::to_string(kMaxImageSide) + " per side)";
  return "";
}

void parse_image_size(const std::string& text, int* height, int* width) {
  auto side = [&](const std::string& part) {
    if (part.empty() || part.size() > 5 || part.find_first_not_of("0123456789") != std::string::npos)
      throw Error("--size: '" + text + "' is not HxW (e.g. 32x32) or a single side");
    const int v = std::stoi(part);
    if (v < 1 || v > kMaxImageSide) throw Error("--size: " + part + " is out of range (1.." + std::to_string(kMaxImageSide) + " per side)");
    return v;
  };
  const size_t x = text.find_first_of("xX");
  *height = side(text.substr(0, x));
  *width = x == std::string::npos ? *height : side(text.substr(x + 1));
}

bool DataOptions::operator==(const DataOptions& o) const {
  return labels == o.labels && height == o.height && width == o.width && color == o.color && test_split == o.test_split &&
         skip_bad == o.skip_bad;
}

}  // namespace latent
