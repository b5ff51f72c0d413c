// AppState and a user's TorchScript file: the question before a file from elsewhere runs, loading it off the UI thread, dropping it when its code is stopped, --watch, and exporting ours as TorchScript.
#include "app_state.h"

#include <sys/stat.h>
#include <thread>
#include <utility>
#include "latent/error.h"
#include "latent/model_trust.h"
#include "latent/torchscript.h"

namespace latent::app {

void AppState::load_model_file(const std::string& path, bool watch, bool ask) { start_model_load(path, watch, ask, ""); }

void AppState::start_model_load(const std::string& path, bool watch, bool ask, const std::string& consented) {
  model_question.reset();
  if (data.empty()) return notify("cannot use the model file " + path + ": no dataset loaded; the current model is kept", true, 0);
  TrainConfig train = snapshot ? snapshot->train : options.run.train;
  if (!options.run.given.count("--epochs")) train.epochs = 0;
  model_loader_.start({path, watch, false, data, train, ask, consented}, now);
  notify("loading " + path + " (a TorchScript file runs its own code; it is checked first)", false, 4);
}

void AppState::answer_model_question(bool open) {
  if (!model_question) return;
  const ModelQuestion q = std::move(*model_question);
  model_question.reset();
  if (!open) return notify("did not open " + q.path + "; the current model is kept", false, 4);
  if (std::string problem = trust_model(q.sha256, q.path); !problem.empty())
    notify("cannot remember that " + q.path + " may run (" + problem + "); it will be asked about again", true, 8);
  start_model_load(q.path, q.watch, true, q.sha256);  // these bytes: a file changed since is asked about again
}

void AppState::poll_model_loader() {
  std::optional<UserModelLoader::Result> loaded = model_loader_.poll(now);
  if (!loaded) return;
  UserModelLoader::Request& r = loaded->request;
  if (!loaded->question_sha256.empty()) {
    model_question = ModelQuestion{r.path, r.watch, loaded->question_sha256};
    return;
  }
  if (r.reload) {
    if (!loaded->problem.empty())
      return notify(r.path + " changed but cannot be used; still showing the version before: " + loaded->problem, true, 10);
    if (trainer) trainer->reload(loaded->model);
    form.script_model = loaded->model;
    const int64_t step = torchscript_step(loaded->model);
    return notify("reloaded " + r.path + (step >= 0 ? " at step " + std::to_string(step) : std::string()), false, 3);
  }
  if (!loaded->problem.empty()) return notify("cannot use the model file, the current model is kept: " + loaded->problem, true, 0);
  // The app's own model waits, paused, in case the user's code has to be given up later (a user's
  // model replaced by another is not kept: what comes back is always one of the app's own).
  if (trainer && !runs_user_code(trainer->snapshot()->model)) {
    trainer->pause();
    model_before_user_code_ = std::move(trainer);
    data_before_user_code_ = data;
  }
  install_trainer(std::move(loaded->trainer), r.data);  // the images it was checked against
  form.script_model = loaded->model;
  watch_path_ = r.watch ? r.path : "";
  watch_loaded_ = watch_seen_ = stamp_of(r.path);
  const int64_t step = torchscript_step(loaded->model);
  notify("loaded " + r.path + " (latent " + std::to_string(loaded->model.latent_dim) + ", " + to_string(loaded->model.likelihood) +
             (step >= 0 ? ", step " + std::to_string(step) : std::string()) + (r.watch ? "; watching it for changes" : "") + ")",
         false);
  if (options.train) start_or_resume();
}

void AppState::drop_user_model(const std::string& why) {
  // A second report (the trainer and a view's job both stopped) comes after the model has gone.
  if (!trainer || !runs_user_code(trainer->snapshot()->model)) return notify(why, true, 8);
  watch_path_.clear();
  if (!model_before_user_code_) {
    trainer->pause();
    return notify(why + "; training that model is paused (Reset starts one of the explorer's own)", true, 0);
  }
  notify(why + "; the model from that file is dropped and the one before it is back", true, 0);
  // Its trainer may still be inside the module (a view's call stopped, the trainer's not yet): it
  // ends on a thread of its own, so that the window never waits for it.
  std::unique_ptr<Trainer> dropped = std::move(trainer);
  std::thread([dropped = std::move(dropped)]() mutable { dropped.reset(); }).detach();
  install_trainer(std::move(model_before_user_code_), std::exchange(data_before_user_code_, Dataset()));
}

AppState::FileStamp AppState::stamp_of(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = int64_t(st.st_size);
  s.inode = int64_t(st.st_ino);
  return s;
}

void AppState::poll_watched_file() {
  if (watch_path_.empty() || now < watch_next_check_ || model_loader_.busy()) return;
  watch_next_check_ = now + 0.5;
  // A file that is missing for a moment (being replaced) is looked at again on the next check.
  const FileStamp stamp = stamp_of(watch_path_);
  if (stamp.size < 0 || stamp == watch_loaded_) return;
  // Changed: loaded once it has held still for one check, so that a writer that does not replace the
  // file atomically is not read half-way.
  if (!(stamp == watch_seen_)) {
    watch_seen_ = stamp;
    return;
  }
  watch_loaded_ = stamp;
  model_loader_.start({watch_path_, true, true, data, TrainConfig{}, false, ""}, now);  // watching it was the choice
}

void AppState::export_model() {
  if (!snapshot || !snapshot->weights) return notify("nothing to export: no model", true, 6);
  if (std::string problem = torchscript_export_problem(snapshot->model); !problem.empty())
    return notify("cannot export this model as TorchScript: " + problem, true, 10);
  try {
    const std::string path = export_path("model.pt");
    export_torchscript(*snapshot->weights, path, snapshot->step);
    notify("exported " + path + " (Python: torch.jit.load; here: --model)", false, 8);
  } catch (const std::exception& e) {
    notify(std::string("model export failed: ") + e.what(), true, 0);
  }
}

}  // namespace latent::app
