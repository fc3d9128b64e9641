// descent explain: its numbers against values computed independently (by hand here, with doubles and
// std::tanh, and by PyTorch), its text, its HTML page, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "cli_fixture.h"
#include "descent/core/error.h"
#include "explain_command.h"

namespace descent::cli::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kTol = 1e-12;

void expect_near(const std::vector<double>& actual, const std::vector<double>& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << what << "[" << i << "]";
}

struct Output {
  int code = -1;
  std::string out, err;
};

Output run_explain(const ExplainArgs& args) {
  std::ostringstream out, err;
  Output r;
  r.code = explain_command(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The default: 2-2-1, tanh everywhere, no biases, x = (1, 1), t = 1, L = (y - t)^2, lr 0.1, weights
// W1 = [[0.15, 0.20], [0.25, 0.30]], W2 = [[0.40, 0.45]]. The same step worked out by hand.
TEST(Explain, DefaultCaseMatchesTheChainRuleByHand) {
  const double x1 = 1, x2 = 1, t = 1, lr = 0.1;
  const double w11 = 0.15, w12 = 0.20, w21 = 0.25, w22 = 0.30, v1 = 0.40, v2 = 0.45;
  const double s1 = w11 * x1 + w12 * x2, s2 = w21 * x1 + w22 * x2;
  const double h1 = std::tanh(s1), h2 = std::tanh(s2);
  const double so = v1 * h1 + v2 * h2, y = std::tanh(so);
  const double loss = (y - t) * (y - t);
  const double dl_dy = 2 * (y - t);           // mse_loss over one output: no 1/2
  const double dl_dso = dl_dy * (1 - y * y);  // tanh' = 1 - tanh^2
  const double dl_dh1 = dl_dso * v1, dl_dh2 = dl_dso * v2;
  const double dl_ds1 = dl_dh1 * (1 - h1 * h1), dl_ds2 = dl_dh2 * (1 - h2 * h2);

  const Explanation e = explain(ExplainArgs{});
  ASSERT_EQ(e.layers.size(), 2u);
  const auto& hidden = e.layers[0];
  const auto& output = e.layers[1];
  expect_near(hidden.s, {s1, s2}, kTol, "hidden s");
  expect_near(hidden.a, {h1, h2}, kTol, "hidden a");
  expect_near(output.s, {so}, kTol, "output s");
  expect_near(output.a, {y}, kTol, "output a");
  EXPECT_NEAR(e.loss, loss, kTol);
  expect_near(output.dl_da, {dl_dy}, kTol, "dL/dy");
  expect_near(output.da_ds, {1 - y * y}, kTol, "dy/ds");
  expect_near(output.dl_ds, {dl_dso}, kTol, "dL/ds out");
  expect_near(output.dl_dinput, {dl_dh1, dl_dh2}, kTol, "dL/dh");
  expect_near(hidden.dl_da, {dl_dh1, dl_dh2}, kTol, "hidden dL/da");
  expect_near(hidden.da_ds, {1 - h1 * h1, 1 - h2 * h2}, kTol, "hidden da/ds");
  expect_near(hidden.dl_ds, {dl_ds1, dl_ds2}, kTol, "hidden dL/ds");
  expect_near(output.w, {v1, v2}, 0, "output w");
  expect_near(output.w_grad, {dl_dso * h1, dl_dso * h2}, kTol, "output dL/dw");
  expect_near(hidden.w_grad, {dl_ds1 * x1, dl_ds1 * x2, dl_ds2 * x1, dl_ds2 * x2}, kTol, "hidden dL/dw");
  expect_near(output.w_after, {v1 - lr * dl_dso * h1, v2 - lr * dl_dso * h2}, kTol, "output w after");
  expect_near(hidden.w_after, {w11 - lr * dl_ds1 * x1, w12 - lr * dl_ds1 * x2, w21 - lr * dl_ds2 * x1, w22 - lr * dl_ds2 * x2}, kTol,
              "hidden w after");
  EXPECT_TRUE(hidden.b.empty());

  // The same numbers from PyTorch 1.13 (float64, torch.nn.functional.mse_loss, torch.optim.SGD), by
  // a script that builds the weights above, runs forward, backward and opt.step() and prints them.
  EXPECT_NEAR(e.loss, 0.4289935123729031, kTol);
  expect_near(hidden.w_after, {0.19093753217296303, 0.24093753217296304, 0.2889209156107068, 0.3389209156107068}, kTol, "torch W1");
  expect_near(output.w_after, {0.43881818087492663, 0.5077606916337302}, kTol, "torch W2");
  EXPECT_NEAR(e.loss_after, 0.3237361642704342, kTol);
  // The default weights make the hidden units differ (the point of choosing them unequal).
  EXPECT_NE(hidden.a[0], hidden.a[1]);
  EXPECT_NE(hidden.w_grad[0], hidden.w_grad[2]);
}

TEST(Explain, DefaultTextHasTheSectionsAndTheNumbers) {
  const Output r = run_explain(ExplainArgs{});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* section : {"\nFORWARD", "\nLOSS", "\nBACKWARD", "\nUPDATE"}) EXPECT_THAT(r.out, HasSubstr(section));
  EXPECT_LT(r.out.find("\nFORWARD"), r.out.find("\nLOSS"));
  EXPECT_LT(r.out.find("\nLOSS"), r.out.find("\nBACKWARD"));
  EXPECT_LT(r.out.find("\nBACKWARD"), r.out.find("\nUPDATE"));
  EXPECT_THAT(r.out, HasSubstr("2-2-1"));
  EXPECT_THAT(r.out, HasSubstr("mse, as PyTorch's mse_loss"));  // the loss convention is stated
  EXPECT_THAT(r.out, HasSubstr("no 1/2"));
  EXPECT_THAT(r.out, HasSubstr("x1 = 1, x2 = 1"));
  EXPECT_THAT(r.out, HasSubstr("a = tanh(s) = 0.3363755"));  // h1
  EXPECT_THAT(r.out, HasSubstr("a = tanh(s) = 0.5005202"));  // h2
  EXPECT_THAT(r.out, HasSubstr("a = tanh(s) = 0.345024"));   // y
  EXPECT_THAT(r.out, HasSubstr("= 0.4289935"));              // L
  EXPECT_THAT(r.out, HasSubstr("dL/dw = dL/da * da/ds * ds/dw"));
  EXPECT_THAT(r.out, HasSubstr("w(h1->y)"));
  EXPECT_THAT(r.out, HasSubstr("-0.3881818"));  // dL/dw(h1->y)
  EXPECT_THAT(r.out, HasSubstr("0.1909375"));   // w(x1->h1) after the step
  EXPECT_THAT(r.out, HasSubstr("0.5077607"));   // w(h2->y) after the step
  EXPECT_THAT(r.out, HasSubstr("check: all 11 products of chain-rule factors equal the autograd's gradients (exactly)"));
  EXPECT_THAT(r.out, HasSubstr("L = 0.3237362 (before the step: 0.4289935)"));
}

class ExplainFiles : public CliTest {};

TEST_F(ExplainFiles, HtmlDrawsEveryNeuronAndEdge) {
  ExplainArgs args;
  args.html = (dir_ / "explain.html").string();
  const Output r = run_explain(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote " + *args.html));
  const std::string html = slurp(*args.html);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<svg id=\"network\""));
  for (const char* neuron : {"x1", "x2", "h1", "h2", "y"}) EXPECT_THAT(html, HasSubstr(std::string("id=\"neuron-") + neuron + "\""));
  for (const char* edge : {"x1-h1", "x2-h1", "x1-h2", "x2-h2", "h1-y", "h2-y"}) EXPECT_THAT(html, HasSubstr(std::string("id=\"edge-") + edge + "\""));
  EXPECT_THAT(html, HasSubstr("w 0.15 \u2192 0.1909"));        // an edge label: weight before and after
  EXPECT_THAT(html, HasSubstr("s 0.35"));                      // h1's weighted sum in its circle
  EXPECT_THAT(html, HasSubstr("dL/dw = -0.3881818087"));      // an edge's exact gradient in its title
  EXPECT_THAT(html, HasSubstr("<pre id=\"narration\">"));      // the same narration
  EXPECT_THAT(html, HasSubstr("w(h1-&gt;y)"));
  EXPECT_THAT(html, HasSubstr("</svg>"));
  EXPECT_THAT(html, HasSubstr("</html>"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u) << "the atomic write left a temporary file";
}

// Matt Mazur's "A Step by Step Backpropagation Example" (2-2-2, sigmoid, biases 0.35 and 0.60, lr
// 0.5; his E_total = 1/2 sum (t - o)^2 equals mse_loss's mean over two outputs). Values from PyTorch
// 1.13 (float64, mse_loss, SGD), which agree with his published w5+ = 0.35891648, w1+ = 0.149780716.
TEST(Explain, CustomSigmoidNetworkWithBiasesMatchesPyTorch) {
  ExplainArgs args;
  args.layers = "2,2,2";
  args.activation = "sigmoid";
  args.bias = true;
  args.input = "0.05,0.1";
  args.target = "0.01,0.99";
  args.weights = ".15,.2,.25,.3,.4,.45,.5,.55";
  args.biases = ".35,.35,.6,.6";
  args.lr = 0.5;
  const Explanation e = explain(args);
  ASSERT_EQ(e.layers.size(), 2u);
  EXPECT_NEAR(e.loss, 0.2983711087600027, kTol);
  expect_near(e.layers[0].a, {0.5932699921071872, 0.596884378259767}, kTol, "hidden a");
  expect_near(e.layers[1].a, {0.7513650695523157, 0.7729284653214625}, kTol, "output a");
  expect_near(e.layers[0].w_grad, {0.0004385677344743467, 0.0008771354689486934, 0.0004977127352608599, 0.0009954254705217198}, kTol, "W1 grad");
  expect_near(e.layers[1].w_grad, {0.08216704056423077, 0.08266762784753325, -0.022602540477475067, -0.02274024221597822}, kTol, "W2 grad");
  expect_near(e.layers[0].b_grad, {0.008771354689486933, 0.009954254705217198}, kTol, "b1 grad");
  expect_near(e.layers[1].b_grad, {0.13849856162855695, -0.03809823651655623}, kTol, "b2 grad");
  expect_near(e.layers[0].w_after, {0.1497807161327628, 0.19956143226552567, 0.24975114363236958, 0.29950228726473915}, kTol, "W1 after");
  expect_near(e.layers[1].w_after, {0.35891647971788465, 0.4086661860762334, 0.5113012702387375, 0.5613701211079891}, kTol, "W2 after");
  expect_near(e.layers[0].b_after, {0.3456143226552565, 0.3450228726473914}, kTol, "b1 after");
  expect_near(e.layers[1].b_after, {0.5307507191857215, 0.6190491182582781}, kTol, "b2 after");
  EXPECT_NEAR(e.loss_after, 0.28047144679143016, kTol);
}

// 2-3-1, sigmoid, biases, binary cross-entropy, against PyTorch 1.13 (float64,
// torch.nn.functional.binary_cross_entropy, torch.optim.SGD(lr=0.5)).
TEST(Explain, CustomTwoThreeOneSigmoidBceMatchesPyTorch) {
  ExplainArgs args;
  args.layers = "2,3,1";
  args.activation = "sigmoid";
  args.bias = true;
  args.input = "1,0.5";
  args.target = "1";
  args.loss = "bce";
  args.weights = "0.1,-0.2,0.3,0.4,-0.5,0.6,0.7,-0.8,0.9";
  args.biases = "0.05,-0.05,0.1,0.2";
  args.lr = 0.5;
  const Explanation e = explain(args);
  ASSERT_EQ(e.layers.size(), 2u);
  EXPECT_NEAR(e.loss, 0.4749249580835008, kTol);
  expect_near(e.layers[0].s, {0.05, 0.45, -0.1}, kTol, "hidden s");
  expect_near(e.layers[1].a, {0.6219317256625505}, kTol, "y");
  expect_near(e.layers[0].w_grad, {-0.06612061401512177, -0.033060307007560887, 0.071911295745494, 0.035955647872747, -0.08485305225914981,
                                   -0.042426526129574905}, kTol, "W1 grad");
  expect_near(e.layers[1].w_grad, {-0.19375900629122106, -0.23086332142192448, -0.17959029886421027}, kTol, "W2 grad");
  expect_near(e.layers[1].b_grad, {-0.3780682743374495}, kTol, "b2 grad");
  expect_near(e.layers[1].w_after, {0.7968795031456105, -0.6845683392890378, 0.9897951494321051}, kTol, "W2 after");
  expect_near(e.layers[0].b_after, {0.0830603070075609, -0.08595564787274701, 0.1424265261295749}, kTol, "b1 after");
  EXPECT_NEAR(e.loss_after, 0.34079243284035243, kTol);

  const Output r = run_explain(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("binary_cross_entropy"));
  EXPECT_THAT(r.out, HasSubstr("sigmoid at every layer; with biases"));
  EXPECT_THAT(r.out, HasSubstr("b(h3)"));
  EXPECT_THAT(r.out, HasSubstr("w(x2->h3)"));
  EXPECT_THAT(r.out, HasSubstr("check: all"));
}

// Random weights from a seed, deeper networks and every activation: the narration's products always
// agree with the autograd (explain_command returns 1 if not), and a seed gives the same step twice.
TEST(Explain, SeededNetworksWithEveryActivation) {
  for (const char* activation : {"tanh", "sigmoid", "relu", "leaky_relu", "identity"}) {
    ExplainArgs args;
    args.layers = "3,4,3,2";
    args.activation = activation;
    args.bias = true;
    args.input = "0.5,-1,2";
    args.target = "0,1";
    args.seed = 7;
    const Output a = run_explain(args), b = run_explain(args);
    EXPECT_EQ(a.code, 0) << activation << "\n" << a.out << a.err;
    EXPECT_THAT(a.out, HasSubstr("check: all")) << activation;
    EXPECT_THAT(a.out, HasSubstr("seed 7"));
    EXPECT_THAT(a.out, HasSubstr("h2.3"));  // several hidden layers: h<layer>.<unit>
    EXPECT_EQ(a.out, b.out);
    args.seed = 8;
    EXPECT_NE(run_explain(args).out, a.out);
  }
  ExplainArgs args;
  args.activation = "relu";
  args.output_activation = "sigmoid";
  args.loss = "bce";
  const Output r = run_explain(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("relu at the hidden layers, sigmoid at the output"));
}

void expect_error(const ExplainArgs& args, const std::string& message) {
  std::ostringstream out, err;
  try {
    explain_command(args, out, err);
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const descent::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(message));
  }
}

TEST(Explain, BadArgumentsAreClearErrors) {
  ExplainArgs a;
  a.weights = "0.1,0.2,0.3";
  expect_error(a, "--weights '0.1,0.2,0.3' has 3 values, the 2-2-1 network has 6 weights (layer 1: 2x2, layer 2: 1x2)");
  a = {};
  a.input = "1,2,3";
  expect_error(a, "--input '1,2,3' has 3 values, the 2-2-1 network has 2 inputs");
  a = {};
  a.target = "1,0";
  expect_error(a, "--target '1,0' has 2 values, the 2-2-1 network has 1 outputs");
  a = {};
  a.activation = "softsign";
  expect_error(a, "unknown activation 'softsign' for --activation");
  a = {};
  a.output_activation = "swish";
  expect_error(a, "unknown activation 'swish' for --output-activation");
  a = {};
  a.layers = "2,16,16,1";
  expect_error(a, "the 2-16-16-1 network has 304 parameters; explain narrates networks of at most 64");
  a = {};
  a.lr = 0;
  expect_error(a, "--lr must be a number > 0, got 0");
  a.lr = -0.5;
  expect_error(a, "--lr must be a number > 0, got -0.5");
  a = {};
  a.loss = "hinge";
  expect_error(a, "unknown loss 'hinge' for --loss");
  a = {};
  a.loss = "bce";
  expect_error(a, "--loss bce needs outputs in (0, 1), but the output activation is 'tanh'");
  a = {};
  a.input = "1,abc";
  expect_error(a, "--input '1,abc': 'abc' is not a finite number");
  a = {};
  a.layers = "2,0,1";
  expect_error(a, "--layers '2,0,1': '0' is not a layer size");
  a = {};
  a.layers = "3";
  expect_error(a, "--layers '3' needs at least two sizes");
  a = {};
  a.biases = "1,2,3";
  expect_error(a, "--biases given without --bias");
  a.bias = true;
  a.biases = "1,2";
  expect_error(a, "--biases '1,2' has 2 values, the 2-2-1 network has 3 biases");
}

}  // namespace
}  // namespace descent::cli::testing
