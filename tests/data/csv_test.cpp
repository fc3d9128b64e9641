// CSV tables: RFC 4180 quoting, line numbers, every malformed-file error, and write -> read round trips.

#include <descent/data/csv.h>
#include <descent/descent.h>
#include <gtest/gtest.h>

#include "data/data_test_util.h"

using namespace descent;
using namespace descent::data;
using datatest::TempDir;

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvRead, ReadsHeaderRowsAndLineNumbers) {
  TempDir dir;
  datatest::write_bytes(dir / "data.csv",
                        "a,b,c\n"
                        "1,2,3\n"
                        "\n"
                        "  4 ,\t5, 6  \r\n"
                        "   \n"
                        "7,8,9");  // no final line end
  const CsvTable table = read_csv(dir / "data.csv");
  EXPECT_EQ(table.path, dir / "data.csv");
  EXPECT_EQ(table.header, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(table.rows, (Rows{{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}}));
  EXPECT_EQ(table.line_numbers, (std::vector<std::size_t>{2, 4, 6}));
}

TEST(CsvRead, HandlesQuotedFields) {
  TempDir dir;
  datatest::write_bytes(dir / "q.csv",
                        "name,\"note, with comma\"\n"
                        "\"Smith, J\",\"said \"\"hi\"\"\"\n"
                        "  \"  padded  \"  ,\"two\nlines\"\n"
                        "\"\",plain\n"
                        "last,\"crlf\r\ninside\"\r\n");
  const CsvTable table = read_csv(dir / "q.csv");
  EXPECT_EQ(table.header, (std::vector<std::string>{"name", "note, with comma"}));
  EXPECT_EQ(
      table.rows,
      (Rows{{"Smith, J", "said \"hi\""}, {"  padded  ", "two\nlines"}, {"", "plain"}, {"last", "crlf\r\ninside"}}));
  EXPECT_EQ(table.line_numbers, (std::vector<std::size_t>{2, 3, 5, 6}));
}

TEST(CsvRead, AcceptsOtherDelimitersAndAByteOrderMark) {
  TempDir dir;
  datatest::write_bytes(dir / "semi.csv", "\xEF\xBB\xBFx;y\n1,5;2\n");
  const CsvTable semi = read_csv(dir / "semi.csv", ';');
  EXPECT_EQ(semi.header, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(semi.rows, (Rows{{"1,5", "2"}}));
  datatest::write_bytes(dir / "tab.tsv", "x\ty\n\t2\n");  // tab-separated: a leading tab is an empty field
  EXPECT_EQ(read_csv(dir / "tab.tsv", '\t').rows, (Rows{{"", "2"}}));
  EXPECT_ERROR(read_csv(dir / "tab.tsv", '"'), ValueError, "delimiter");
}

TEST(CsvRead, ReadsAHeaderWithoutRows) {
  TempDir dir;
  datatest::write_bytes(dir / "h.csv", "a,b\n");
  const CsvTable table = read_csv(dir / "h.csv");
  EXPECT_EQ(table.header.size(), 2u);
  EXPECT_TRUE(table.rows.empty());
}

TEST(CsvRead, ReportsMissingAndEmptyFiles) {
  TempDir dir;
  EXPECT_ERROR(read_csv(dir / "missing.csv"), IOError, "missing.csv", "cannot open");
  datatest::write_bytes(dir / "empty.csv", "");
  EXPECT_ERROR(read_csv(dir / "empty.csv"), IOError, "empty.csv: empty file");
  datatest::write_bytes(dir / "blank.csv", "\n  \n\r\n");
  EXPECT_ERROR(read_csv(dir / "blank.csv"), IOError, "blank.csv: empty file");
}

TEST(CsvRead, ReportsBadColumnNames) {
  TempDir dir;
  datatest::write_bytes(dir / "dup.csv", "a,b,a\n1,2,3\n");
  EXPECT_ERROR(read_csv(dir / "dup.csv"), IOError, "dup.csv:1: duplicate column name 'a' (columns 1 and 3)");
  datatest::write_bytes(dir / "noname.csv", "\n\na,,c\n1,2,3\n");
  EXPECT_ERROR(read_csv(dir / "noname.csv"), IOError, "noname.csv:3: column 2 has an empty name");
}

TEST(CsvRead, ReportsRaggedRows) {
  TempDir dir;
  datatest::write_bytes(dir / "data.csv", "a,b,c,d\n1,2,3,4\n\n1,2,3\n");
  EXPECT_ERROR(read_csv(dir / "data.csv"), IOError, "data.csv:4: expected 4 fields, found 3");
  datatest::write_bytes(dir / "long.csv", "a,b\n1,2\n1,2,\n");  // a trailing delimiter makes an empty field
  EXPECT_ERROR(read_csv(dir / "long.csv"), IOError, "long.csv:3: expected 2 fields, found 3");
}

TEST(CsvRead, ReportsQuoteErrors) {
  TempDir dir;
  datatest::write_bytes(dir / "open.csv", "a,b\n1,2\n3,\"never closed\n4,5\n");
  EXPECT_ERROR(read_csv(dir / "open.csv"), IOError, "open.csv:3: unterminated quote", "column 2");
  datatest::write_bytes(dir / "after.csv", "a,b\n\"x\"y,2\n");
  EXPECT_ERROR(read_csv(dir / "after.csv"), IOError, "after.csv:2: column 1: unexpected 'y' after a closing quote");
}

TEST(CsvWrite, RoundTripsFieldsThatNeedQuotes) {
  TempDir dir;
  const std::vector<std::string> header = {"text", "number", "comma, name"};
  const Rows rows = {{"plain", "1.5", "x"},
                     {"has \"quotes\"", "", "a,b"},
                     {"two\nlines", "  spaced  ", "crlf\r\nend"},
                     {"", "-3", ""}};
  write_csv(dir / "out.csv", header, rows);
  const CsvTable back = read_csv(dir / "out.csv");
  EXPECT_EQ(back.header, header);
  EXPECT_EQ(back.rows, rows);
  EXPECT_EQ(datatest::read_bytes(dir / "out.csv").substr(0, 35), "text,number,\"comma, name\"\nplain,1.5");
}

TEST(CsvWrite, KeepsEmptyValuesOfASingleColumn) {
  TempDir dir;
  write_csv(dir / "one.csv", {"label"}, {{"a"}, {""}, {"b"}});
  EXPECT_EQ(read_csv(dir / "one.csv").rows, (Rows{{"a"}, {""}, {"b"}}));
}

TEST(CsvWrite, RejectsRaggedRowsAndNoColumns) {
  TempDir dir;
  EXPECT_ERROR(write_csv(dir / "bad.csv", {"a", "b"}, {{"1", "2"}, {"3"}}), ValueError, "bad.csv", "row 2 has 1 fields",
               "header has 2");
  EXPECT_ERROR(write_csv(dir / "bad.csv", {}, {}), ValueError, "no columns");
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.csv"));
  EXPECT_ERROR(write_csv(dir / "no-folder" / "x.csv", {"a"}, {}), IOError, "x.csv");
}
