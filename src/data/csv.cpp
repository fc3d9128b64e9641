// CSV reading and writing: one pass of a small state machine over the whole file, which keeps the
// line number of every record for error messages (quoted fields may span lines).
#include "descent/data/csv.h"

#include <string>
#include <string_view>
#include <unordered_map>

#include "descent/io/atomic_file.h"
#include "internal/check.h"

namespace descent::data {
namespace {

// Spaces (and tabs, unless the tab is the delimiter) around unquoted fields and quotes are not content.
bool is_blank(char c, char delimiter) { return c == ' ' || (c == '\t' && delimiter != '\t'); }

std::string_view trim(std::string_view s, char delimiter) {
  while (!s.empty() && is_blank(s.front(), delimiter)) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back(), delimiter)) s.remove_suffix(1);
  return s;
}

class Parser {
 public:
  Parser(const std::filesystem::path& path, std::string_view text, char delimiter)
      : path_(path), text_(text), delimiter_(delimiter) {}

  // The next record's fields into `fields`; false at the end of the file. Empty lines are skipped.
  bool next(std::vector<std::string>& fields, std::size_t& line) {
    fields.clear();
    while (pos_ < text_.size()) {
      line = line_;
      if (!blank_line()) {
        read_record(fields);
        return true;
      }
    }
    return false;
  }

 private:
  bool at_line_end() const {
    return pos_ >= text_.size() || text_[pos_] == '\n' ||
           (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
  }

  void skip_line_end() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }

  // Consumes the line if it holds nothing but blanks.
  bool blank_line() {
    std::size_t p = pos_;
    while (p < text_.size() && is_blank(text_[p], delimiter_)) ++p;
    const std::size_t saved = pos_;
    pos_ = p;
    if (at_line_end()) {
      skip_line_end();
      return true;
    }
    pos_ = saved;
    return false;
  }

  void read_record(std::vector<std::string>& fields) {
    for (;;) {
      fields.push_back(read_field(fields.size() + 1));
      if (at_line_end()) {
        skip_line_end();
        return;
      }
      ++pos_;  // the delimiter
    }
  }

  std::string read_field(std::size_t column) {
    while (pos_ < text_.size() && is_blank(text_[pos_], delimiter_)) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') return read_quoted(column);
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != delimiter_ && !at_line_end()) ++pos_;
    return std::string(trim(text_.substr(start, pos_ - start), delimiter_));
  }

  std::string read_quoted(std::size_t column) {
    const std::size_t open_line = line_;
    ++pos_;  // the opening quote
    std::string out;
    for (;;) {
      const std::size_t q = text_.find('"', pos_);
      if (q == std::string_view::npos) {
        throw IOError(
            fmt::format("{}:{}: unterminated quote: the quoted field in column {} runs to the end of the file",
                        path_.string(), open_line, column));
      }
      const std::string_view chunk = text_.substr(pos_, q - pos_);
      for (char c : chunk) line_ += c == '\n';
      out.append(chunk);
      pos_ = q + 1;
      if (pos_ < text_.size() && text_[pos_] == '"') {  // a doubled quote stands for one
        out.push_back('"');
        ++pos_;
        continue;
      }
      break;
    }
    while (pos_ < text_.size() && is_blank(text_[pos_], delimiter_)) ++pos_;
    if (pos_ < text_.size() && text_[pos_] != delimiter_ && !at_line_end()) {
      throw IOError(
          fmt::format("{}:{}: column {}: unexpected '{}' after a closing quote (a quote inside a quoted "
                      "field is written twice: \"\")",
                      path_.string(), line_, column, text_[pos_]));
    }
    return out;
  }

  const std::filesystem::path& path_;
  std::string_view text_;
  char delimiter_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

bool needs_quotes(const std::string& field, bool only_column) {
  if (field.empty()) return only_column;  // an empty line would be skipped, an empty "" is not
  if (is_blank(field.front(), ',') || is_blank(field.back(), ',')) return true;
  return field.find_first_of(",\"\r\n") != std::string::npos;
}

void write_field(std::string& out, const std::string& field, bool only_column) {
  if (!needs_quotes(field, only_column)) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

CsvTable read_csv(const std::filesystem::path& path, char delimiter) {
  DESCENT_CHECK_VALUE(delimiter != '"' && delimiter != '\n' && delimiter != '\r' && delimiter != ' ',
                      "read_csv {}: the delimiter cannot be a quote, a space or a line end", path.string());
  std::string text = io::read_file(path);
  std::string_view view = text;
  if (view.starts_with("\xEF\xBB\xBF")) view.remove_prefix(3);  // a UTF-8 byte order mark, as spreadsheets write

  CsvTable table;
  table.path = path;
  Parser parser(path, view, delimiter);
  std::size_t line = 0;
  if (!parser.next(table.header, line)) throw IOError(fmt::format("{}: empty file (no header row)", path.string()));

  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < table.header.size(); ++i) {
    const std::string& name = table.header[i];
    if (name.empty()) throw IOError(fmt::format("{}:{}: column {} has an empty name", path.string(), line, i + 1));
    const auto [it, inserted] = seen.emplace(name, i);
    if (!inserted) {
      throw IOError(fmt::format("{}:{}: duplicate column name '{}' (columns {} and {})", path.string(), line, name,
                                it->second + 1, i + 1));
    }
  }

  std::vector<std::string> fields;
  while (parser.next(fields, line)) {
    if (fields.size() != table.header.size()) {
      throw IOError(
          fmt::format("{}:{}: expected {} fields, found {}", path.string(), line, table.header.size(), fields.size()));
    }
    table.rows.push_back(std::move(fields));
    table.line_numbers.push_back(line);
    fields = {};
  }
  return table;
}

void write_csv(const std::filesystem::path& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows) {
  DESCENT_CHECK_VALUE(!header.empty(), "write_csv {}: the header has no columns", path.string());
  const bool only_column = header.size() == 1;
  std::string out;
  auto write_row = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      write_field(out, row[i], only_column);
    }
    out += '\n';
  };
  write_row(header);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    DESCENT_CHECK_VALUE(rows[r].size() == header.size(), "write_csv {}: row {} has {} fields, the header has {}",
                        path.string(), r + 1, rows[r].size(), header.size());
    write_row(rows[r]);
  }
  io::write_file_atomically(path, out);
}

}  // namespace descent::data
