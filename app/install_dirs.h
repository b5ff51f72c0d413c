#pragma once
// Where the explorer's read-only files are: the source tree's (a build) or the installed copy,
// <prefix>/share/latent-explorer, found from the program's own path (/proc/self/exe), so that a
// package installed under /usr or unpacked anywhere finds its own files.
#include <string>

namespace latent::app {

// <prefix>/share/latent-explorer for the running program (<prefix>/bin/latent-explorer); "" when
// the program's path cannot be read.
std::string installed_share_dir();

// `installed` under installed_share_dir() when that is a directory (an installed program), else
// `source` when it is one (a program in its build tree), else "".
std::string data_dir(const std::string& source, const std::string& installed);

}  // namespace latent::app
