// The one file compiled with the source tree's path (CMakeLists.txt sets
// GATEHOUSE_SOURCE_DIR on it alone, so every other object stays cacheable
// across checkouts).
#include "ai/tokenizer/tokenizer.hpp"

#ifndef GATEHOUSE_SOURCE_DIR
#define GATEHOUSE_SOURCE_DIR "."
#endif

namespace gatehouse::ai {

std::string_view gatehouse_source_dir() { return GATEHOUSE_SOURCE_DIR; }

}  // namespace gatehouse::ai
