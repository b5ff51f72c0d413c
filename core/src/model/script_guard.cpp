// What a user's TorchScript module may do, and the time limit on each call into it (script_guard.h).
#include "model/script_guard.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <malloc.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/runtime/print_handler.h>
#include <torch/library.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <list>
#include <map>
#include <set>
#include <mutex>

#include "latent/error.h"
#include "latent/resources.h"
#include "latent/torchscript.h"

namespace latent {
namespace {

std::atomic<double> g_time_limit{10.0};
std::atomic<bool> g_interrupted{false};

// The calling thread's call into a module: its deadline (steady seconds, 0 for none), the method,
// and whether the check below stopped it.
thread_local double t_deadline = 0;
thread_local const char* t_method = nullptr;
thread_local bool t_stopped = false;
thread_local bool t_refused = false;  // the UI thread (refuse_user_code_on_this_thread)
// What the call's allocations may bring the user's live bytes to (0 outside a call), and the size of
// the allocation refused (0 when none was).
thread_local int64_t t_memory_cap = 0;
thread_local int64_t t_memory_refused = 0;
thread_local int64_t t_memory_allowed = 0;  // the share the cap gave this call, for the message

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The calls under way on every thread, for a watchdog (longest_user_code_call).
struct InFlight {
  double started;
  std::string what;
};
std::mutex g_in_flight_mutex;
std::list<InFlight> g_in_flight;

// Inserted at the top of every loop body of a user's code. It throws; the interpreter turns what it
// throws into its own error, so t_stopped is what tells UserCodeCall why the call ended.
void check_time_limit() {
  if (g_interrupted.load(std::memory_order_relaxed)) {
    t_stopped = true;
    throw Error("interrupted");
  }
  if (t_deadline > 0 && steady_seconds() > t_deadline) {
    t_stopped = true;
    throw Error("time limit");
  }
}

const char* kCheckOp = "latent::check_time_limit";

// Memory a user's code allocates: the bytes of CPU tensors allocated inside calls into user modules
// and not yet freed (whichever thread frees them). An allocation that would take them past the
// calling thread's cap is refused before it is made, so that a module asking for more than the
// machine has ends in a message rather than the kernel's OOM killer. Outside a call, and for other
// threads, the default allocator is used as it is.
std::atomic<int64_t> g_user_live{0};
std::atomic<int64_t> g_memory_limit{0};  // set_user_code_memory_limit; 0: what memory_limit() leaves

void free_user_bytes(void* p) {
  if (!p) return;
  g_user_live.fetch_sub(int64_t(malloc_usable_size(p)), std::memory_order_relaxed);
  c10::free_cpu(p);
}

class UserCodeAllocator final : public c10::Allocator {
 public:
  explicit UserCodeAllocator(c10::Allocator* base) : base_(base) {}
  c10::DataPtr allocate(size_t n) const override {
    if (t_memory_cap <= 0 || n == 0) return base_->allocate(n);
    if (g_user_live.load(std::memory_order_relaxed) + int64_t(n) > t_memory_cap) {
      t_memory_refused = int64_t(n);
      throw Error("memory");
    }
    void* p = c10::alloc_cpu(n);
    g_user_live.fetch_add(int64_t(malloc_usable_size(p)), std::memory_order_relaxed);
    return {p, p, &free_user_bytes, c10::Device(c10::DeviceType::CPU)};
  }
  // A raw allocation's block is freed with the default deleter (alloc_cpu's blocks are free_cpu's),
  // so one made inside a call stays counted: the count errs high, never low.
  c10::DeleterFnPtr raw_deleter() const override { return base_->raw_deleter(); }

 private:
  c10::Allocator* base_;
};

void install_user_code_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    static UserCodeAllocator allocator(c10::GetCPUAllocator());
    c10::SetCPUAllocator(&allocator, /*priority=*/1);
  });
}

// What one call may bring the user's live bytes to: what is live now and 7/8 of what memory_limit()
// leaves (the rest is the app's own), read at most every half second.
int64_t memory_cap_for_call(double now, int64_t* allowed) {
  static std::mutex mutex;
  static double read_at = -1;
  static int64_t left = 0;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (read_at < 0 || now - read_at > 0.5) {
      left = memory_limit().bytes / 8 * 7;
      read_at = now;
    }
    *allowed = left;
  }
  const int64_t live = g_user_live.load(std::memory_order_relaxed);
  if (const int64_t fixed = g_memory_limit.load(std::memory_order_relaxed); fixed > 0) {
    *allowed = std::min(*allowed, fixed);
    return std::min(live + left, fixed);
  }
  return live > INT64_MAX - left ? INT64_MAX : live + left;
}

// CONSERVATIVE: the op has effects the graph cannot see, so no pass removes it as dead code.
TORCH_LIBRARY(latent, m) {
  m.def(torch::schema("latent::check_time_limit() -> ()", c10::AliasAnalysisKind::CONSERVATIVE), &check_time_limit);
}

// What a module's print() writes: to stderr, marked as the module's and made printable, so that it
// can neither pass for the tool's own output (latent-train's stdout lines) nor drive the terminal.
void print_from_module(const std::string& text) {
  std::string line = text;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  std::fprintf(stderr, "[model print] %s\n", printable(line).c_str());
}

// Operations a VAE has no use for and that reach past the module: files (from_file maps a file
// shared, so writing into the tensor writes the file), asynchronous work that would escape the time
// limit, remote calls, and Python.
bool refused_operation(const c10::Symbol kind, std::string* why) {
  const std::string ns = kind.ns().toUnqualString();
  static const std::set<std::string> allowed_namespaces = {"aten", "prim", "quantized", "_quantized", "prepacked", "latent"};
  if (!allowed_namespaces.count(ns)) return *why = "an operation outside PyTorch's tensor library", true;
  static const std::map<std::string, const char*> refused = {
      {"aten::from_file", "reads or writes a file"},
      {"aten::save", "writes a file"},
      {"prim::fork", "starts work on another thread"},
      {"prim::forkClosure", "starts work on another thread"},
      {"aten::wait", "waits on work on another thread"},
      {"prim::rpc_async", "calls another process"},
      {"prim::rpc_sync", "calls another process"},
      {"prim::rpc_remote", "calls another process"},
      {"prim::PythonOp", "calls Python"},
      {"prim::IgnoredPythonOp", "calls Python"},
  };
  auto it = refused.find(kind.toQualString());
  if (it == refused.end()) return false;
  *why = it->second;
  return true;
}

void secure_block(torch::jit::Block* block, const std::string& path, const std::string& function, bool instrument) {
  for (torch::jit::Node* node : block->nodes()) {
    std::string why;
    if (refused_operation(node->kind(), &why))
      throw Error(path + ": " + function + " uses " + node->kind().toQualString() + ", which " + why +
                  "; this tool does not run modules that reach past their tensors (docs/torchscript.md)");
    for (torch::jit::Block* inner : node->blocks()) secure_block(inner, path, function, instrument);
    if (instrument && node->kind() == c10::prim::Loop && !node->blocks().empty()) {
      torch::jit::Block* body = node->blocks()[0];
      body->prependNode(block->owningGraph()->create(c10::Symbol::fromQualString(kCheckOp), 0));
    }
  }
}

}  // namespace

UserCodeStopped::UserCodeStopped(const std::string& message, bool interrupted) : Error(message), interrupted_(interrupted) {}

void set_user_code_time_limit(double seconds) { g_time_limit = seconds; }
void refuse_user_code_on_this_thread() { t_refused = true; }
double user_code_time_limit() { return g_time_limit; }
void interrupt_user_code() noexcept { g_interrupted.store(true, std::memory_order_relaxed); }

double longest_user_code_call(std::string* what) {
  std::lock_guard<std::mutex> lock(g_in_flight_mutex);
  if (g_in_flight.empty()) return 0;
  const InFlight* oldest = &g_in_flight.front();
  for (const InFlight& c : g_in_flight)
    if (c.started < oldest->started) oldest = &c;
  if (what) *what = oldest->what;
  return steady_seconds() - oldest->started;
}

void set_user_code_memory_limit(int64_t bytes) { g_memory_limit = std::max<int64_t>(0, bytes); }
int64_t user_code_memory() { return g_user_live.load(std::memory_order_relaxed); }

void secure_module(torch::jit::Module& module, const std::string& path, bool instrument) {
  if (instrument) install_user_code_allocator();
  static std::once_flag print_handler;
  std::call_once(print_handler, [] { torch::jit::setPrintHandler(&print_from_module); });
  // Every function the file compiled: each class's methods (submodules included) and free functions.
  for (torch::jit::Function* f : module._ivalue()->compilation_unit()->get_functions()) {
    torch::jit::GraphFunction* graph = torch::jit::tryToGraphFunction(*f);
    if (!graph) continue;
    secure_block(graph->graph()->block(), path, f->qualname().qualifiedName(), instrument);
  }
}

UserCodeCall::UserCodeCall(const std::string& path, const char* method)
    : path_(path), method_(method), previous_deadline_(t_deadline), previous_method_(t_method), previous_stopped_(t_stopped),
      previous_memory_cap_(t_memory_cap), previous_memory_refused_(t_memory_refused), previous_memory_allowed_(t_memory_allowed),
      started_(steady_seconds()) {
  if (t_refused) throw Error(path + ": " + method + " was called on the thread that draws the window; a user's model runs only off it");
  const double limit = g_time_limit;
  t_deadline = limit > 0 ? started_ + limit : 0;
  if (previous_deadline_ > 0 && (t_deadline == 0 || previous_deadline_ < t_deadline)) t_deadline = previous_deadline_;
  t_method = method;
  t_stopped = false;
  int64_t allowed = 0;
  const int64_t cap = memory_cap_for_call(started_, &allowed);
  if (previous_memory_cap_ <= 0 || cap < previous_memory_cap_) t_memory_cap = cap, t_memory_allowed = allowed;
  t_memory_refused = 0;
  std::lock_guard<std::mutex> lock(g_in_flight_mutex);
  g_in_flight.push_back({started_, path + ": " + method});
}

UserCodeCall::~UserCodeCall() {
  t_deadline = previous_deadline_;
  t_method = previous_method_;
  t_stopped = previous_stopped_;
  t_memory_cap = previous_memory_cap_;
  t_memory_refused = previous_memory_refused_;
  t_memory_allowed = previous_memory_allowed_;
  std::lock_guard<std::mutex> lock(g_in_flight_mutex);
  for (auto it = g_in_flight.begin(); it != g_in_flight.end(); ++it)
    if (it->started == started_ && it->what == path_ + ": " + method_) {
      g_in_flight.erase(it);
      break;
    }
}

void UserCodeCall::fail(const std::exception& e) const {
  if (t_stopped) {
    if (g_interrupted) throw UserCodeStopped(path_ + ": " + method_ + " was interrupted", true);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", double(g_time_limit));
    throw UserCodeStopped(path_ + ": " + method_ + " ran past the time limit of " + seconds +
                              " s for one call and was stopped (--model-time-limit raises it)",
                          false);
  }
  if (t_memory_refused > 0)
    throw UserCodeStopped(path_ + ": " + method_ + " asked for " + format_bytes(t_memory_refused) + " more memory while its calls held " +
                              format_bytes(user_code_memory()) + ", past the " + format_bytes(t_memory_allowed) +
                              " a user's model may take here (" +
                              (g_memory_limit > 0 && g_memory_limit <= t_memory_allowed
                                   ? std::string("the limit set for a user's model")
                                   : "7/8 of what " + memory_limit().source + " leaves") +
                              "); it is refused before it is allocated",
                          false);
  if (const auto* ours = dynamic_cast<const UserCodeStopped*>(&e)) throw *ours;
  // The module's own exception, its first line: what the user's code said went wrong.
  throw Error(path_ + ": " + method_ + " failed: " + describe_exception(e));
}

}  // namespace latent
