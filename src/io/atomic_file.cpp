// Atomic writes: temporary file in the same folder (rename is only atomic within one file system),
// fsync of the data, rename over the destination, fsync of the folder so the rename itself survives
// a power cut.
#include "descent/io/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

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

/// Writes everything; 0 on success, else the errno.
int write_all(int fd, const char* p, std::size_t left) {
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

void sync_folder(const std::filesystem::path& folder) {
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some file systems refuse to open folders
  ::fsync(fd);
  ::close(fd);
}

// A stream buffer straight onto the temporary file, so a writer producing gigabytes of weights
// never holds a second copy of them in memory. Errors are remembered (streambufs report failure
// by return value, not by exception) and turned into an IOError once the writer is done.
class FileBuffer final : public std::streambuf {
 public:
  explicit FileBuffer(int fd) : fd_(fd), buffer_(kCapacity) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  int error() const { return error_; }
  bool flush_buffer() {
    if (error_ != 0) return false;
    error_ = write_all(fd_, pbase(), static_cast<std::size_t>(pptr() - pbase()));
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return error_ == 0;
  }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto size = static_cast<std::size_t>(n);
    if (size > static_cast<std::size_t>(epptr() - pptr())) {
      if (!flush_buffer()) return 0;
      if (size >= buffer_.size()) {  // large blocks (tensor data) skip the buffer
        error_ = write_all(fd_, s, size);
        return error_ == 0 ? n : 0;
      }
    }
    std::memcpy(pptr(), s, size);
    pbump(static_cast<int>(size));
    return n;
  }
  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  static constexpr std::size_t kCapacity = std::size_t{1} << 20;
  int fd_;
  int error_ = 0;
  std::vector<char> buffer_;
};

/// Creates the temporary file, lets fill write into it, then publishes it by rename. Whatever
/// fails (fill included), the temporary file is removed and the destination left as it was.
template <typename Fill>
void write_atomically(const std::filesystem::path& path, Fill&& fill) {
  if (path.empty() || path.filename().empty())
    throw IOError(fmt::format("cannot write '{}': not a file name", path.string()));
  const auto tmp = temporary_name(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create a file in its folder", errno);
  try {
    fill(fd, tmp);
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

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_atomically(path, [&](int fd, const std::filesystem::path& tmp) {
    if (int err = write_all(fd, bytes.data(), bytes.size()); err != 0) fail(tmp, "cannot write", err);
  });
}

void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& writer) {
  write_atomically(path, [&](int fd, const std::filesystem::path& tmp) {
    FileBuffer buffer(fd);
    std::ostream out(&buffer);
    writer(out);
    buffer.flush_buffer();
    if (buffer.error() != 0) fail(tmp, "cannot write", buffer.error());
    if (!out)
      throw IOError(fmt::format("{}: the content could not be written (stream in a failed state)", path.string()));
  });
}

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw IOError(fmt::format("{}: is a folder, not a file", path.string()));
  }
  std::string bytes;
  if (st.st_size > 0) bytes.reserve(static_cast<std::size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fail(path, "cannot read", err);
    }
    if (n == 0) break;
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace descent::io
