// config.cpp: the JSON configuration file of `idra serve`.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include "idra/cli.hpp"

namespace idra::cli {
namespace {

using nlohmann::json;

Result<void> check_keys(const json& obj, std::string_view where, std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return make_error(std::string(where) + " must be a JSON object");
  for (const auto& [key, _] : obj.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) return make_error("unknown config key " + std::string(where) + "." + key);
  }
  return {};
}

template <class T>
Result<void> read_uint(const json& obj, std::string_view where, const char* key, T& out, std::uint64_t min,
                       std::uint64_t max) {
  if (!obj.contains(key)) return {};
  const auto& v = obj[key];
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    return make_error("config key " + std::string(where) + "." + key + " must be a non-negative integer");
  }
  const auto n = v.get<std::uint64_t>();
  if (n < min || n > max) {
    return make_error("config key " + std::string(where) + "." + key + " must be " + std::to_string(min) + " to " +
                      std::to_string(max));
  }
  out = static_cast<T>(n);
  return {};
}

Result<void> read_ms(const json& obj, std::string_view where, const char* key, std::chrono::milliseconds& out) {
  std::uint64_t ms = static_cast<std::uint64_t>(out.count());
  if (auto r = read_uint(obj, where, key, ms, 1, 86'400'000); !r) return r;
  out = std::chrono::milliseconds(ms);
  return {};
}

Result<void> read_bool(const json& obj, std::string_view where, const char* key, bool& out) {
  if (!obj.contains(key)) return {};
  if (!obj[key].is_boolean()) return make_error("config key " + std::string(where) + "." + key + " must be true or false");
  out = obj[key].get<bool>();
  return {};
}

Result<void> read_strings(const json& obj, std::string_view where, const char* key, std::vector<std::string>& out) {
  if (!obj.contains(key)) return {};
  const auto& v = obj[key];
  if (!v.is_array()) return make_error("config key " + std::string(where) + "." + key + " must be an array of strings");
  std::vector<std::string> list;
  for (const auto& item : v) {
    if (!item.is_string()) return make_error("config key " + std::string(where) + "." + key + " must be an array of strings");
    list.push_back(item.get<std::string>());
  }
  out = std::move(list);
  return {};
}

}  // namespace

Result<void> parse_listen(std::string_view text, http::ServerConfig& out);

Result<void> load_config(const std::filesystem::path& file, ServeOptions& o) {
  std::ifstream in(file);
  if (!in) return make_error("cannot read config file " + file.string());
  json j = json::parse(in, nullptr, false, true);
  if (j.is_discarded()) return make_error("config file " + file.string() + " is not valid JSON");
  const char* top = "config";
  if (auto r = check_keys(j, top, {"data", "listen", "threads", "io_model", "blocking_threads", "id_prefix",
                                   "node_admins", "access_log", "durable", "read_only", "store", "limits", "auth", "tls",
                                   "plain_http", "ca", "policy", "audit", "resolver"});
      !r) {
    return r;
  }
  if (j.contains("data")) {
    if (!j["data"].is_string()) return make_error("config key data must be a string");
    o.data_dir = j["data"].get<std::string>();
  }
  if (j.contains("listen")) {
    if (!j["listen"].is_string()) return make_error("config key listen must be \"ADDR:PORT\"");
    if (auto r = parse_listen(j["listen"].get<std::string>(), o.server); !r) return r;
  }
  if (auto r = read_uint(j, top, "threads", o.server.threads, 0, 1024); !r) return r;
  if (auto r = read_uint(j, top, "blocking_threads", o.server.blocking_threads, 1, 1024); !r) return r;
  if (j.contains("io_model")) {
    const auto m = j["io_model"].is_string() ? j["io_model"].get<std::string>() : "";
    if (m == "per-thread") o.server.io_model = http::IoModel::per_thread;
    else if (m == "shared") o.server.io_model = http::IoModel::shared;
    else return make_error("config key io_model must be \"per-thread\" or \"shared\"");
  }
  if (j.contains("id_prefix")) {
    if (!j["id_prefix"].is_string()) return make_error("config key id_prefix must be a string");
    auto p = ids::canonical_prefix(j["id_prefix"].get<std::string>());
    if (!p) return make_error("config key id_prefix: " + p.error().message);
    o.api.mapping.prefix = *p;
  }
  if (auto r = read_strings(j, top, "node_admins", o.api.node_admins); !r) return r;
  if (auto r = read_bool(j, top, "access_log", o.server.access_log); !r) return r;
  if (auto r = read_bool(j, top, "durable", o.store.durable); !r) return r;
  if (auto r = read_bool(j, top, "read_only", o.api.read_only); !r) return r;
  if (j.contains("store")) {
    const auto& st = j["store"];
    if (auto r = check_keys(st, "store", {"initial_map_bytes", "prefault_max_bytes", "max_readers"}); !r) return r;
    for (auto r : {read_uint(st, "store", "initial_map_bytes", o.store.initial_map_bytes, 1 << 16, std::uint64_t{1} << 40),
                   read_uint(st, "store", "prefault_max_bytes", o.store.prefault_max_bytes, 0, std::uint64_t{1} << 44),
                   read_uint(st, "store", "max_readers", o.store.max_readers, 16, 1 << 20)}) {
      if (!r) return r;
    }
  }
  if (j.contains("limits")) {
    const auto& l = j["limits"];
    const char* w = "limits";
    if (auto r = check_keys(l, w, {"max_body_bytes", "max_header_bytes", "handshake_timeout_ms", "header_timeout_ms",
                                   "body_timeout_ms", "idle_timeout_ms", "write_timeout_ms", "max_connections",
                                   "max_requests_per_connection", "shutdown_grace_ms", "max_batch_handles",
                                   "max_page_size", "max_values_per_record", "max_pending_blocking"});
        !r) {
      return r;
    }
    auto& s = o.server.limits;
    for (auto r : {read_uint(l, w, "max_body_bytes", s.max_body_bytes, 1, std::uint64_t{1} << 30),
                   read_uint(l, w, "max_header_bytes", s.max_header_bytes, 1024, std::uint64_t{1} << 20),
                   read_ms(l, w, "handshake_timeout_ms", s.handshake_timeout),
                   read_ms(l, w, "header_timeout_ms", s.header_timeout),
                   read_ms(l, w, "body_timeout_ms", s.body_timeout),
                   read_ms(l, w, "idle_timeout_ms", s.idle_timeout),
                   read_ms(l, w, "write_timeout_ms", s.write_timeout),
                   read_uint(l, w, "max_connections", s.max_connections, 1, 10'000'000),
                   read_uint(l, w, "max_requests_per_connection", s.max_requests_per_connection, 1, 1'000'000'000),
                   read_ms(l, w, "shutdown_grace_ms", s.shutdown_grace),
                   read_uint(l, w, "max_pending_blocking", s.max_pending_blocking, 1, 1'000'000),
                   read_uint(l, w, "max_batch_handles", o.api.limits.max_batch_handles, 1, 100'000),
                   read_uint(l, w, "max_page_size", o.api.limits.max_page_size, 1, 10'000'000),
                   read_uint(l, w, "max_values_per_record", o.api.limits.max_values_per_record, 1, 1'000'000)}) {
      if (!r) return r;
    }
  }
  if (j.contains("auth")) {
    const auto& a = j["auth"];
    if (auto r = check_keys(a, "auth", {"max_failures", "failure_window_seconds"}); !r) return r;
    if (auto r = read_uint(a, "auth", "max_failures", o.limiter.max_failures, 1, 1'000'000); !r) return r;
    std::uint64_t window = static_cast<std::uint64_t>(o.limiter.window.count());
    if (auto r = read_uint(a, "auth", "failure_window_seconds", window, 1, 86'400); !r) return r;
    o.limiter.window = std::chrono::seconds(window);
  }
  if (j.contains("tls")) {
    const auto& t = j["tls"];
    if (auto r = check_keys(t, "tls", {"names", "addresses", "certificate_file", "key_file"}); !r) return r;
    for (const char* key : {"certificate_file", "key_file"}) {
      if (t.contains(key) && !t[key].is_string()) return make_error(std::string("config key tls.") + key + " must be a path");
    }
    if (t.contains("certificate_file") != t.contains("key_file")) {
      return make_error("config keys tls.certificate_file and tls.key_file go together");
    }
    if (t.contains("certificate_file")) {
      o.tls_certificate_file = t["certificate_file"].get<std::string>();
      o.tls_key_file = t["key_file"].get<std::string>();
    }
    if (auto r = read_strings(t, "tls", "names", o.tls_names); !r) return r;
    if (auto r = read_strings(t, "tls", "addresses", o.tls_addresses); !r) return r;
  }
  if (j.contains("plain_http")) {
    const auto& ph = j["plain_http"];
    if (auto r = check_keys(ph, "plain_http", {"enabled", "listen"}); !r) return r;
    if (auto r = read_bool(ph, "plain_http", "enabled", o.server.plain_enabled); !r) return r;
    if (ph.contains("listen")) {
      if (!ph["listen"].is_string()) return make_error("config key plain_http.listen must be \"ADDR:PORT\"");
      http::ServerConfig tmp;
      if (auto r = parse_listen(ph["listen"].get<std::string>(), tmp); !r) return make_error("plain_http.listen: " + r.error().message);
      o.server.plain_address = tmp.address;
      o.server.plain_port = tmp.port;
    }
  }
  if (j.contains("ca")) {
    const auto& c = j["ca"];
    const char* w = "ca";
    if (auto r = check_keys(c, w, {"http_base", "profiles_dir", "reenroll_grace_seconds", "crl_validity_seconds",
                                   "crl_refresh_seconds", "ocsp_validity_seconds", "max_token_ttl_seconds",
                                   "ocsp_stapling", "idevid_anchors", "external_cas", "token_hash_opslimit",
                                   "token_hash_memlimit_bytes"});
        !r) {
      return r;
    }
    if (c.contains("http_base")) {
      if (!c["http_base"].is_string()) return make_error("config key ca.http_base must be a URL string");
      o.ca.http_base = c["http_base"].get<std::string>();
      if (!o.ca.http_base.starts_with("http://") && !o.ca.http_base.starts_with("https://")) {
        return make_error("config key ca.http_base must start with http:// or https://");
      }
      while (o.ca.http_base.ends_with("/")) o.ca.http_base.pop_back();
      o.ca_http_base_set = true;
    }
    if (c.contains("profiles_dir")) {
      if (!c["profiles_dir"].is_string()) return make_error("config key ca.profiles_dir must be a path");
      o.profiles_dir = c["profiles_dir"].get<std::string>();
    }
    auto seconds = [&](const char* key, std::chrono::seconds& out, std::uint64_t min, std::uint64_t max) -> Result<void> {
      std::uint64_t n = static_cast<std::uint64_t>(out.count());
      if (auto r = read_uint(c, w, key, n, min, max); !r) return r;
      out = std::chrono::seconds(static_cast<std::int64_t>(n));
      return {};
    };
    for (auto r : {seconds("reenroll_grace_seconds", o.ca.reenroll_grace, 0, 365ull * 86400),
                   seconds("crl_validity_seconds", o.ca.crl_validity, 60, 365ull * 86400),
                   seconds("crl_refresh_seconds", o.ca.crl_refresh, 1, 365ull * 86400),
                   seconds("ocsp_validity_seconds", o.ca.ocsp_validity, 60, 30ull * 86400),
                   seconds("max_token_ttl_seconds", o.ca.max_token_ttl, 60, 365ull * 86400),
                   read_bool(c, w, "ocsp_stapling", o.ocsp_stapling),
                   read_uint(c, w, "token_hash_opslimit", o.ca.token_hash.opslimit, 1, 32),
                   read_uint(c, w, "token_hash_memlimit_bytes", o.ca.token_hash.memlimit_bytes, 8192,
                             std::uint64_t{1} << 30)}) {
      if (!r) return r;
    }
    auto read_pem = [](const json& item, const std::string& where) -> Result<std::string> {
      if (!item.contains("certificate_file") || !item["certificate_file"].is_string()) {
        return make_error("config key " + where + ".certificate_file (a PEM file) is required");
      }
      std::ifstream f(item["certificate_file"].get<std::string>());
      if (!f) return make_error("config key " + where + ".certificate_file: cannot read " + item["certificate_file"].get<std::string>());
      std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      return text;
    };
    if (c.contains("idevid_anchors")) {
      if (!c["idevid_anchors"].is_array()) return make_error("config key ca.idevid_anchors must be an array");
      o.ca.idevid_anchors.clear();
      for (std::size_t i = 0; i < c["idevid_anchors"].size(); ++i) {
        const auto& item = c["idevid_anchors"][i];
        const std::string where = "ca.idevid_anchors[" + std::to_string(i) + "]";
        if (auto r = check_keys(item, where, {"name", "certificate_file", "map_from", "identifier_template", "profile"}); !r) return r;
        ca::IdevidAnchor a;
        for (auto [key, field] : {std::pair{"name", &a.name}, std::pair{"map_from", &a.map_from},
                                  std::pair{"identifier_template", &a.identifier_template}, std::pair{"profile", &a.profile}}) {
          if (!item.contains(key)) continue;
          if (!item[key].is_string()) return make_error("config key " + where + "." + key + " must be a string");
          *field = item[key].get<std::string>();
        }
        auto pem = read_pem(item, where);
        if (!pem) return pem.error();
        a.certificate = std::move(*pem);
        o.ca.idevid_anchors.push_back(std::move(a));
      }
    }
    if (c.contains("external_cas")) {
      if (!c["external_cas"].is_array()) return make_error("config key ca.external_cas must be an array");
      o.ca.external_cas.clear();
      for (std::size_t i = 0; i < c["external_cas"].size(); ++i) {
        const auto& item = c["external_cas"][i];
        const std::string where = "ca.external_cas[" + std::to_string(i) + "]";
        if (auto r = check_keys(item, where, {"name", "certificate_file", "role"}); !r) return r;
        ca::ExternalCa e;
        for (auto [key, field] : {std::pair{"name", &e.name}, std::pair{"role", &e.role}}) {
          if (!item.contains(key)) continue;
          if (!item[key].is_string()) return make_error("config key " + where + "." + key + " must be a string");
          *field = item[key].get<std::string>();
        }
        auto pem = read_pem(item, where);
        if (!pem) return pem.error();
        e.certificate = std::move(*pem);
        o.ca.external_cas.push_back(std::move(e));
      }
    }
  }
  if (j.contains("policy")) {
    const auto& c = j["policy"];
    const char* w = "policy";
    if (auto r = check_keys(c, w, {"directory", "watch_interval_ms"}); !r) return r;
    if (c.contains("directory")) {
      if (!c["directory"].is_string()) return make_error("config key policy.directory must be a path");
      o.policies_dir = c["directory"].get<std::string>();
    }
    std::uint64_t ms = static_cast<std::uint64_t>(o.policy_watch_interval.count());
    if (auto r = read_uint(c, w, "watch_interval_ms", ms, 0, 3'600'000); !r) return r;
    o.policy_watch_interval = std::chrono::milliseconds(ms);
  }
  if (j.contains("resolver")) {
    const auto& c = j["resolver"];
    const char* w = "resolver";
    if (auto r = check_keys(c, w, {"root", "name", "delegations", "identification_link_hosts"}); !r) return r;
    auto& rc = o.api.resolver;
    if (c.contains("root")) {
      const auto root = c["root"].is_string() ? c["root"].get<std::string>() : "";
      if (!(root.starts_with("https://") || root.starts_with("http://")) || root.ends_with("/") ||
          root.find_first_of(" ?#") != std::string::npos) {
        return make_error("config key resolver.root must be \"https://host[:port][/stem]\" without a trailing slash");
      }
      rc.root = root;
    }
    if (c.contains("name")) {
      if (!c["name"].is_string()) return make_error("config key resolver.name must be a string");
      rc.name = c["name"].get<std::string>();
    }
    if (c.contains("delegations")) {
      // {"<GS1 company prefix>": "https://other-resolver.example", ...}
      const auto& d = c["delegations"];
      if (!d.is_object()) return make_error("config key resolver.delegations must be an object of company prefix -> resolver root");
      for (const auto& [gcp, target] : d.items()) {
        const bool digits = !gcp.empty() && gcp.size() <= 12 &&
                            std::all_of(gcp.begin(), gcp.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        const auto t = target.is_string() ? target.get<std::string>() : "";
        if (!digits || !(t.starts_with("https://") || t.starts_with("http://")) || t.ends_with("/")) {
          return make_error("config key resolver.delegations: \"" + gcp +
                            "\" must be a company prefix (1-12 digits) mapped to \"https://host[/stem]\" without a trailing slash");
        }
        rc.delegations.emplace_back(gcp, t);
      }
    }
    if (c.contains("identification_link_hosts")) {
      std::vector<std::string> hosts;
      if (auto r = read_strings(c, w, "identification_link_hosts", hosts); !r) return r;
      for (auto& h : hosts) {
        for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (h.ends_with(":443")) h.resize(h.size() - 4);
      }
      rc.identification_link_hosts = std::move(hosts);
    }
  }
  if (j.contains("audit")) {
    const auto& c = j["audit"];
    const char* w = "audit";
    if (auto r = check_keys(c, w, {"enabled", "batch_size", "max_delay_ms", "checkpoint_interval_ms", "origin",
                                   "pseudonymize_key_file", "max_txn_records", "queue_capacity", "index_batch",
                                   "index_interval_ms"});
        !r) {
      return r;
    }
    std::uint64_t delay = static_cast<std::uint64_t>(o.audit.max_delay.count());
    std::uint64_t interval = static_cast<std::uint64_t>(o.audit.checkpoint_interval.count());
    std::uint64_t index_interval = static_cast<std::uint64_t>(o.audit.index_interval.count());
    for (auto r : {read_bool(c, w, "enabled", o.audit.enabled),
                   read_uint(c, w, "batch_size", o.audit.batch_size, 1, 65536),
                   read_uint(c, w, "max_delay_ms", delay, 0, 100),
                   read_uint(c, w, "checkpoint_interval_ms", interval, 1, 86'400'000),
                   read_uint(c, w, "max_txn_records", o.audit.max_txn_records, 1, 1'000'000),
                   read_uint(c, w, "queue_capacity", o.audit.queue_capacity, 1, 16'777'216),
                   read_uint(c, w, "index_batch", o.audit.index_batch, 1, 1'000'000),
                   read_uint(c, w, "index_interval_ms", index_interval, 1, 3'600'000)}) {
      if (!r) return r;
    }
    o.audit.max_delay = std::chrono::milliseconds(delay);
    o.audit.checkpoint_interval = std::chrono::milliseconds(interval);
    o.audit.index_interval = std::chrono::milliseconds(index_interval);
    if (c.contains("origin")) {
      if (!c["origin"].is_string() || c["origin"].get<std::string>().empty()) {
        return make_error("config key audit.origin must be a non-empty string");
      }
      o.audit.origin = c["origin"].get<std::string>();
    }
    if (c.contains("pseudonymize_key_file")) {
      if (!c["pseudonymize_key_file"].is_string()) return make_error("config key audit.pseudonymize_key_file must be a path");
      o.audit.pseudonymize_key_file = c["pseudonymize_key_file"].get<std::string>();
    }
  }
  return {};
}

}  // namespace idra::cli
