// codec.hpp: record encoding helpers private to the store module.
#pragma once

#include <string>

#include "idra/store.hpp"

namespace idra::store {

// encode_for_store returns encode_record of |record| with its values sorted
// by index, which is the only form decode_record accepts. It throws
// std::invalid_argument on a zero or duplicate index or a ttl_type outside
// the enum: callers validate records before storing them.
std::string encode_for_store(const Record& record);

}  // namespace idra::store
