// .NET Core 3.0+ double.ToString() (invariant culture): shortest round-trip digits, switching to
// scientific notation when the exponent is >= max(15, digit count) or <= -5.
// Tested by tests/engine/evaluator_test.cpp

#include <charconv>
#include <cmath>
#include <string>

#include "printer.hpp"

namespace cuttle::engine::detail {

std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return std::signbit(value) ? "-0" : "0";

  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  // sci is "[-]d[.ddd]e[+-]XX"
  const bool negative = sci.front() == '-';
  const auto e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(negative ? 1 : 0, e_pos - (negative ? 1 : 0))) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::stoi(std::string(sci.substr(e_pos + 1)));
  const int count = static_cast<int>(digits.size());

  std::string out;
  if (negative) out.push_back('-');
  if (exponent >= std::max(15, count) || exponent <= -5) {
    out.push_back(digits[0]);
    if (count > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('E');
    out.push_back(exponent < 0 ? '-' : '+');
    const int mag = exponent < 0 ? -exponent : exponent;
    if (mag < 10) out.push_back('0');
    out.append(std::to_string(mag));
    return out;
  }
  if (exponent < 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out.append(digits);
  } else if (exponent + 1 >= count) {
    out.append(digits);
    out.append(static_cast<std::size_t>(exponent + 1 - count), '0');
  } else {
    out.append(digits, 0, static_cast<std::size_t>(exponent + 1));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(exponent + 1));
  }
  return out;
}

}  // namespace cuttle::engine::detail
