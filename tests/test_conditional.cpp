// The conditional VAE: the class enters the encoder and the decoder of every architecture, the
// parameter count the checkpoint check relies on matches the built model, the class changes what is
// decoded, bad classes are refused by name, the hand-written step stays with the plain MLP, bounds
// keep their order on a trained conditional model (plain and VampPrior), the VampPrior's
// pseudo-inputs start from images of their own class, and checkpoints carry the classes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "latent/bounds.h"
#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/evaluation.h"
#include "latent/inference.h"
#include "latent/trainer.h"
#include "model/model.h"
#include "objective/objective.h"
#include "test_support.h"
#include "train/training_step.h"

namespace latent {
namespace {

ModelConfig conditional_config(const std::string& arch, int classes, std::vector<int> dense = {16}) {
  ModelConfig c;
  c.architecture = arch;
  c.image_height = 8;
  c.image_width = 6;
  c.latent_dim = 3;
  c.hidden = {16, 8};
  c.channels = {4, 6};
  c.dense = std::move(dense);
  c.classes = classes;
  return c;
}

int64_t counted(Model& model) {
  int64_t n = 0;
  for (const auto& [name, p] : named_trainables(model)) n += p.numel();
  return n;
}

TEST(Conditional, ParameterCountMatchesTheBuiltModel) {
  for (const auto& c : {conditional_config("mlp", 10), conditional_config("conv", 10), conditional_config("conv", 3, {}),
                        conditional_config("mlp", 1), conditional_config("conv", 7, {12, 5})}) {
    SCOPED_TRACE(describe_layers(c) + " classes " + std::to_string(c.classes));
    ModelPtr model = make_model(c, 1);
    EXPECT_EQ(counted(*model), parameter_count(c));
    ModelConfig plain = c;
    plain.classes = 0;
    EXPECT_GT(parameter_count(c), parameter_count(plain));
  }
}

TEST(Conditional, TheClassChangesTheDecodingAndTheEncoding) {
  for (const std::string arch : {"mlp", "conv"}) {
    SCOPED_TRACE(arch);
    ModelConfig c = conditional_config(arch, 4);
    ModelPtr model = make_model(c, 2);
    torch::NoGradGuard no_grad;
    auto gen = make_generator(5);
    const auto z = torch::randn({3, c.latent_dim}, gen);
    const auto x = torch::rand({3, c.pixels()}, gen);
    const auto y0 = model->condition(torch::tensor({0, 0, 0}, torch::kLong));
    const auto y2 = model->condition(torch::tensor({2, 2, 2}, torch::kLong));
    EXPECT_EQ(y0.sizes(), torch::IntArrayRef({3, 4}));
    EXPECT_EQ(model->decode(z, y0).sizes(), torch::IntArrayRef({3, c.pixels()}));
    EXPECT_GT((model->decode(z, y0) - model->decode(z, y2)).abs().max().item<float>(), 1e-4);
    EXPECT_GT((model->encode(x, y0).first - model->encode(x, y2).first).abs().max().item<float>(), 1e-4);
    // The allocation-free paths agree with encode()/decode().
    torch::Tensor mu = torch::empty({3, c.latent_dim}), logvar = torch::empty({3, c.latent_dim}), out = torch::empty({3, c.pixels()});
    model->encode_into(x, y2, mu, logvar);
    model->decode_into(z, y2, out);
    EXPECT_TRUE(torch::allclose(mu, model->encode(x, y2).first, 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(out, model->decode(z, y2), 1e-5, 1e-6));
    // Refused by name: no class, a class out of range, a condition of the wrong shape.
    try {
      model->decode(z);
      ADD_FAILURE() << "decoded without a class";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("needs the class"), std::string::npos) << e.what();
    }
    try {
      model->condition(torch::tensor({1, 4}, torch::kLong));
      ADD_FAILURE() << "class 4 of 4 accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("class 4 is outside the conditional model's classes 0..3"), std::string::npos) << e.what();
    }
    EXPECT_THROW(model->decode(z, y0.narrow(0, 0, 2)), Error);
    // A plain model ignores labels.
    ModelConfig plain = c;
    plain.classes = 0;
    EXPECT_FALSE(make_model(plain, 2)->condition(torch::tensor({1}, torch::kLong)).defined());
  }
}

// The conditional MLP trains with autograd: the hand-written step has the plain MLP's layers
// written into it, so it is neither picked nor allowed.
TEST(Conditional, TheHandWrittenStepIsForThePlainMlpOnly) {
  ModelPtr model = make_model(conditional_config("mlp", 3), 1);
  EXPECT_STREQ(make_training_step(*model, TrainingStep::Gradients::Own)->name(), "autograd step");
  EXPECT_THROW(make_training_step(*model, TrainingStep::Gradients::Own, StepEngine::HandWritten), Error);
  // Its gradient reaches the class columns of the first layers: the one-hot is an input.
  auto step = make_training_step(*model, TrainingStep::Gradients::IntoParameters);
  auto gen = make_generator(2);
  const auto x = torch::rand({6, 48}, gen), eps = torch::randn({6, 3}, gen);
  const auto y = model->condition(torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong));
  const StepTerms t = step->run(x, eps, 1.0, 0, y);
  EXPECT_TRUE(std::isfinite(t.loss));
  const auto params = model->named_parameters();
  const auto enc = params["encoder.body.0.weight"].grad(), dec = params["decoder.body.0.weight"].grad();
  EXPECT_GT(enc.narrow(1, 48, 3).abs().sum().item<float>(), 0);  // the columns after the 48 pixels
  EXPECT_GT(dec.narrow(1, 3, 3).abs().sum().item<float>(), 0);   // the columns after z's 3
  EXPECT_THROW(step->run(x, eps, 1.0), Error);
}

// Trained on MNIST with its labels: exact ≤ IW ≤ −ELBO, with each image's own class; samples,
// reconstructions and the test encoding use the classes; the checkpoint round trip keeps them.
TEST(Conditional, BoundsKeepTheirOrderAndCheckpointsCarryTheClasses) {
  Dataset mnist = Dataset::load(test::mnist_dir());
  for (const auto& [prior, components] : std::vector<std::pair<std::string, int>>{{"normal", 0}, {"vamp", 30}}) {
    SCOPED_TRACE(prior);
    ModelConfig m;
    m.latent_dim = 2;
    m.hidden = {256};
    m.classes = 10;
    m.prior = prior;
    m.prior_components = components;
    TrainConfig t;
    t.limit = 6000;
    t.epochs = 2;
    t.threads = 2;
    Trainer trainer(mnist, m, t);
    if (prior == "vamp") {
      // At step 0 pseudo-input k is a training image of class k mod 10.
      const ImageBatch u = trainer.snapshot()->weights->pseudo_inputs();
      ASSERT_EQ(u.count, components);
      std::vector<int64_t> first(6000);
      for (int64_t i = 0; i < 6000; ++i) first[size_t(i)] = i;
      const ImageBatch train = mnist.train_images(first);
      for (int64_t k = 0; k < u.count; ++k) {
        int64_t match = -1;
        for (int64_t i = 0; i < train.count && match < 0; ++i)
          if (std::equal(u.image(k), u.image(k) + u.pixels_per_image(), train.image(i))) match = i;
        ASSERT_GE(match, 0) << "pseudo-input " << k;
        EXPECT_EQ(train.labels[size_t(match)], k % 10) << "pseudo-input " << k;
      }
    }
    trainer.start();
    ASSERT_TRUE(trainer.wait_until_settled(300));
    ASSERT_EQ(trainer.snapshot()->state, TrainerState::Idle) << trainer.snapshot()->message;
    EXPECT_STREQ(trainer.snapshot()->step_engine.c_str(), "autograd step");
    auto vae = trainer.snapshot()->weights;
    BoundEvaluation b = evaluate_bounds(*vae, mnist, 200, true, 40);
    // IW_K is below log p(x) in expectation; its estimate over 40 images may land a little above
    // when q(z|x, y) is close to the true posterior (0.02 nats was seen under the VampPrior).
    EXPECT_LT(b.exact_nll, b.iw_loss + 0.1) << b.exact_nll << " " << b.iw_loss;
    EXPECT_LT(b.iw_loss, b.elbo.loss) << b.iw_loss << " " << b.elbo.loss;
    // The same bound through the ImageBatch entry (which carries the labels).
    std::vector<int64_t> idx(40);
    for (int i = 0; i < 40; ++i) idx[size_t(i)] = i;
    ImageBatch images = mnist.test_images(idx);
    ASSERT_EQ(images.labels.size(), 40u);
    EXPECT_NEAR(evaluate_bounds(*vae, images, 0, false).elbo.loss, b.elbo.loss, 1e-3);
    // Under a wrong class the images are far less likely: the class carries information.
    ImageBatch wrong = images;
    for (auto& label : wrong.labels) label = (label + 5) % 10;
    EXPECT_GT(evaluate_bounds(*vae, wrong, 0, false).elbo.loss, b.elbo.loss + 20);
    images.labels.clear();
    EXPECT_THROW(vae->encode(images), Error);
    EXPECT_THROW(vae->sample_prior(4, 1), Error);
    // One class for all rows, or one per row: the same images.
    const LatentMatrix z = vae->sample_latents(4, 3);
    EXPECT_EQ(vae->decode(z, {7}).pixels, vae->decode(z, {7, 7, 7, 7}).pixels);
    EXPECT_NE(vae->decode(z, {7}).pixels, vae->decode(z, {1}).pixels);
    EXPECT_THROW(vae->decode(z, {7, 7}), Error);
    GridSpec grid;
    grid.k = 3;
    grid.label = 4;
    EXPECT_EQ(decode_grid(*vae, grid).pixels, vae->decode(grid_latents(grid, 2), {4}).pixels);

    const std::string path = test::temp_dir() + "/conditional.ckpt";
    ASSERT_EQ(trainer.save(path).get(), "");
    const Checkpoint saved = read_usable_checkpoint(path);
    EXPECT_EQ(saved.model.classes, 10);
    auto again = Vae::from_checkpoint(saved);
    EXPECT_EQ(again->decode(z, {3}).pixels, vae->decode(z, {3}).pixels);
    EXPECT_NEAR(evaluate_test_set(*again, mnist, 100).loss, evaluate_test_set(*vae, mnist, 100).loss, 1e-4);
    // It fits data with its 10 classes only.
    EXPECT_NO_THROW(check_checkpoint_fits(saved, path, 1, 28, 28, "mnist", 10));
    try {
      check_checkpoint_fits(saved, path, 1, 28, 28, "dataset flat", 0);
      ADD_FAILURE() << "fits unlabeled data";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("conditional model for 10 classes but dataset flat has no labels"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(check_checkpoint_fits(saved, path, 1, 28, 28, "shapes", 3), Error);
    // Resumed, it goes on training with its classes.
    TrainConfig more = t;
    more.epochs = 3;
    Trainer resumed(mnist, saved, more);
    resumed.step(3);
    ASSERT_TRUE(resumed.wait_until_settled(60));
    EXPECT_EQ(resumed.snapshot()->step, saved.progress.step + 3) << resumed.snapshot()->message;
  }
}

// A conditional model on unlabeled data, or on data with other classes, is refused by the trainer
// with the reason, and the model it had is kept.
TEST(Conditional, TheTrainerRefusesDataWithoutItsClasses) {
  const std::string dir = test::temp_dir();
  // A .npy file without --labels: unlabeled.
  const std::string npy = dir + "/flat.npy";
  std::vector<uint8_t> pixels(30 * 16);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 7 % 256);
  test::write_npy(npy, "{'descr': '|u1', 'fortran_order': False, 'shape': (30, 4, 4), }", pixels);
  Dataset flat = Dataset::load(npy);
  ASSERT_FALSE(flat.labeled());
  ModelConfig m;
  m.image_height = m.image_width = 4;
  m.hidden = {8};
  m.classes = 10;
  try {
    Trainer trainer(flat, m, TrainConfig{});
    ADD_FAILURE() << "trained a conditional model on unlabeled data";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs labelled data"), std::string::npos) << e.what();
  }
  std::filesystem::create_directories(dir + "/idx");
  test::write_dataset(dir + "/idx", 30, 10, 4, 4);
  Dataset labeled = Dataset::load(dir + "/idx");
  m.classes = labeled.classes() + 1;
  try {
    Trainer trainer(labeled, m, TrainConfig{});
    ADD_FAILURE() << "trained on data with other classes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is for " + std::to_string(m.classes) + " classes"), std::string::npos) << e.what();
  }
  // A reset to a conditional model on unlabeled data is refused and the current model is kept.
  m.classes = labeled.classes();
  Trainer trainer(labeled, m, TrainConfig{});
  trainer.reset(m, TrainConfig{}, flat);
  ASSERT_TRUE(trainer.wait_until_settled(30));
  EXPECT_NE(trainer.snapshot()->notice.find("needs labelled data"), std::string::npos) << trainer.snapshot()->notice;
  EXPECT_EQ(trainer.snapshot()->dataset, labeled.name());
  // fit_model_to_data says the same to the flags.
  ModelConfig fitted;
  EXPECT_NE(fit_model_to_data(fitted, true, 1, 4, 4, 0, "dataset flat").find("needs labelled data, and dataset flat has no labels"),
            std::string::npos);
  EXPECT_EQ(fit_model_to_data(fitted, true, 3, 5, 6, 7, "x"), "");
  EXPECT_EQ(fitted.classes, 7);
  EXPECT_EQ(fitted.image_channels, 3);
  EXPECT_EQ(fit_model_to_data(fitted, false, 1, 5, 6, 7, "x"), "");
  EXPECT_EQ(fitted.classes, 0);
  EXPECT_NE(check_classes(-1), "");
  EXPECT_NE(check_classes(kMaxClasses + 1), "");
}

}  // namespace
}  // namespace latent
