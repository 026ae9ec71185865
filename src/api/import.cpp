// import.cpp: lines of an import file (`idra import`), checked like PUT bodies.
#include <sodium.h>

#include <algorithm>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "links.hpp"
#include "value_json.hpp"

namespace idra::api {

Result<ImportedRecord> parse_import_line(std::string_view line, const Config& config, std::int64_t now_unix) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("not a JSON object");
  if (!j.contains("handle") || !j["handle"].is_string()) return make_error("\"handle\" must be a string");
  if (!j.contains("values") || !j["values"].is_array()) return make_error("\"values\" must be an array");
  auto id = ids::identify(j["handle"].get<std::string>(), config.mapping);
  if (!id) return make_error("invalid handle: " + id.error().message);
  auto values = values_from_body(j["values"].dump(), now_unix);
  if (!values) return make_error(values.error().message);
  if (values->size() > config.limits.max_values_per_record) return make_error("too many values in one record");
  if (auto bad = links::check_link_values(*values); !bad.ok()) return bad.error();
  for (auto& v : *values) {
    if (v.type == auth::kSecretKeyType && !auth::is_secret_hash(v.data)) {
      auto hashed = auth::hash_secret(v.data);
      sodium_memzero(v.data.data(), v.data.size());
      if (!hashed) return hashed.error();
      v.data = std::move(*hashed);
    }
  }
  std::sort(values->begin(), values->end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  ImportedRecord out;
  out.handle = std::move(id->handle);
  out.record.values = std::move(*values);
  return out;
}

}  // namespace idra::api
