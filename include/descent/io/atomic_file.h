#pragma once
// Atomic file writes: the content goes to a temporary file in the destination's folder, is flushed
// and fsync'ed, then renamed over the destination (and the folder fsync'ed). A crash or a kill at any
// moment leaves either the old file or the new one, never a mixture or a truncated file. Every file
// descent writes (checkpoints, reports, logs it rewrites, predictions) goes through here.

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace descent::io {

/// Writes bytes to path atomically. Throws IOError naming the path (and the system's reason) when the
/// folder does not exist or is not writable, or the disk is full; the temporary file is then removed
/// and an existing file at path is untouched.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// The same, with the content produced by a writer into a stream that goes straight to the
/// temporary file (no copy of the whole content in memory). If the writer throws, the temporary
/// file is removed, nothing is renamed and the exception propagates.
void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& writer);

/// Reads a whole file; IOError naming it when it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);

}  // namespace descent::io
