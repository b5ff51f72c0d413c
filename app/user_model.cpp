#include "user_model.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "latent/error.h"
#include "latent/model_trust.h"
#include "latent/resources.h"
#include "latent/torchscript.h"

namespace latent::app {
namespace {

struct Unknown {
  std::string sha256;
};

UserModelLoader::Result load(UserModelLoader::Request request) {
  UserModelLoader::Result r;
  try {
    ModelConfig model = load_torchscript(request.path, [&](const std::string& sha256) {
      if (request.ask && sha256 != request.consented && !is_trusted_model(sha256)) throw Unknown{sha256};
    });
    const Dataset& d = request.data;
    if (std::string problem = fit_model_to_data(model, false, d.channels(), d.height(), d.width(), d.classes(), "dataset " + d.name());
        !problem.empty())
      throw Error(problem);
    if (!request.reload) r.trainer = std::make_unique<Trainer>(d, model, request.train);
    r.model = std::move(model);
  } catch (const Unknown& unknown) {
    r.question_sha256 = unknown.sha256;
  } catch (const std::exception& e) {
    r.problem = describe_exception(e);
    r.trainer.reset();
  }
  r.request = std::move(request);
  return r;
}

}  // namespace

void UserModelLoader::start(Request request, double now) {
  path_ = request.path;
  started_ = now;
  request_ = request;
  // A detached thread and a packaged task rather than std::async, whose future would block the UI
  // (or the app's exit) in its destructor while a stuck load runs on.
  auto task = std::make_shared<std::packaged_task<Result()>>([request = std::move(request)] { return load(request); });
  pending_ = task->get_future();
  std::thread([task] { (*task)(); }).detach();
}

std::optional<UserModelLoader::Result> UserModelLoader::poll(double now) {
  if (!pending_.valid()) return std::nullopt;
  if (pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return pending_.get();
  const double limit = user_code_time_limit();
  if (limit <= 0 || now - started_ < limit + 5) return std::nullopt;
  pending_ = {};  // abandoned: the thread may finish some day, and its result goes nowhere
  Result r;
  r.request = std::move(request_);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", limit);
  r.problem = path_ + ": loading it has taken more than " + seconds +
              " s (--model-time-limit) inside one operation of its code, which cannot be stopped; it is given up";
  return r;
}

}  // namespace latent::app
