#pragma once
// The descent command-line program. run() parses the arguments, runs a command and returns the exit
// code: 0 on success, 1 on an error (one message on stderr), 2 on a usage error.

namespace descent::cli {

int run(int argc, char** argv);

}  // namespace descent::cli
