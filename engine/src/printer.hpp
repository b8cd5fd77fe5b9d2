// Octostache's normalised text of AST nodes: the form in which unresolved tokens are echoed.
#pragma once

#include <string>

#include "ast.hpp"

namespace cuttle::engine::detail {

void print_symbol(std::string& out, const symbol& s);
void print_expression(std::string& out, const expression& e);
void print_calc(std::string& out, const calc_node& n);
void print_token(std::string& out, const token& t);
void print_tokens(std::string& out, const token_list& tokens);

/// .NET Core's shortest round-trip double formatting (invariant culture): "0.30000000000000004",
/// "1E+15", "1E-05", "-0", "Infinity", "NaN".
std::string format_double(double value);

}  // namespace cuttle::engine::detail
