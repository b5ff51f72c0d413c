// describe_exception (latent/resources.h), apart from the rest of resources.cpp: it alone needs
// LibTorch's headers, and the fuzz targets build the readers and options without LibTorch.
#include <c10/util/Exception.h>

#include <new>
#include <string>

#include "latent/resources.h"

namespace latent {

std::string describe_exception(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "out of memory";
  std::string text = e.what();
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) text = c10->what_without_backtrace();
  // LibTorch's allocator says "DefaultCPUAllocator: can't allocate memory: you tried to allocate N bytes."
  if (text.find("can't allocate memory") != std::string::npos) {
    const size_t at = text.find("you tried to allocate");
    return "out of memory" + (at == std::string::npos ? std::string() : " (" + text.substr(at, text.find_first_of(".\n", at) - at) + ")");
  }
  const size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

}  // namespace latent
