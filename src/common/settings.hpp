// Process-wide settings fixed at start (from flags), readable from anywhere
// without passing them through every constructor. Written once by main before
// any thread starts.
#pragma once

#include <string>

namespace gatehouse {

struct ProcessSettings {
  std::string data_dir = "./gatehouse-data";  // --data-dir: durable state (quotas, store)
};

ProcessSettings& process_settings();

}  // namespace gatehouse
