// Atomic writes: temporary file in the same folder (rename is only atomic within one file system),
// fsync of the data, rename over the destination, fsync of the folder so the rename itself survives
// a power cut.
#include "descent/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "descent/core/error.h"

namespace descent::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what, int err) {
  throw IOError(fmt::format("{}: {}: {}", path.string(), what, std::strerror(err)));
}

std::filesystem::path temporary_name(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  auto name = fmt::format(".{}.tmp.{}.{}", path.filename().string(), ::getpid(), counter++);
  return path.parent_path() / name;
}

void write_all(int fd, const std::filesystem::path& tmp, std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(tmp, "cannot write", errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void sync_folder(const std::filesystem::path& folder) {
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some file systems refuse to open folders
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  if (path.empty() || path.filename().empty()) throw IOError(fmt::format("cannot write '{}': not a file name", path.string()));
  const auto tmp = temporary_name(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create a file in its folder", errno);
  try {
    write_all(fd, tmp, bytes);
    if (::fsync(fd) != 0) fail(tmp, "cannot flush", errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(tmp, "cannot close", err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace", err);
  }
  sync_folder(path.parent_path());
}

void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& writer) {
  std::ostringstream out;
  writer(out);
  write_file_atomically(path, out.view());
}

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IOError(fmt::format("{}: is a folder, not a file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IOError(fmt::format("{}: cannot read", path.string()));
  return std::move(buffer).str();
}

}  // namespace descent::io
