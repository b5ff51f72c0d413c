#pragma once
// Internal: a user's TorchScript module is code from elsewhere. Before any of it runs, its compiled
// graphs are read: operations that reach files, processes or the network are refused, and every
// loop gets a check of the calling thread's time limit, so that a call into the module can be
// stopped (latent/torchscript.h: set_user_code_time_limit, interrupt_user_code).
#include <torch/script.h>

#include <cstdint>
#include <string>

namespace latent {

// Refuses (latent::Error naming `path`, the function and the operation) a module whose code uses an
// operation this tool does not run, and with `instrument` adds the time-limit check to its loops.
// Call once on each freshly loaded module, before any of its methods runs. A module loaded only to be
// saved again is not instrumented: the check would be saved into its code, which Python cannot load.
void secure_module(torch::jit::Module& module, const std::string& path, bool instrument = true);

// One call into a user's module, on this thread: its loops stop the call once the time limit has passed
// or interrupt_user_code() was called. fail() turns what the call threw into a latent::Error that keeps
// the module's own message (UserCodeStopped when the limit or an interrupt stopped it).
class UserCodeCall {
 public:
  UserCodeCall(const std::string& path, const char* method);
  ~UserCodeCall();
  UserCodeCall(const UserCodeCall&) = delete;
  UserCodeCall& operator=(const UserCodeCall&) = delete;
  [[noreturn]] void fail(const std::exception& e) const;

 private:
  const std::string& path_;
  const char* method_;
  double previous_deadline_;
  const char* previous_method_;
  bool previous_stopped_;
  int64_t previous_memory_cap_, previous_memory_refused_, previous_memory_allowed_;
  double started_;
};

}  // namespace latent
