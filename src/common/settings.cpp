#include "common/settings.hpp"

namespace gatehouse {

ProcessSettings& process_settings() {
  static ProcessSettings s;
  return s;
}

}  // namespace gatehouse
