// to_tabular: features and targets from CSV columns, class label mappings, and the errors naming
// file, line and column.

#include <descent/data/csv.h>
#include <descent/descent.h>
#include <gtest/gtest.h>

#include "data/data_test_util.h"

using namespace descent;
using namespace descent::data;
using datatest::TempDir;

namespace {

// A table as read_csv returns it for a file "data.csv" whose rows start on line 2.
CsvTable table_of(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
  CsvTable t;
  t.path = "data.csv";
  t.header = std::move(header);
  t.rows = std::move(rows);
  for (std::size_t i = 0; i < t.rows.size(); ++i) t.line_numbers.push_back(i + 2);
  return t;
}

using Strings = std::vector<std::string>;
using Ints = std::vector<std::int64_t>;

}  // namespace

TEST(TabularClassification, MapsStringLabelsInLexicographicOrder) {
  TempDir dir;
  datatest::write_bytes(dir / "iris.csv",
                        "sepal,species,petal\n"
                        "1.5,virginica,0.25\n"
                        "2,setosa,-1e2\n"
                        "+3,versicolor,7\n"
                        "4, setosa ,8\n");
  const TabularData data = to_tabular(read_csv(dir / "iris.csv"), {.targets = {"species"}});
  EXPECT_EQ(data.classes, (Strings{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(data.feature_names, (Strings{"sepal", "petal"}));
  EXPECT_EQ(data.target_names, (Strings{"species"}));
  EXPECT_EQ(data.features.shape(), (Shape{4, 2}));
  EXPECT_EQ(data.features.dtype(), kFloat32);
  EXPECT_EQ(data.features.to_vector<float>(), (std::vector<float>{1.5f, 0.25f, 2, -100, 3, 7, 4, 8}));
  EXPECT_EQ(data.targets.dtype(), kInt64);
  EXPECT_EQ(data.targets.to_vector<std::int64_t>(), (Ints{2, 0, 1, 0}));
}

TEST(TabularClassification, SortsIntegerLabelsNumerically) {
  const CsvTable t = table_of({"x", "y"}, {{"0", "10"}, {"1", "9"}, {"2", "-1"}, {"3", "2"}, {"4", "10"}});
  const TabularData data = to_tabular(t, {.targets = {"y"}});
  EXPECT_EQ(data.classes, (Strings{"-1", "2", "9", "10"}));
  EXPECT_EQ(data.targets.to_vector<std::int64_t>(), (Ints{3, 2, 0, 1, 3}));
}

TEST(TabularClassification, SortsMixedLabelsLexicographically) {
  const CsvTable t = table_of({"x", "y"}, {{"0", "10"}, {"1", "9"}, {"2", "cat"}});
  EXPECT_EQ(to_tabular(t, {.targets = {"y"}}).classes, (Strings{"10", "9", "cat"}));
}

TEST(TabularClassification, UsesAFixedClassList) {
  const CsvTable t = table_of({"x", "y"}, {{"0", "b"}, {"1", "c"}});
  const TabularData data = to_tabular(t, {.targets = {"y"}, .classes = {"c", "a", "b"}});
  EXPECT_EQ(data.classes, (Strings{"c", "a", "b"}));
  EXPECT_EQ(data.targets.to_vector<std::int64_t>(), (Ints{2, 0}));
}

TEST(TabularClassification, ReportsLabelsOutsideTheFixedList) {
  const CsvTable t = table_of({"x", "y"}, {{"0", "b"}, {"1", "d"}});
  EXPECT_ERROR(to_tabular(t, {.targets = {"y"}, .classes = {"a", "b", "c"}}), ValueError,
               "data.csv:3: column 'y': label 'd' is not one of the 3 known classes ('a', 'b', 'c')");
  EXPECT_ERROR(to_tabular(t, {.targets = {"y"}, .classes = {"a", "b", "a"}}), ValueError, "class 'a' appears twice");
}

TEST(TabularClassification, ReportsEmptyLabelsAndSeveralTargets) {
  const CsvTable t = table_of({"x", "y", "z"}, {{"0", "a", "1"}, {"1", "", "2"}});
  EXPECT_ERROR(to_tabular(t, {.targets = {"y"}}), ValueError, "data.csv:3: column 'y': empty label");
  EXPECT_ERROR(to_tabular(t, {.targets = {"y", "z"}}), ValueError, "data.csv: a classification has one target column",
               "got 2 ('y', 'z')");
}

TEST(TabularRegression, ReadsSeveralTargets) {
  const CsvTable t = table_of({"a", "t1", "b", "t2"}, {{"1", "0.5", "2", "-1"}, {"3", "1.5", "4", "1e3"}});
  const TabularData data = to_tabular(t, {.targets = {"t2", "t1"}, .task = Task::Regression});
  EXPECT_EQ(data.feature_names, (Strings{"a", "b"}));
  EXPECT_EQ(data.target_names, (Strings{"t2", "t1"}));
  EXPECT_EQ(data.targets.shape(), (Shape{2, 2}));
  EXPECT_EQ(data.targets.dtype(), kFloat32);
  EXPECT_EQ(data.targets.to_vector<float>(), (std::vector<float>{-1, 0.5f, 1000, 1.5f}));
  EXPECT_TRUE(data.classes.empty());
}

TEST(TabularRegression, ReportsNonNumericTargets) {
  const CsvTable t = table_of({"a", "y"}, {{"1", "2"}, {"3", "n/a"}});
  EXPECT_ERROR(to_tabular(t, {.targets = {"y"}, .task = Task::Regression}), ValueError,
               "data.csv:3: column 'y': 'n/a' is not a number");
}

TEST(TabularFeatures, SelectsColumnsInTheGivenOrder) {
  const CsvTable t = table_of({"a", "b", "c", "y"}, {{"1", "2", "3", "u"}, {"4", "5", "6", "v"}});
  const TabularData data = to_tabular(t, {.targets = {"y"}, .features = {"c", "a"}});
  EXPECT_EQ(data.feature_names, (Strings{"c", "a"}));
  EXPECT_EQ(data.features.to_vector<float>(), (std::vector<float>{3, 1, 6, 4}));
}

TEST(TabularFeatures, ReadsFeaturesOnlyWithoutTargets) {
  const CsvTable t = table_of({"a", "b"}, {{"1", "2"}});
  const TabularData data = to_tabular(t, {});
  EXPECT_EQ(data.features.shape(), (Shape{1, 2}));
  EXPECT_FALSE(data.targets.defined());
  EXPECT_TRUE(data.target_names.empty());
  const TabularData none = to_tabular(table_of({"a"}, {}), {});
  EXPECT_EQ(none.features.shape(), (Shape{0, 1}));
}

TEST(TabularFeatures, ReportsMissingColumnsNamingTheColumnsThereAre) {
  const CsvTable t = table_of({"age", "income", "label"}, {{"1", "2", "x"}});
  EXPECT_ERROR(to_tabular(t, {.targets = {"class"}}), ValueError,
               "data.csv: target column 'class' not found; the columns are 'age', 'income', 'label'");
  EXPECT_ERROR(to_tabular(t, {.targets = {"label"}, .features = {"age", "height"}}), ValueError,
               "data.csv: feature column 'height' not found; the columns are 'age', 'income', 'label'");
  EXPECT_ERROR(to_tabular(t, {.targets = {"label"}, .features = {"age", "label"}}), ValueError,
               "column 'label' is both a feature and a target");
  EXPECT_ERROR(to_tabular(t, {.targets = {"label"}, .features = {"age", "age"}}), ValueError,
               "feature column 'age' is named twice");
}

TEST(TabularFeatures, ReportsBadNumbersWithFileLineAndColumn) {
  TempDir dir;
  datatest::write_bytes(dir / "data.csv", "age,y\n30,a\n\n\"abc\",b\n");
  const CsvTable table = read_csv(dir / "data.csv");
  EXPECT_ERROR(to_tabular(table, {.targets = {"y"}}), ValueError, "data.csv:4: column 'age': 'abc' is not a number");
  const auto bad = [](const std::string& value) { return table_of({"age", "y"}, {{"1", "a"}, {value, "b"}}); };
  EXPECT_ERROR(to_tabular(bad(""), {.targets = {"y"}}), ValueError, "data.csv:3: column 'age': empty value");
  EXPECT_ERROR(to_tabular(bad("1.5.2"), {.targets = {"y"}}), ValueError, "'1.5.2' is not a number");
  EXPECT_ERROR(to_tabular(bad("12abc"), {.targets = {"y"}}), ValueError, "'12abc' is not a number");
  EXPECT_ERROR(to_tabular(bad("nan"), {.targets = {"y"}}), ValueError, "'nan' is not a finite float32 number");
  EXPECT_ERROR(to_tabular(bad("1e40"), {.targets = {"y"}}), ValueError, "'1e40' is not a finite float32 number");
  EXPECT_EQ(to_tabular(bad(" -2.5e-1 "), {.targets = {"y"}}).features.at({1, 0}), -0.25);
}

TEST(TabularFeatures, NamesLinesOfHandBuiltTablesAndRaggedRows) {
  CsvTable t;
  t.header = {"a", "b"};
  t.rows = {{"1", "2"}, {"x", "3"}};  // no path, no line numbers: lines count from 2
  EXPECT_ERROR(to_tabular(t, {}), ValueError, "csv:3: column 'a': 'x' is not a number");
  t.rows = {{"1", "2"}, {"3"}};
  EXPECT_ERROR(to_tabular(t, {}), ValueError, "csv:3: expected 2 fields, found 1");
}
