// A cached answer replayed to a streaming client: the stored IR Response is
// turned back into the IR events a provider stream would have produced and
// written by the client protocol's own encoder (Chat chunks, Messages
// events, Responses events), so a streamed request can hit an answer that
// was stored from either a streamed or a non-streamed call.
#pragma once

#include <string>
#include <vector>

#include "ai/translate/ir.hpp"
#include "ai/translate/stream.hpp"

namespace gatehouse::ai::cache {

// kStart, each part as block start / delta(s) / stop, usage, stop, end.
std::vector<StreamEvent> response_events(const Response& r);
// The whole SSE body for `client`.
std::string replay_stream(Format client, const Response& r, const EncoderOptions& opt);

}  // namespace gatehouse::ai::cache
