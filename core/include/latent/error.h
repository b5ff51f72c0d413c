#pragma once
// Errors a user can cause (a bad file, flag or value) are thrown as latent::Error with a message that
// names what is wrong; every boundary (latent-train's main, the trainer thread, the app) catches them.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace latent {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `text` made safe to print on one line of a terminal: control characters (a newline that would
// forge a second "error:" line, the escape that starts a terminal command, C1 controls) are written
// as escapes (\n, \t, \x1b). File names and a module's own words pass through this wherever they
// reach stderr or stdout.
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;  // U+0080..U+009F in UTF-8
    if (c >= 0x20 && c != 0x7F && !c1) {
      out += char(c);
      continue;
    }
    if (c == '\n') { out += "\\n"; continue; }
    if (c == '\t') { out += "\\t"; continue; }
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", c1 ? static_cast<unsigned char>(text[++i]) : c);
    out += hex;
  }
  return out;
}

}  // namespace latent
