// Pieces of the gateway shared by its endpoint files (gateway.cpp for Chat,
// Messages and Responses; embeddings.cpp). Not part of the module's interface.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ai/gateway/catalog.hpp"
#include "ai/gateway/gateway.hpp"
#include "ai/providers/provider.hpp"
#include "ai/translate/errors.hpp"

namespace gatehouse::ai::gateway::detail {

// The client's wire format for an endpoint (Chat for everything OpenAI).
Format format_of(Endpoint e);
// Statuses after which the next target or fallback model is tried.
bool falls_back(int status);
ErrorInfo info(std::string type, std::string message, int status, std::string param = {});
// Answers an error of ours in the client's format, keeping our status.
awaitable<bool> send_error(Downstream& down, Format f, const ErrorInfo& e, Outcome& out,
                           std::string_view code);
bool route_allows(const config::RouteLlmConfig& route, const ModelEntry& m);
// The route offers the model (name or alias) and the consumer, if limited, may use it.
bool allows(const Call& call, const ModelEntry& m);
// (model index, target index) in the order they are tried.
std::vector<std::pair<size_t, size_t>> candidates(const Catalog& cat, const ModelEntry& first);
// Reads a whole provider body (non-streamed answers, error bodies), bounded.
awaitable<Result<std::string>> read_all(providers::Call& pc);

// /v1/embeddings (embeddings.cpp).
awaitable<bool> serve_embeddings(const Catalog& cat, const Call& call, Downstream& down,
                                 Outcome& out);

}  // namespace gatehouse::ai::gateway::detail
