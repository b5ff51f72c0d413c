// Flag parsing shared by latent-train and the app: every bad value is a clear latent::Error.
#include <gtest/gtest.h>

#include <cmath>

#include "latent/error.h"
#include "latent/options.h"

namespace latent {
namespace {

RunOptions parse(std::vector<std::string> args) {
  std::vector<const char*> argv = {"prog"};
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_run_options(int(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Options, ParsesEveryFlag) {
  RunOptions o = parse({"--data", "fashion-mnist", "--epochs", "3", "--latent", "20", "--hidden", "400,200",
                        "--batch", "64", "--activation", "relu", "--lr=0.002", "--lr-schedule", "constant", "--beta", "4", "--warmup-epochs", "2", "--likelihood",
                        "gaussian", "--sigma", "learned", "--seed", "9", "--threads", "2", "--device", "auto",
                        "--limit", "1000", "--resume", "a.ckpt", "--out", "o"});
  EXPECT_EQ(o.data, "fashion-mnist");
  EXPECT_EQ(o.train.epochs, 3);
  EXPECT_EQ(o.model.latent_dim, 20);
  EXPECT_EQ(o.model.hidden, (std::vector<int>{400, 200}));
  EXPECT_EQ(o.train.batch_size, 64);
  EXPECT_EQ(o.model.activation, Activation::Relu);
  EXPECT_DOUBLE_EQ(o.train.learning_rate, 0.002);
  EXPECT_EQ(o.train.lr_schedule, LearningRateSchedule::Constant);
  EXPECT_DOUBLE_EQ(o.train.beta, 4);
  EXPECT_DOUBLE_EQ(o.train.warmup_epochs, 2);
  EXPECT_EQ(o.model.likelihood, ReconstructionLikelihood::Gaussian);
  EXPECT_TRUE(o.model.learn_sigma);
  EXPECT_EQ(o.train.seed, 9u);
  EXPECT_EQ(o.train.threads, 2);
  EXPECT_EQ(o.train.device, "auto");
  EXPECT_EQ(o.train.limit, 1000);
  EXPECT_EQ(o.resume, "a.ckpt");
  EXPECT_EQ(o.out, "o");
  EXPECT_TRUE(o.given.count("--lr"));
  EXPECT_FALSE(o.given.count("--help"));
}

TEST(Options, RejectsBadValuesNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--lr", "0"}, "--lr"},
      {{"--lr", "-1"}, "--lr"},
      {{"--lr", "nan"}, "not a finite number"},
      {{"--lr", "inf"}, "not a finite number"},
      {{"--lr", "fast"}, "not a number"},
      {{"--lr", "1e-3x"}, "not a number"},
      {{"--batch", "0"}, "--batch"},
      {{"--batch", "12.5"}, "not an integer"},
      {{"--latent", "0"}, "--latent"},
      {{"--latent", "65"}, "out of range"},
      {{"--latent", "two"}, "not an integer"},
      {{"--epochs", "-1"}, "--epochs"},
      {{"--hidden", "400,"}, "--hidden"},
      {{"--hidden", "0"}, "--hidden"},
      {{"--hidden", "a,b"}, "--hidden"},
      {{"--beta", "-0.5"}, "--beta"},
      {{"--beta", "NaN"}, "not a finite number"},
      {{"--likelihood", "poisson"}, "unknown likelihood"},
      {{"--activation", "tanh"}, "unknown activation"},
      {{"--prior", "flow"}, "unknown prior 'flow' (expected normal, mog or vamp)"},
      {{"--prior", "mog", "--prior-components", "0"}, "out of range (1..5000)"},
      {{"--prior", "vamp", "--prior-components", "-1"}, "out of range"},
      {{"--prior", "vamp", "--prior-components", "many"}, "not an integer"},
      {{"--prior-components", "3"}, "the normal prior has no components"},
      {{"--lr-schedule", "step"}, "unknown learning-rate schedule"},
      {{"--device", "tpu"}, "unknown device"},
      {{"--threads", "0"}, "--threads"},
      {{"--limit", "0"}, "--limit"},
      {{"--seed", "-3"}, "--seed"},
      {{"--frobnicate"}, "unknown flag"},
      {{"stray"}, "unexpected argument"},
      {{"--epochs"}, "missing value"},
  };
  for (const auto& c : cases) {
    std::string message = error_of(c.args);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << "args: " << c.args[0] << (c.args.size() > 1 ? " " + c.args[1] : "") << " gave: '" << message << "'";
  }
}

TEST(Options, PriorComponentsDefaultPerPrior) {
  EXPECT_EQ(parse({}).model.prior, "normal");
  EXPECT_EQ(parse({}).model.prior_components, 0);
  EXPECT_EQ(parse({"--prior", "mog"}).model.prior_components, 10);
  EXPECT_EQ(parse({"--prior", "vamp"}).model.prior_components, 500);
  // In either order.
  EXPECT_EQ(parse({"--prior-components", "7", "--prior", "vamp"}).model.prior_components, 7);
  EXPECT_EQ(parse({"--prior", "mog", "--prior-components", "3"}).model.prior_components, 3);
}

TEST(Options, LeavesCallerFlagsUnparsed) {
  std::vector<const char*> argv = {"prog", "--frames", "10", "--train", "--latent", "3"};
  RunOptions o = parse_run_options(int(argv.size()), argv.data(), {"--frames"}, {"--train"});
  EXPECT_EQ(o.unparsed, (std::vector<std::string>{"--frames", "10", "--train"}));
  EXPECT_EQ(o.model.latent_dim, 3);
}

TEST(Config, ValidatesRanges) {
  ModelConfig m;
  EXPECT_EQ(validate(m), "");
  m.latent_dim = 0;
  EXPECT_NE(validate(m).find("latent dim"), std::string::npos);
  TrainConfig t;
  EXPECT_EQ(validate(t), "");
  t.learning_rate = std::nan("");
  EXPECT_NE(validate(t).find("learning rate"), std::string::npos);
  EXPECT_EQ(parse_hidden("512,256"), (std::vector<int>{512, 256}));
  EXPECT_EQ(format_hidden({512, 256}), "512,256");
}

}  // namespace
}  // namespace latent
