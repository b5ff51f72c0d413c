// Training: dataset, model, hyperparameters, run controls and checkpoints.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "latent/config.h"
#include "latent/error.h"
#include "latent/torchscript.h"
#include "ui/dataset_preview.h"
#include "views/view.h"

namespace latent::app {
namespace {

const char* state_text(const Snapshot& s) { return to_string(s.state); }

ImVec4 state_color(TrainerState state) {
  switch (state) {
    case TrainerState::Running: return {0.4f, 0.9f, 0.4f, 1};
    case TrainerState::Paused: return {0.95f, 0.8f, 0.3f, 1};
    case TrainerState::Diverged:
    case TrainerState::Error: return {1.0f, 0.4f, 0.35f, 1};
    case TrainerState::Idle: break;
  }
  return {0.7f, 0.7f, 0.7f, 1};
}

// Images in the preview strip.
constexpr int kPreviewImages = 12;

// A strip of training images under the dataset's summary (one of each class first), so that what
// was loaded can be seen before anything trains; a hovered image names its class.
void data_preview(const Dataset& data, Gfx& gfx) {
  char address[32];
  std::snprintf(address, sizeof address, "|%p", static_cast<const void*>(&data.impl()));
  const std::string key = data.spec() + address;
  if (key != gfx.data_preview_key) {
    gfx.data_preview_key = key;
    const ImageBatch images = data.train_images(ui::preview_indices(data.train_labels(), data.train_size(), data.classes(), kPreviewImages));
    if (images.count > 0) gfx.data_preview.upload_tiled(images, 1, int(images.count));
  }
  if (!gfx.data_preview.valid()) return;
  const float aspect = float(gfx.data_preview.width()) / float(gfx.data_preview.height());
  // As wide as the panel, but no taller than two lines of text, so that a wide window does not push
  // the model's fields down.
  const float height = std::min(ImGui::GetContentRegionAvail().x / aspect, ImGui::GetFontSize() * 2.2f);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  gfx.renderer.image(gfx.data_preview, ImVec2(height * aspect, height), gfx.colormap);
  if (ImGui::IsItemHovered()) {
    const auto shown = ui::preview_indices(data.train_labels(), data.train_size(), data.classes(), kPreviewImages);
    const int slot = std::clamp(int((ImGui::GetIO().MousePos.x - p.x) / (height * aspect) * float(shown.size())), 0, int(shown.size()) - 1);
    const int64_t index = shown[size_t(slot)];
    const auto& labels = data.train_labels();
    const int32_t label = size_t(index) < labels.size() ? labels[size_t(index)] : kUnlabeled;
    ImGui::SetTooltip("training image #%lld: %s", (long long)index, data.class_name(label).c_str());
  }
}

}  // namespace

class TrainingView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void TrainingView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Training", open)) return ImGui::End();
  TrainingForm& f = state.form;
  ImGui::PushItemWidth(ImGui::GetFontSize() * 9);

  if (!state.presenting) {  // presenting: the run and beta only
  section("Dataset");
  const char* datasets[] = {"MNIST", "Fashion-MNIST", "shapes", "Folder or file"};
  ImGui::Combo("##dataset", &f.dataset, datasets, 4);
  if (f.dataset == 3) {
    ImGui::SameLine();
    ImGui::InputTextWithHint("##dir", "folder, IDX directory or .npy", f.directory, sizeof f.directory);
    if (!state.recent_datasets.empty()) {
      ImGui::SameLine(0, 2);
      if (ImGui::BeginCombo("##recent", nullptr, ImGuiComboFlags_NoPreview)) {
        for (const auto& path : state.recent_datasets)
          if (ImGui::Selectable(path.c_str())) std::snprintf(f.directory, sizeof f.directory, "%s", path.c_str());
        ImGui::EndCombo();
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("recent datasets");
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Load##data")) {
    try {
      state.switch_dataset(f.dataset_spec(), f.data_options());
    } catch (const std::exception& e) {
      state.notify(std::string("dataset not loaded, the current one is kept: ") + e.what(), true, 0);
    }
  }
  help_marker("MNIST and Fashion-MNIST are where scripts/setup puts them; shapes is generated (sprites with known factors). "
              "A folder holds images (.png .jpg .bmp .gif .tga): one subfolder per class, flat (unlabeled), or train/ and test/. "
              "A .npy file holds [N,H,W], [N,H,W,C] or [N,C,H,W] images, uint8 or floats in [0, 1]. "
              "Loading a dataset starts the model afresh.");
  // How the images are read, in a popup so that the panel's rows stay where they are.
  ImGui::SameLine();
  if (ImGui::SmallButton("options##data")) ImGui::OpenPopup("data options");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("size, colour and labels for the next Load");
  if (ImGui::BeginPopup("data options")) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputTextWithHint("size", "HxW", f.size, sizeof f.size);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("resize every image to HxW (empty: keep their size)");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    const char* colors[] = {"auto", "gray", "rgb"};
    ImGui::Combo("color", &f.color, colors, 3);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("auto: RGB when any image is stored in colour");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14);
    ImGui::InputTextWithHint("labels", "labels .npy, for a .npy dataset", f.labels, sizeof f.labels);
    ImGui::EndPopup();
  }
  if (!state.data.empty())
    ImGui::TextDisabled("%s: %lld train, %lld test, %dx%d %s, %s", state.data.name().c_str(), (long long)state.data.train_size(),
                        (long long)state.data.test_size(), state.data.width(), state.data.height(),
                        state.data.channels() == 3 ? "RGB" : "gray",
                        state.data.labeled() ? (std::to_string(state.data.classes()) + " classes").c_str() : "unlabeled");
  // --limit trains on a prefix of the training set; say so beside the set's size.
  if (const int64_t limit = state.snapshot ? state.snapshot->train.limit : 0; !state.data.empty() && limit > 0 && limit < state.data.train_size())
    ImGui::TextDisabled("training on the first %lld of them (--limit)", (long long)limit);
  if (!state.data.empty()) data_preview(state.data, gfx);

  section("Model (applies on Reset)");
  // A TorchScript model's own file decides its layers, latent size, likelihood and prior.
  const bool from_file = f.architecture == 2 && f.script_model.script;
  if (from_file)
    ImGui::TextDisabled("latent dim %d, from the file", f.script_model.latent_dim);
  else
    ImGui::InputInt("latent dim", &f.latent);  // not clamped: Reset refuses a bad value with a banner
  help_marker("Dimensions of z. With 2, the latent pad shows the whole space; more dims reconstruct better.");
  const char* architectures[] = {"mlp", "conv", "torchscript file"};
  const bool have_script = f.script_model.script != nullptr;
  ImGui::Combo("architecture", &f.architecture, architectures, have_script ? 3 : 2);
  help_marker("mlp: fully connected layers. conv: stride-2 3x3 convolutions that halve the image at each layer, "
              "and transposed convolutions that grow it back. Convolutions share their weights across the image, "
              "so they see strokes wherever they are. torchscript file: your own PyTorch VAE (File > Open PyTorch "
              "model), which decides its own layers, latent size and likelihood.");
  if (f.architecture == 2 && have_script) {
    const ModelConfig& m = f.script_model;
    ImGui::TextWrapped("%s: latent %d, %dx%d %s, %s%s", torchscript_path(m).c_str(), m.latent_dim, m.image_width, m.image_height,
                       m.image_channels == 3 ? "RGB" : "gray", to_string(m.likelihood).c_str(),
                       state.watched_file().empty() ? "" : ", watched");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Reset starts again from the file's weights; Start fine-tunes them here. The latent, layer and "
                        "likelihood fields do not apply to it.");
  } else if (f.architecture == 1) {
    ImGui::InputText("channels", f.channels, sizeof f.channels);
    help_marker("Filters of each convolution, comma separated (e.g. 32,64,128: 28x28 -> 14x14x32 -> 7x7x64 -> 4x4x128). "
                "The decoder mirrors them.");
    ImGui::InputText("dense", f.dense, sizeof f.dense);
    help_marker("Fully connected layers between the convolutions and z, comma separated (e.g. 256), or none. "
                "The decoder mirrors them, so a 2-D z reaches the transposed convolutions through them.");
  } else {
    ImGui::InputText("hidden", f.hidden, sizeof f.hidden);
    help_marker("Encoder hidden widths, comma separated (e.g. 512,256). The decoder mirrors them.");
  }
  ImGui::BeginDisabled(from_file);
  const char* activations[] = {"relu", "elu"};
  ImGui::Combo("activation", &f.activation, activations, 2);
  const char* likelihoods[] = {"bernoulli", "gaussian"};
  ImGui::Combo("likelihood", &f.likelihood, likelihoods, 2);
  help_marker("p(x|z). Bernoulli: the reconstruction term is the binary cross-entropy of the pixels. "
              "Gaussian: squared error scaled by 1/(2 sigma^2), plus the normaliser.");
  if (f.likelihood == 1) {
    ImGui::InputFloat("sigma", &f.sigma, 0, 0, "%.3f");
    ImGui::SameLine();
    ImGui::Checkbox("learned", &f.learn_sigma);
  }
  const char* priors[] = {"normal", "mog", "vamp"};
  if (f.prior != 0) ImGui::SetNextItemWidth(ImGui::CalcItemWidth() * 0.55f);
  if (ImGui::Combo("##prior", &f.prior, priors, 3) && f.prior != 0)
    f.components = default_prior_components(priors[f.prior]);  // 10 Gaussians, 500 pseudo-inputs
  if (f.prior != 0) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::CalcItemWidth() * 0.4f);
    ImGui::InputInt("##components", &f.components, 0);  // not clamped: Reset refuses a bad K with a banner
    if (ImGui::IsItemHovered()) ImGui::SetTooltip(f.prior == 1 ? "K: Gaussians in the mixture" : "K: pseudo-inputs");
  }
  ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
  ImGui::TextUnformatted("prior");
  help_marker("p(z), what the KL term pulls each q(z|x) towards. normal: N(0, I), KL in closed form. mog: a mixture of "
              "K Gaussians whose means, variances and weights are learned. vamp (the VampPrior): the average of the "
              "encoder's q(z|u_k) over K learned pseudo-images u_k. A learned prior can follow the data's shape "
              "instead of forcing it into one round blob; its KL is then estimated by sampling.");
  const bool labeled = !state.data.empty() && state.data.labeled();  // no dataset loaded: none
  ImGui::BeginDisabled(!labeled && !f.conditional);
  ImGui::Checkbox("conditional", &f.conditional);
  ImGui::EndDisabled();
  ImGui::EndDisabled();  // from_file
  if (!labeled && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip("needs labelled data: this dataset has no classes");
  help_marker("A conditional VAE (CVAE): the image's class y goes into the encoder and the decoder, q(z|x, y) and "
              "p(x|z, y). z then need not carry the class, and holds the style instead; any z can be decoded as any "
              "class (the Decoded image view's class picker, and its row of every class).");

  }

  section("Hyperparameters");
  if (ImGui::InputDouble("lr", &f.lr, 0, 0, "%.2e", ImGuiInputTextFlags_EnterReturnsTrue)) state.set_learning_rate(f.lr);
  help_marker("Adam's learning rate. Press Enter to apply it now, mid-run; the change is marked on the curves.");
  ImGui::SliderFloat("beta", &f.beta, 0.0f, 10.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
  if (ImGui::IsItemDeactivatedAfterEdit()) state.set_beta(f.beta);  // on release, not every drag tick
  help_marker("The KL weight: loss = recon + beta * KL. beta = 1 is the ELBO. Large beta pushes q(z|x) towards the "
              "prior: smoother latent space, blurrier images, and at the extreme posterior collapse (KL = 0).");
  if (ImGui::InputFloat("KL warm-up epochs", &f.warmup, 0, 0, "%.1f", ImGuiInputTextFlags_EnterReturnsTrue))
    state.set_warmup_epochs(f.warmup);
  help_marker("beta rises linearly from 0 over this many epochs; a cure for posterior collapse.");
  ImGui::InputInt("batch", &f.batch);
  help_marker("Images per step; applies on Reset.");
  // Applied on Reset, so a bad value is said here, where it was typed, not only when Reset refuses it.
  if (std::string problem = check_batch_size(f.batch); !problem.empty())
    ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1), "%s", problem.c_str());
  ImGui::InputTextWithHint("corrupt input", "none, gaussian:0.3, mask:0.5, saltpepper:0.2", f.corrupt, sizeof f.corrupt);
  help_marker("A denoising VAE (applies on Reset): the encoder sees each training image corrupted - gaussian:S adds "
              "noise of standard deviation S, mask:P blacks out pixels with probability P, saltpepper:P sets them to "
              "black or white - while the reconstruction term scores the clean image. The model learns to undo the "
              "corruption; the Denoising view shows it on test images.");

  section("Run");
  const bool running = state.training();
  if (ImGui::Button(running ? "Pause (space)" : "Start (space)")) running ? state.pause() : state.start_or_resume();
  same_line_if_fits(button_width("Step (S)"));
  if (ImGui::Button("Step (S)")) state.step();
  same_line_if_fits(button_width("Reset (R)"));
  if (ImGui::Button("Reset (R)")) state.reset_from_form();
  help_marker("Reset starts a new model with the fields above (latent dim, hidden, batch...). R does the same.");
  same_line_if_fits(button_width("Lessons (L)"));
  if (ImGui::Button("Lessons (L)")) state.open_lessons_requested = true;
  help_marker("A guided walk through the ELBO and what VAEs are used for, each step opening the views it talks about.");
  if (state.snapshot) {
    const Snapshot& s = *state.snapshot;
    char overlay[64];
    std::snprintf(overlay, sizeof overlay, "epoch %d  %.0f%%", s.epoch + 1, 100 * s.epoch_progress);
    ImGui::ProgressBar(float(s.epoch_progress), ImVec2(-1, 0), overlay);
    ImGui::TextColored(state_color(s.state), "%s", state_text(s));
    ImGui::SameLine();
    ImGui::Text("step %lld  %.0f samples/s  %s", (long long)s.step, s.samples_per_s, s.device.c_str());
    if (s.last_step.step > 0) {  // a step taken in this session (a resumed run has none yet)
      ImGui::Text("lr %.2e  beta %.3g  recon %.1f  KL %.2f", s.last_step.learning_rate, s.last_step.beta, s.last_step.recon,
                  s.last_step.kl);
      if (s.model.likelihood == ReconstructionLikelihood::Gaussian) help_marker(kNegativeNatsHelp);
      help_marker("recon = -E_q[log p(x|z)]: how badly a z drawn from q(z|x) = N(mu, sigma^2), z = mu + sigma * eps, "
                  "reconstructs x (nats per image). KL = KL(q(z|x) || p(z)) = 1/2 sum(mu^2 + sigma^2 - log sigma^2 - 1): "
                  "how far each code is from the prior N(0, I). Their sum is -ELBO, an upper bound on -log p(x); "
                  "the gap is KL(q(z|x) || p(z|x)).");
    }
    if (s.have_epoch) ImGui::Text("test -ELBO %.2f nats (epoch %d)", s.last_epoch.test_loss, s.last_epoch.epoch);
  } else {
    ImGui::TextDisabled("no model: load a dataset");
  }

  if (state.presenting) {
    ImGui::PopItemWidth();
    ImGui::End();
    return;
  }
  section("Checkpoint");
  ImGui::PushItemWidth(-1);
  ImGui::InputText("##ckpt", f.checkpoint, sizeof f.checkpoint);
  ImGui::PopItemWidth();
  if (ImGui::Button("Save")) state.save_checkpoint(f.checkpoint);
  ImGui::SameLine();
  if (ImGui::Button("Load")) state.load_checkpoint(f.checkpoint);
  help_marker("Saves weights, Adam state, config and progress. Files are written atomically: a crash mid-save "
              "leaves the previous checkpoint intact. A file that is corrupt or for another model is refused.");
  ImGui::PopItemWidth();

  ImGui::End();
}

std::unique_ptr<View> make_training_view() { return make_view<TrainingView>(); }

}  // namespace latent::app
