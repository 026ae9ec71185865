// engine.cpp: policy directories (load_bundle) and the Engine that serves the
// active bundle and swaps it atomically on reload.
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <unordered_map>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "idra/policy.hpp"
#include "policy/schema.hpp"

namespace idra::policy {
namespace {

namespace fs = std::filesystem;

using Diagnostics = std::vector<Diagnostic>;

constexpr std::size_t kMaxFileBytes = std::size_t{16} << 20;

Diagnostics one(std::string file, std::string message) {
  return {Diagnostic{std::move(file), 0, 0, std::move(message)}};
}

Result<std::string, Diagnostics> read_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return one(path.string(), "cannot read: " + ec.message());
  if (size > kMaxFileBytes) return one(path.string(), "larger than 16 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return one(path.string(), "cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

bool ends_with(const std::string& s, std::string_view suffix) { return s.size() >= suffix.size() && s.ends_with(suffix); }

// The files of a directory that make up its policy set, sorted by name.
struct Listing {
  std::vector<fs::path> cedar;
  std::optional<fs::path> schema;
  std::optional<fs::path> entities;
  std::optional<fs::path> links;
};

Result<Listing, Diagnostics> list_directory(const fs::path& dir) {
  Listing l;
  std::error_code ec;
  std::vector<fs::path> names;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) names.push_back(e.path());
  }
  if (ec) return one(dir.string(), "cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& p : names) {
    const std::string name = p.filename().string();
    if (name.starts_with(".")) continue;
    if (ends_with(name, ".cedar")) {
      l.cedar.push_back(p);
    } else if (ends_with(name, ".cedarschema") || ends_with(name, ".cedarschema.json")) {
      if (l.schema) return one(p.string(), "a second schema (" + l.schema->filename().string() + " is one); keep one");
      l.schema = p;
    } else if (name == "entities.json") {
      l.entities = p;
    } else if (name == "links.json") {
      l.links = p;
    }
  }
  return l;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

// stamp_of lists the names, sizes and modification times of the files that
// make up the set, to notice changes without reading them.
std::string stamp_of(const fs::path& path) {
  std::ostringstream out;
  std::error_code ec;
  auto add = [&](const fs::path& p) {
    const auto size = fs::file_size(p, ec);
    const auto mtime = fs::last_write_time(p, ec);
    out << p.filename().string() << '\0' << size << '\0' << mtime.time_since_epoch().count() << '\n';
  };
  if (fs::is_directory(path, ec)) {
    auto listing = list_directory(path);
    if (!listing) return "unlistable";
    for (const auto& p : listing->cedar) add(p);
    for (const auto& p : {listing->schema, listing->entities, listing->links}) {
      if (p) add(*p);
    }
  } else {
    add(path);
  }
  return out.str();
}

Result<void, Diagnostics> apply_links(PolicySet& set, const std::string& text, const std::string& file) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return one(file, "must be a JSON array of {\"template\", \"id\", \"slots\"}");
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& l = j[i];
    const std::string where = "link " + std::to_string(i);
    if (!l.is_object() || !l.contains("template") || !l["template"].is_string() || !l.contains("id") ||
        !l["id"].is_string()) {
      return one(file, where + ": needs \"template\" and \"id\" strings");
    }
    std::map<std::string, EntityUid> slots;
    if (l.contains("slots")) {
      if (!l["slots"].is_object()) return one(file, where + ": \"slots\" must be an object");
      for (const auto& [k, v] : l["slots"].items()) {
        if (!v.is_string()) return one(file, where + ": slot " + k + " must be an entity like Type::\"id\"");
        auto uid = entity_uid_from_text(v.get<std::string>());
        if (!uid) return one(file, where + ": slot " + k + ": " + uid.error().message);
        slots.emplace(k, std::move(*uid));
      }
    }
    if (auto r = set.link(l["template"].get<std::string>(), l["id"].get<std::string>(), slots); !r) {
      return one(file, where + ": " + r.error().message);
    }
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const Bundle>, Diagnostics> load_bundle(const fs::path& path) {
  std::error_code ec;
  std::vector<fs::path> paths;
  if (fs::is_directory(path, ec)) {
    auto l = list_directory(path);
    if (!l) return l.error();
    paths = l->cedar;
    for (const auto& p : {l->schema, l->entities, l->links}) {
      if (p) paths.push_back(*p);
    }
  } else if (fs::is_regular_file(path, ec)) {
    if (!ends_with(path.filename().string(), ".cedar")) return one(path.string(), "a policy file's name ends in .cedar");
    paths.push_back(path);
  } else {
    return one(path.string(), "no such policy file or directory");
  }
  std::vector<PolicyFile> files;
  for (const auto& p : paths) {
    auto text = read_file(p);
    if (!text) return text.error();
    files.push_back(PolicyFile{p.filename().string(), std::move(*text), p.string()});
  }
  return load_bundle(files);
}

Result<std::shared_ptr<const Bundle>, Diagnostics> load_bundle(const std::vector<PolicyFile>& input) {
  auto bundle = std::make_shared<Bundle>();
  std::vector<const PolicyFile*> files;
  for (const auto& f : input) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  std::string hashed;
  const PolicyFile* schema_file = nullptr;
  const PolicyFile* entities_file = nullptr;
  const PolicyFile* links_file = nullptr;
  Diagnostics errors;
  for (const auto* f : files) {
    const std::string shown = f->path.empty() ? f->name : f->path;
    if (ends_with(f->name, ".cedarschema") || ends_with(f->name, ".cedarschema.json")) {
      if (schema_file) return one(shown, "a second schema (" + schema_file->name + " is one); keep one");
      schema_file = f;
    } else if (f->name == "entities.json") {
      entities_file = f;
    } else if (f->name == "links.json") {
      links_file = f;
    } else if (!ends_with(f->name, ".cedar")) {
      continue;
    }
    hashed += f->name;
    hashed.push_back('\0');
    hashed += f->text;
    hashed.push_back('\0');
    bundle->files.push_back(f->name);
  }
  // Policies first, in file-name order (ids policyN count across files).
  for (const auto* f : files) {
    if (!ends_with(f->name, ".cedar")) continue;
    if (auto r = bundle->policies.add_text(f->text, f->path.empty() ? f->name : f->path); !r) {
      errors.insert(errors.end(), r.error().begin(), r.error().end());
    }
  }
  if (schema_file) {
    const std::string shown = schema_file->path.empty() ? schema_file->name : schema_file->path;
    auto schema = ends_with(schema_file->name, ".json") ? Schema::parse_json(schema_file->text, shown)
                                                        : Schema::parse_cedarschema(schema_file->text, shown);
    if (!schema) {
      errors.insert(errors.end(), schema.error().begin(), schema.error().end());
    } else {
      bundle->schema = std::make_shared<const Schema>(std::move(*schema));
    }
  }
  if (entities_file) {
    auto entities = Entities::from_json(entities_file->text);
    if (!entities) {
      errors.push_back(Diagnostic{entities_file->path.empty() ? entities_file->name : entities_file->path, 0, 0,
                                  entities.error().message});
    } else {
      bundle->entities = std::make_shared<const Entities>(std::move(*entities));
    }
  }
  if (!errors.empty()) return errors;
  if (links_file) {
    if (auto r = apply_links(bundle->policies, links_file->text, links_file->path.empty() ? links_file->name : links_file->path); !r) {
      return r.error();
    }
  }
  if (!bundle->entities) bundle->entities = std::make_shared<const Entities>();
  if (bundle->schema) {
    auto problems = validate(*bundle->schema, bundle->policies);
    if (!problems.empty()) return problems;
    // The schema's actions and their groups are entities too (as Cedar
    // derives them), so that `action in Action::"read"` follows the groups.
    std::vector<Entity> actions;
    for (const auto& [uid, def] : bundle->schema->impl().actions) {
      if (bundle->entities->find(uid) == nullptr) actions.push_back(Entity{uid, {}, def.member_of, {}});
    }
    if (!actions.empty()) {
      auto with_actions = layered(std::move(actions), bundle->entities);
      if (!with_actions) return one(schema_file ? schema_file->name : "schema", with_actions.error().message);
      bundle->entities = std::make_shared<const Entities>(std::move(*with_actions));
    }
  }
  bundle->named_types = named_entity_types(bundle->policies, *bundle->entities);
  bundle->sha256_hex = sha256_hex(hashed);
  return std::shared_ptr<const Bundle>(std::move(bundle));
}

Engine::Engine(fs::path dir, std::shared_ptr<const Bundle> bundle, std::string stamp)
    : dir_(std::move(dir)), bundle_(std::move(bundle)), stamp_(std::move(stamp)) {}

Result<std::unique_ptr<Engine>, Diagnostics> Engine::open(const fs::path& dir) {
  const std::string stamp = stamp_of(dir);
  auto bundle = load_bundle(dir);
  if (!bundle) return bundle.error();
  return std::unique_ptr<Engine>(new Engine(dir, std::move(*bundle), stamp));
}

std::shared_ptr<const Bundle> Engine::current() const {
  std::lock_guard lock(mu_);
  return bundle_;
}

Result<bool, Diagnostics> Engine::reload() {
  // The stamp is taken before reading, so a change made while we read is
  // seen as a change again at the next look.
  const std::string stamp = stamp_of(dir_);
  auto bundle = load_bundle(dir_);
  std::lock_guard lock(mu_);
  if (!bundle) return bundle.error();
  stamp_ = stamp;
  const bool changed = (*bundle)->sha256_hex != bundle_->sha256_hex;
  bundle_ = std::move(*bundle);
  return changed;
}

bool Engine::changed_on_disk() const {
  const std::string now = stamp_of(dir_);
  std::lock_guard lock(mu_);
  return now != stamp_;
}

}  // namespace idra::policy
