// Atomic file writes: content, replacement, and what is left when something fails.
#include "descent/io/atomic_file.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "descent/core/error.h"
#include "io/io_test_util.h"
#include "ops/op_check.h"

namespace {

using descent::IOError;
using descent::io::read_file;
using descent::io::write_file_atomically;
using iotest::ScratchDir;

TEST(AtomicFile, WritesAndReplaces) {
  ScratchDir dir;
  const auto path = dir / "a.txt";
  write_file_atomically(path, std::string_view("first"));
  EXPECT_EQ(read_file(path), "first");
  write_file_atomically(path, std::string_view("second, longer"));
  EXPECT_EQ(read_file(path), "second, longer");
  write_file_atomically(path, std::string_view(""));
  EXPECT_EQ(read_file(path), "");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, BinaryBytesSurviveUnchanged) {
  ScratchDir dir;
  std::string bytes;
  for (int i = 0; i < 3 * 256; ++i) bytes.push_back(static_cast<char>(i));
  write_file_atomically(dir / "b.bin", bytes);
  EXPECT_EQ(read_file(dir / "b.bin"), bytes);
}

// The writer's stream goes to the file through a 1 MiB buffer; small pieces, pieces that straddle
// the buffer's end and pieces larger than it must all land in order.
TEST(AtomicFile, WriterStreamsSmallAndLargePieces) {
  ScratchDir dir;
  std::string expected;
  write_file_atomically(dir / "w.bin", [&](std::ostream& out) {
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 1000; ++i) {
        const std::string piece = std::to_string(i) + ",";
        out << piece;
        expected += piece;
      }
      out.put('\n');
      expected += '\n';
      const std::string big(3u << 20, static_cast<char>('a' + round));
      out.write(big.data(), static_cast<std::streamsize>(big.size()));
      expected += big;
      const std::string almost((1u << 20) - 7, static_cast<char>('x' + round));
      out.write(almost.data(), static_cast<std::streamsize>(almost.size()));
      expected += almost;
    }
  });
  const std::string got = read_file(dir / "w.bin");
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
}

TEST(AtomicFile, ThrowingWriterLeavesTheOldFileAndNoTemporaryFile) {
  ScratchDir dir;
  const auto path = dir / "keep.txt";
  write_file_atomically(path, std::string_view("old content"));
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& out) {
                                       out << std::string(5u << 20, 'z');  // some of it reached the disk
                                       throw std::runtime_error("writer failed");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read_file(path), "old content");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"keep.txt"});
}

TEST(AtomicFile, ThrowingWriterCreatesNothingWhenThereWasNoFile) {
  ScratchDir dir;
  EXPECT_THROW(write_file_atomically(dir / "new.txt", [](std::ostream&) { throw std::runtime_error("no"); }),
               std::runtime_error);
  EXPECT_TRUE(dir.files().empty());
}

TEST(AtomicFile, MissingFolderIsAnErrorNamingThePath) {
  ScratchDir dir;
  const auto path = dir / "no" / "such" / "folder" / "f.txt";
  EXPECT_THROW_WITH(write_file_atomically(path, std::string_view("x")), IOError, path.string().c_str(),
                    "No such file or directory");
  EXPECT_THROW_WITH(write_file_atomically(path, [](std::ostream& out) { out << "x"; }), IOError, path.string().c_str());
}

TEST(AtomicFile, NotAFileNameIsAnError) {
  EXPECT_THROW_WITH(write_file_atomically("", std::string_view("x")), IOError, "not a file name");
}

TEST(AtomicFile, ReadFileErrorsNameThePath) {
  ScratchDir dir;
  const auto missing = dir / "missing.txt";
  EXPECT_THROW_WITH(read_file(missing), IOError, missing.string().c_str(), "cannot open");
  EXPECT_THROW_WITH(read_file(dir.path()), IOError, dir.path().string().c_str(), "is a folder");
}

}  // namespace
