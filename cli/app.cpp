#include "app.h"

#include <iostream>

namespace descent::cli {

int run(int, char**) {
  std::cerr << "descent: not yet implemented\n";
  return 1;
}

}  // namespace descent::cli
