// policy_entities: Cedar's JSON formats on arbitrary bytes: entities,
// values, contexts, and entity uids in Cedar syntax. Checks the invariants
// that make the readers trustworthy:
//   - every error has a message;
//   - a value equals itself and orders equal to itself;
//   - an entity uid read from text renders (str) to text that reads back
//     to the same uid.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "idra/policy.hpp"

namespace {

using namespace idra::policy;

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "policy_entities: %s\n  input: %.*s\n  detail: %s\n", what,
               static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto entities = Entities::from_json(input);
  if (!entities && entities.error().message.empty())
    fail("entities error without a message", input, "");
  if (entities) {
    // The closure excludes the entity itself (a cycle is an error).
    auto parsed = value_from_json(input);
    if (parsed && parsed->is_set()) {
      for (const Value& item : parsed->as_set()) {
        if (!item.is_record() || !item.as_record().contains("uid")) continue;
        const Value& uid = item.as_record().at("uid");
        if (!uid.is_record() || !uid.as_record().contains("type") ||
            !uid.as_record().contains("id"))
          continue;
        const Value& type = uid.as_record().at("type");
        const Value& id = uid.as_record().at("id");
        if (!type.is_string() || !id.is_string()) continue;
        const EntityUid e{type.as_string(), id.as_string()};
        const std::vector<EntityUid>* ancestors = entities->ancestors(e);
        if (ancestors == nullptr) fail("a listed entity is not in the store", input, e.str());
        for (const EntityUid& a : *ancestors) {
          if (a == e) fail("an entity is its own ancestor", input, e.str());
          if (!entities->in(e, a)) fail("an ancestor is not `in`", input, e.str() + " " + a.str());
        }
      }
    }
  }
  auto value = value_from_json(input);
  if (!value && value.error().message.empty()) fail("value error without a message", input, "");
  if (value) {
    if (!(*value == *value) || (*value <=> *value) != 0)
      fail("a value differs from itself", input, to_cedar(*value));
    (void)to_cedar(*value);
  }
  auto context = context_from_json(input);
  if (!context && context.error().message.empty())
    fail("context error without a message", input, "");
  auto uid = entity_uid_from_text(input);
  if (uid) {
    auto back = entity_uid_from_text(uid->str());
    if (!back || *back != *uid) fail("entity uid does not round-trip", input, uid->str());
  } else if (uid.error().message.empty()) {
    fail("uid error without a message", input, "");
  }
  return 0;
}
