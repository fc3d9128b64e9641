#include "model_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_fixture.h"
#include "descent/core/error.h"
#include "descent/nn/layers.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "svg_chart.h"

namespace descent::cli::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

Config config_of(const std::string& json_text) { return Config::from_json(nlohmann::json::parse(json_text), "test"); }

DataSpec classes(std::int64_t n, Shape example = {4}) { return {.example_shape = example, .task = data::Task::Classification, .num_classes = n}; }

std::string build_error(const std::string& config, const DataSpec& spec) {
  try {
    build_model(config_of(config), spec);
  } catch (const descent::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelBuilder, MlpPresetInfersSizesAndFlattensImages) {
  const BuiltModel m = build_model(config_of(R"({"model": {"hidden": [32, 16], "dropout": 0.1, "batch_norm": true}})"), classes(10, {1, 28, 28}));
  EXPECT_EQ(m.layers, (std::vector<std::string>{"linear 32", "batchnorm", "relu", "dropout 0.1", "linear 16", "batchnorm", "relu", "dropout 0.1", "linear"}));
  EXPECT_EQ(m.loss, LossKind::CrossEntropy);
  EXPECT_EQ(m.outputs, 10);
  const Tensor out = (*m.model)(zeros({2, 1, 28, 28}));
  EXPECT_EQ(out.shape(), (Shape{2, 10}));
  std::int64_t params = 0;
  for (const auto& p : m.model->parameters()) params += p.numel();
  EXPECT_EQ(params, 784 * 32 + 32 + 2 * 32 + 32 * 16 + 16 + 2 * 16 + 16 * 10 + 10);
}

TEST(ModelBuilder, PresetsPickTheirLoss) {
  EXPECT_EQ(build_model(config_of(R"({"model": {"preset": "logistic_regression"}})"), classes(2)).loss, LossKind::BinaryCrossEntropy);
  EXPECT_EQ(build_model(config_of(R"({"model": {"preset": "logistic_regression"}})"), classes(2)).outputs, 1);
  EXPECT_EQ(build_model(config_of(R"({"model": {"preset": "logistic_regression"}})"), classes(3)).loss, LossKind::CrossEntropy);
  EXPECT_EQ(build_model(config_of(R"({"model": {"preset": "linear_svm"}})"), classes(2)).loss, LossKind::Hinge);
  EXPECT_EQ(build_model(config_of(R"({"model": {"preset": "linear_svm"}})"), classes(4)).loss, LossKind::MultiMargin);
  const DataSpec regression{.example_shape = {3}, .task = data::Task::Regression, .num_targets = 2};
  const BuiltModel lin = build_model(config_of(R"({"model": {"preset": "linear_regression"}, "data": {"task": "regression"}})"), regression);
  EXPECT_EQ(lin.loss, LossKind::Mse);
  EXPECT_EQ((*lin.model)(zeros({5, 3})).shape(), (Shape{5, 2}));
}

TEST(ModelBuilder, BadModelsNameTheLayerAndTheShapes) {
  EXPECT_THAT(build_error(R"({"model": {"layers": ["linear 8", "relu", "linear 5"]}})", classes(3)),
              HasSubstr("model.layers[2] 'linear 5': the model ends with 5 outputs per example, the data needs 3 classes"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["linear", "relu", "linear"]}})", classes(3)),
              HasSubstr("only the last linear layer may omit it"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["linear -3", "linear"]}})", classes(3)), HasSubstr("positive integer"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["dropout 1.5", "linear"]}})", classes(3)), HasSubstr("[0, 1)"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["relu 3", "linear"]}})", classes(3)), HasSubstr("too many arguments"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv 3", "linear"]}})", classes(3)), HasSubstr("unknown layer 'conv'"));
  EXPECT_THAT(build_error(R"({"model": {"layers": []}})", classes(3)), HasSubstr("empty"));
  EXPECT_THAT(build_error(R"({"model": {"preset": "mlp", "layers": ["linear"]}})", classes(3)), HasSubstr("not both"));
  EXPECT_THAT(build_error(R"({"model": {"preset": "resnet"}})", classes(3)), HasSubstr("unknown preset 'resnet'"));
  EXPECT_THAT(build_error(R"({"model": {"activation": "swish"}})", classes(3)), HasSubstr("unknown activation 'swish'"));
  EXPECT_THAT(build_error(R"({"model": {"init": "magic"}})", classes(3)), HasSubstr("unknown scheme 'magic'"));
  EXPECT_THAT(build_error(R"({"loss": {"name": "mse"}})", classes(3)), HasSubstr("regression loss"));
  EXPECT_THAT(build_error(R"({"loss": {"name": "bce"}})", classes(3)), HasSubstr("needs two classes, the data has 3"));
  EXPECT_THAT(build_error(R"({"model": {"preset": "linear_regression"}})", classes(3)), HasSubstr("regression"));
}

TEST(ModelBuilder, ConvolutionalLayersInferTheirInputShape) {
  const BuiltModel m = build_model(
      config_of(R"({"model": {"layers": ["conv2d 8 3x3 pad 1", "batchnorm", "relu", "maxpool 2", "conv2d 16 3 pad same stride 1",
                                         "batchnorm", "relu", "dropout2d 0.1", "avgpool 2x2 stride 2", "conv2d 4 1x1 nobias",
                                         "adaptive_avgpool 2x1", "linear"]}})"),
      classes(10, {1, 28, 28}));
  std::vector<std::string> kinds;
  for (const auto& [name, layer] : m.model->named_children()) kinds.push_back(layer->name().substr(0, layer->name().find('(')));
  EXPECT_EQ(kinds, (std::vector<std::string>{"Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU",
                                             "Dropout2d", "AvgPool2d", "Conv2d", "AdaptiveAvgPool2d", "Flatten", "Linear"}));
  EXPECT_EQ((*m.model)(zeros({3, 1, 28, 28})).shape(), (Shape{3, 10}));
  // The summary shows each layer's output shape.
  const std::string summary = m.model->summary({1, 1, 28, 28});
  EXPECT_THAT(summary, HasSubstr("[1, 8, 28, 28]"));
  EXPECT_THAT(summary, HasSubstr("[1, 16, 14, 14]"));
  EXPECT_THAT(summary, HasSubstr("[1, 4, 7, 7]"));
  EXPECT_THAT(summary, HasSubstr("[1, 4, 2, 1]"));
  // Conv2d's options come from the words: stride, dilation, groups.
  const BuiltModel g = build_model(config_of(R"({"model": {"layers": ["conv2d 4 3 stride 2 dilation 2", "conv2d 8 3x1 groups 4 pad 1x0", "linear"]}})"),
                                   classes(2, {2, 13, 11}));
  const auto& conv = dynamic_cast<const nn::Conv2d&>(*g.model->named_children()[1].second);
  EXPECT_EQ(conv.options().groups, 4);
  EXPECT_EQ(conv.weight().shape(), (Shape{8, 1, 3, 1}));
  EXPECT_EQ((*g.model)(zeros({2, 2, 13, 11})).shape(), (Shape{2, 2}));
}

TEST(ModelBuilder, BadConvolutionalLayersNameTheLayerAndTheShapes) {
  const DataSpec images = classes(10, {1, 28, 28});
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8 3x3", "conv2d 8 30x3", "linear"]}})", images),
              AllOf(HasSubstr("model.layers[1] 'conv2d 8 30x3'"), HasSubstr("[1, 8, 26, 26]"), HasSubstr("too small")));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["linear 32", "conv2d 8 3x3", "linear"]}})", images),
              AllOf(HasSubstr("model.layers[1] 'conv2d 8 3x3'"), HasSubstr("needs images"), HasSubstr("32")));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8", "linear"]}})", images), HasSubstr("conv2d OUT_CHANNELS KERNEL"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8 3y3", "linear"]}})", images), HasSubstr("kernel size"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 0 3", "linear"]}})", images), HasSubstr("positive integer"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8 3 padding 1", "linear"]}})", images),
              AllOf(HasSubstr("unknown option 'padding'"), HasSubstr("pad")));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8 3 pad", "linear"]}})", images), HasSubstr("'pad' needs a value"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8 2 pad same", "linear"]}})", images), HasSubstr("odd kernel"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 6 3 groups 4", "linear"]}})", classes(2, {4, 8, 8})),
              AllOf(HasSubstr("model.layers[0]"), HasSubstr("groups=4")));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["maxpool 2", "maxpool 2", "maxpool 2", "maxpool 2", "maxpool 2", "linear"]}})", images),
              AllOf(HasSubstr("model.layers[4] 'maxpool 2'"), HasSubstr("[1, 1, 1, 1]")));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["maxpool 2 pad 2", "linear"]}})", images), HasSubstr("model.layers[0] 'maxpool 2 pad 2'"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["flatten", "dropout2d 0.2", "linear"]}})", images), HasSubstr("needs images"));
  EXPECT_THAT(build_error(R"({"model": {"layers": ["conv2d 8 3", "adaptive_avgpool 0", "linear"]}})", images), HasSubstr("output size"));
}

TEST(ModelBuilder, LossesConvertTargetsAsTheyNeed) {
  const Config c = config_of("{}");
  const Tensor out = tensor({2.0, -1.0}, {2, 1});
  const Tensor labels = tensor_int64({1, 0}, {2});
  // hinge: t = +1, -1; margins 1 - 2 = -1 -> 0 and 1 - 1 = 0 -> 0.
  EXPECT_DOUBLE_EQ(make_loss(c, LossKind::Hinge)(out, labels).item(), 0.0);
  const Tensor bce = make_loss(c, LossKind::BinaryCrossEntropy)(out, labels);
  EXPECT_NEAR(bce.item(), (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))) / 2, 1e-6);
  EXPECT_NEAR(make_loss(c, LossKind::Mse)(out, tensor({1.0, 1.0}, {2})).item(), (1.0 + 4.0) / 2, 1e-6);
}

TEST(SvgChart, TicksAreNiceAndCoverTheRange) {
  const auto unit = nice_ticks(0, 1, 5);
  ASSERT_EQ(unit.size(), 6u);
  EXPECT_DOUBLE_EQ(unit.front(), 0.0);
  EXPECT_NEAR(unit[1], 0.2, 1e-12);
  EXPECT_NEAR(unit.back(), 1.0, 1e-12);
  const auto t = nice_ticks(0.13, 0.87, 5);
  EXPECT_LE(t.front(), 0.13);
  EXPECT_GE(t.back(), 0.87);
  EXPECT_EQ(nice_ticks(3, 3, 5).size() >= 2, true);  // a flat series still gets an axis
  EXPECT_EQ(escape_xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
}

TEST(SvgChart, LineChartDrawsSeriesWithGapsAndALegend) {
  LineChart c{.id = "c1", .title = "Loss <per> epoch", .x_label = "epoch", .y_label = "loss"};
  c.series.push_back({.name = "training", .x = {1, 2, 3, 4}, .y = {1.0, 0.5, std::nan(""), 0.2}});
  const std::string svg = render_line_chart(c);
  EXPECT_THAT(svg, HasSubstr("id=\"c1\""));
  EXPECT_THAT(svg, HasSubstr("Loss &lt;per&gt; epoch"));
  EXPECT_THAT(svg, HasSubstr("data-name=\"training\""));
  // The NaN breaks the line: two "M" moves.
  const auto d = svg.substr(svg.find(" d=\""));
  EXPECT_EQ(std::count(d.begin(), d.begin() + static_cast<long>(d.find("\" fill")), 'M'), 2);
  LineChart empty{.id = "c2", .title = "nothing"};
  EXPECT_THAT(render_line_chart(empty), HasSubstr("no data"));
  const std::string cm = render_confusion_matrix("cm", {"a", "b"}, {{5, 1}, {0, 4}});
  EXPECT_THAT(cm, HasSubstr("true a, predicted b: 1"));
}

}  // namespace
}  // namespace descent::cli::testing
