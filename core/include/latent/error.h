#pragma once
// Errors a user can cause (a bad file, flag or value) are thrown as latent::Error with a message that
// names what is wrong; every boundary (latent-train's main, the trainer thread, the app) catches them.
#include <stdexcept>
#include <string>

namespace latent {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace latent
