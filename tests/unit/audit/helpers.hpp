// helpers.hpp: shared fixtures of the audit tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "audit/util.hpp"
#include "idra/audit.hpp"
#include "idra/store.hpp"
#include "unit/store/temp_dir.hpp"

namespace idra::audit::testing {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string b64(std::string_view bytes) { return util::base64(bytes); }

inline std::string unb64(std::string_view text) {
  auto out = util::unbase64(text);
  if (!out) throw std::runtime_error("bad base64 in a test vector: " + std::string(text));
  return *out;
}

// sample_record is a plausible record whose fields vary with |i|.
inline AuditRecord sample_record(std::uint64_t i) {
  AuditRecord r;
  r.time_ms = 1764583200000 + static_cast<std::int64_t>(i) * 10;
  r.request_id = "req-" + std::to_string(i);
  r.principal.kind = i % 3 == 0   ? PrincipalKind::anonymous
                     : i % 3 == 1 ? PrincipalKind::handle
                                  : PrincipalKind::certificate;
  r.principal.id = i % 3 == 0 ? "" : "300:IDRA/user" + std::to_string(i % 7);
  r.principal.organization = i % 3 == 2 ? "ACME" : "";
  r.principal.role = i % 5 == 0 ? "auditor" : "";
  r.client = "client" + std::to_string(i % 11);
  r.action = i % 4 == 0 ? "handle.update" : "handle.read";
  r.resources = {"IDRA/" + std::to_string(i % 13)};
  if (i % 6 == 0) r.resources.push_back("IDRA/shared");
  r.value_indexes = {1, static_cast<std::uint32_t>(100 + i % 3)};
  r.decision = i % 9 == 0 ? Decision::deny : Decision::allow;
  r.policies = {"policy" + std::to_string(i % 2)};
  r.http_status = r.decision == Decision::allow ? 200 : 403;
  r.handle_code = 1;
  r.duration_us = 100 + i % 1000;
  return r;
}

// TempStore is a non-durable store in a private temporary directory.
class TempStore {
 public:
  TempStore() {
    store::Options options;
    options.durable = false;
    options.prefault_max_bytes = 0;
    auto opened = store::Store::open(dir_.db(), options);
    if (!opened) throw std::runtime_error(opened.error().message);
    store_ = std::move(opened).value();
  }
  store::Store& operator*() { return *store_; }
  store::Store* operator->() { return store_.get(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  store::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

// append_all appends |records| in one transaction.
inline void append_all(store::Store& s, const std::vector<AuditRecord>& records) {
  auto done = s.transact([&](store::WriteView& v) -> Result<void> {
    for (const auto& r : records) (void)append(v, r);
    return {};
  });
  if (!done) throw std::runtime_error(done.error().message);
}

template <class T>
T read(store::Store& s, const std::function<T(const store::ReadView&)>& fn) {
  std::optional<T> out;
  s.view([&](const store::ReadView& v) { out = fn(v); });
  return std::move(*out);
}

}  // namespace idra::audit::testing
