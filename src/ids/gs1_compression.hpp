// gs1_compression.hpp: the pieces of Digital Link compression that the unit
// tests check against digital-link.js's own tables (private to idra_ids; the
// API is in include/idra/gs1.hpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace idra::ids::gs1::compression {

// value_bits is the number of bits of a numeric value of |digits| decimal
// digits: ceil(digits * log2(10) + 0.01), computed as the reference does.
std::size_t value_bits(std::size_t digits);
// length_bits is the number of bits of the length of a variable-length
// component of at most |max_length| characters: ceil(log2(max) + 0.01).
std::size_t length_bits(std::size_t max_length);

// value_format returns the compression format of |ai| in the reference's
// notation, components separated by spaces ("N13 X..17"); nullopt when the
// AI is unknown or its format cannot be compressed.
std::optional<std::string> value_format(std::string_view ai);

}  // namespace idra::ids::gs1::compression
