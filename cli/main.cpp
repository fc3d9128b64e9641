// The descent program: descent train | eval | predict | info. See cli/app.h.
#include "app.h"

int main(int argc, char** argv) { return descent::cli::run(argc, argv); }
