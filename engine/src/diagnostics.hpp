// Building diagnostics inside the engine: one place that fills in the position from a source text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cuttle/engine/diagnostic.hpp"

namespace cuttle::engine::detail {

/// A diagnostic at byte `offset` of `text`, with its line and column computed.
diagnostic make_diagnostic(error_code code, severity sev, std::string_view source_name, std::string_view text,
                           std::size_t offset, std::string message, std::string fragment);

}  // namespace cuttle::engine::detail
