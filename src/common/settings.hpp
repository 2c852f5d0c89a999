// Process-wide settings fixed at start (from flags), readable from anywhere
// without passing them through every constructor. Written once by main before
// any thread starts.
#pragma once

#include <string>

namespace gatehouse {

struct ProcessSettings {
  std::string data_dir = "./gatehouse-data";  // --data-dir: durable state (quotas, store)
  // --store: "" = SQLite in data_dir, "sqlite:PATH", or "postgres://..." (see docs/store.md)
  std::string store_url;
  // --secret-key-file: key-encryption keys for provider secrets in the store
  // (else GATEHOUSE_SECRET_KEY, else DATA_DIR/secret.key; see docs/store.md).
  std::string secret_key_file;
};

ProcessSettings& process_settings();

}  // namespace gatehouse
