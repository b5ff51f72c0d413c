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
  // An error raised inside TorchScript code: the interpreter's preamble and traceback, then the
  // error itself ("builtins.ValueError: ..."), which is what the module's author wrote.
  if (text.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
    size_t end = text.find_last_not_of("\n ");
    if (end != std::string::npos) {
      const size_t start = text.rfind('\n', end);
      const std::string last = text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
      return last.rfind("builtins.", 0) == 0 ? last.substr(9) : last;
    }
  }
  const size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

}  // namespace latent
