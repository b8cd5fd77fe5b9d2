// Built-in filters, version family: behaviour from shared/reference/octostache-spec.md §9 beyond the
// conformance vectors, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"
