// Umbrella header for cuttle's template engine: variables, compiled templates, filters and diagnostics.
#pragma once

#include "cuttle/engine/diagnostic.hpp"
#include "cuttle/engine/filters.hpp"
#include "cuttle/engine/options.hpp"
#include "cuttle/engine/template.hpp"
#include "cuttle/engine/variables.hpp"
