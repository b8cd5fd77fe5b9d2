// Umbrella header for cuttle's template engine: variables, compiled templates, filters, diagnostics and
// the masker for sensitive values.
#pragma once

#include "cuttle/engine/diagnostic.hpp"
#include "cuttle/engine/filters.hpp"
#include "cuttle/engine/masker.hpp"
#include "cuttle/engine/options.hpp"
#include "cuttle/engine/template.hpp"
#include "cuttle/engine/variables.hpp"
