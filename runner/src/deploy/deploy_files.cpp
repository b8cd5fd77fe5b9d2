// Placeholder: being written.
// Tested by tests/deploy/deploy_test.cpp
#include "cuttle/runner/deploy/structured_config.hpp"
