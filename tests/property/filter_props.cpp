// Properties of the built-in filters: valid UTF-8 stays valid, encodings round-trip, and every escape
// filter's output parses back to its input in the target format.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"
