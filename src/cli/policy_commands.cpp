// policy_commands.cpp: `idra policy check|explain|test`, the policy author's
// tools. They read policy directories directly (a node's DATA/policies or any
// other), so they work offline, like Cedar's own CLI.
#include "policy_commands.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "idra/policy.hpp"

namespace idra::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicyHelp = R"(idra policy: check, explain and test Cedar policies

Usage:
  idra policy check [DIR]
  idra policy explain --principal P --action A --resource R [--context JSON]
                      [--data DIR | --policies DIR|FILE] [--schema FILE] [--entities FILE] [--json]
  idra policy test [DIR]

DIR is a policy directory (*.cedar, one *.cedarschema or *.cedarschema.json,
entities.json, links.json); it defaults to the node's, idra-data/policies.

check    parses and validates the set; every error as file:line:column: message.
explain  decides one request: the decision, the determining policies and the
         policies that errored. Entities come from the directory's entities.json
         plus --entities (Cedar's JSON entities format). Exit status 0 allow,
         3 deny, 1 error, 2 usage.
test     runs the expected-decision cases in DIR/tests/*.json:
           {"entities": [...], "cases": [{"name", "principal", "action", "resource",
             "context", "decision": "allow"|"deny", "determining": [ids]?}]}

Examples:
  idra policy check policies/
  idra policy explain --policies policies/ --principal 'Device::"88.100/D1"' \
      --action 'Action::"update"' --resource 'Value::"88.100/D1#1"' \
      --entities devices.json --context '{"handleAdmin": [], "publicOnly": false, "change": "modify"}' --json
  idra policy test policies/
)";

int usage(const std::string& message) {
  std::fprintf(stderr, "idra policy: %s\n\n%s", message.c_str(), kPolicyHelp);
  return 2;
}

void print_diagnostics(const std::vector<policy::Diagnostic>& ds) {
  for (const auto& d : ds) std::fprintf(stderr, "%s\n", d.str().c_str());
}

Result<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error("cannot read " + p.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// DirArgs is what check and test take: at most one directory, or --help.
struct DirArgs {
  fs::path dir = "idra-data/policies";
  std::optional<int> exit;  // set when the command is done (help, usage error)
};

DirArgs dir_args(int argc, char** argv, int from, const char* what) {
  DirArgs out;
  bool given = false;
  for (int i = from; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kPolicyHelp, stdout);
      out.exit = 0;
      return out;
    }
    if (a.starts_with("-") || given) {
      out.exit = usage(std::string(what) + " takes one policy directory");
      return out;
    }
    out.dir = argv[i];
    given = true;
  }
  return out;
}

int check(int argc, char** argv, int from) {
  const DirArgs args = dir_args(argc, argv, from, "check");
  if (args.exit) return *args.exit;
  const fs::path& dir = args.dir;
  auto bundle = policy::load_bundle(dir);
  if (!bundle) {
    print_diagnostics(bundle.error());
    std::fprintf(stderr, "idra policy check: %zu error(s) in %s\n", bundle.error().size(), dir.c_str());
    return 1;
  }
  const auto& b = **bundle;
  std::printf("ok: %zu policies, %zu templates, %s; sha256 %s\n", b.policies.size(), b.policies.template_ids().size(),
              b.schema ? "validated against the schema" : "no schema (not validated)", b.sha256_hex.c_str());
  return 0;
}

// decide_with returns the decision for |request| over |bundle| with
// |entities| layered on the bundle's own.
Result<policy::Decision> decide_with(const policy::Bundle& bundle, const policy::Request& request,
                                     const std::string& entities_json) {
  std::vector<policy::Entity> extra;
  if (!entities_json.empty()) {
    auto parsed = policy::Entities::from_json(entities_json);
    if (!parsed) return make_error("entities: " + parsed.error().message);
    nlohmann::json j = nlohmann::json::parse(entities_json, nullptr, false);
    for (const auto& item : j) {
      auto uid_text = item.contains("uid") ? item["uid"] : nlohmann::json();
      if (uid_text.contains("__entity")) uid_text = uid_text["__entity"];
      policy::EntityUid uid{uid_text.value("type", ""), uid_text.value("id", "")};
      if (const auto* e = parsed->find(uid)) extra.push_back(*e);
    }
  }
  auto entities = policy::layered(std::move(extra), bundle.entities);
  if (!entities) return make_error("entities: " + entities.error().message);
  return policy::is_authorized(bundle.policies, request, *entities);
}

int explain(int argc, char** argv, int from) {
  std::string principal, action, resource, context = "{}", entities_file, schema_file;
  fs::path policies = "idra-data/policies";
  bool json = false;
  for (int i = from; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::fputs(kPolicyHelp, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--principal") {
      if (!value(principal)) return usage("--principal needs an entity like User::\"alice\"");
    } else if (a == "--action") {
      if (!value(action)) return usage("--action needs an entity like Action::\"resolve\"");
    } else if (a == "--resource") {
      if (!value(resource)) return usage("--resource needs an entity like Identifier::\"88.100/X\"");
    } else if (a == "--context") {
      if (!value(context)) return usage("--context needs a JSON object");
    } else if (a == "--entities") {
      if (!value(entities_file)) return usage("--entities needs a file");
    } else if (a == "--schema") {
      if (!value(schema_file)) return usage("--schema needs a file");
    } else if (a == "--policies") {
      if (!value(v)) return usage("--policies needs a directory or a .cedar file");
      policies = v;
    } else if (a == "--data") {
      if (!value(v)) return usage("--data needs the node's data directory");
      policies = fs::path(v) / "policies";
    } else {
      return usage("unknown or incomplete option " + std::string(a));
    }
  }
  if (principal.empty() || action.empty() || resource.empty()) return usage("explain needs --principal, --action and --resource");

  policy::Request request;
  auto p = policy::entity_uid_from_text(principal);
  auto act = policy::entity_uid_from_text(action);
  auto res = policy::entity_uid_from_text(resource);
  if (!p) return usage("--principal: " + p.error().message);
  if (!act) return usage("--action: " + act.error().message);
  if (!res) return usage("--resource: " + res.error().message);
  auto ctx = policy::context_from_json(context);
  if (!ctx) return usage("--context: " + ctx.error().message);
  request.principal = std::move(*p);
  request.action = std::move(*act);
  request.resource = std::move(*res);
  request.context = std::move(*ctx);

  auto bundle = policy::load_bundle(policies);
  if (!bundle) {
    print_diagnostics(bundle.error());
    return 1;
  }
  std::shared_ptr<const policy::Schema> schema = (*bundle)->schema;
  if (!schema_file.empty()) {
    auto text = read_text(schema_file);
    if (!text) {
      std::fprintf(stderr, "idra policy explain: %s\n", text.error().message.c_str());
      return 1;
    }
    auto parsed = schema_file.ends_with(".json") ? policy::Schema::parse_json(*text, schema_file)
                                                 : policy::Schema::parse_cedarschema(*text, schema_file);
    if (!parsed) {
      print_diagnostics(parsed.error());
      return 1;
    }
    schema = std::make_shared<const policy::Schema>(std::move(*parsed));
    auto problems = policy::validate(*schema, (*bundle)->policies);
    if (!problems.empty()) {
      print_diagnostics(problems);
      return 1;
    }
  }
  if (schema) {
    if (auto r = policy::validate_request(*schema, request); !r) {
      std::fprintf(stderr, "idra policy explain: the request does not fit the schema: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  std::string entities_json;
  if (!entities_file.empty()) {
    auto text = read_text(entities_file);
    if (!text) {
      std::fprintf(stderr, "idra policy explain: %s\n", text.error().message.c_str());
      return 1;
    }
    entities_json = std::move(*text);
  }
  auto decision = decide_with(**bundle, request, entities_json);
  if (!decision) {
    std::fprintf(stderr, "idra policy explain: %s\n", decision.error().message.c_str());
    return 1;
  }
  if (json) {
    nlohmann::ordered_json out;
    out["decision"] = decision->allow ? "allow" : "deny";
    out["determining"] = decision->determining;
    auto errors = nlohmann::ordered_json::array();
    for (const auto& e : decision->errors) errors.push_back({{"policy", e.policy_id}, {"message", e.message}});
    out["errors"] = std::move(errors);
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s\n", decision->allow ? "ALLOW" : "DENY");
    std::string ids;
    for (const auto& id : decision->determining) ids += (ids.empty() ? "" : ", ") + id;
    std::printf("determining: %s\n", ids.empty() ? "(none: no policy applies, default deny)" : ids.c_str());
    for (const auto& e : decision->errors) std::printf("error in %s: %s\n", e.policy_id.c_str(), e.message.c_str());
  }
  return decision->allow ? 0 : 3;
}

int test(int argc, char** argv, int from) {
  const DirArgs args = dir_args(argc, argv, from, "test");
  if (args.exit) return *args.exit;
  const fs::path& dir = args.dir;
  auto bundle = policy::load_bundle(dir);
  if (!bundle) {
    print_diagnostics(bundle.error());
    return 1;
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "tests", ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  if (ec || files.empty()) {
    std::fprintf(stderr, "idra policy test: no test files in %s\n", (dir / "tests").c_str());
    return 1;
  }
  std::sort(files.begin(), files.end());
  std::size_t passed = 0, failed = 0;
  for (const auto& f : files) {
    auto text = read_text(f);
    nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (j.is_discarded() || !j.is_object() || !j.contains("cases") || !j["cases"].is_array()) {
      std::printf("FAIL %s: not a test file ({\"entities\": [...], \"cases\": [...]})\n", f.filename().c_str());
      ++failed;
      continue;
    }
    const std::string entities = j.contains("entities") ? j["entities"].dump() : std::string();
    for (std::size_t i = 0; i < j["cases"].size(); ++i) {
      const auto& c = j["cases"][i];
      const std::string name = f.filename().string() + ": " + (c.contains("name") && c["name"].is_string()
                                                                   ? c["name"].get<std::string>()
                                                                   : "case " + std::to_string(i));
      auto fail = [&](const std::string& why) {
        std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
        ++failed;
      };
      auto field = [&](const char* k) { return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : std::string(); };
      auto p = policy::entity_uid_from_text(field("principal"));
      auto a = policy::entity_uid_from_text(field("action"));
      auto r = policy::entity_uid_from_text(field("resource"));
      auto ctx = policy::context_from_json(c.contains("context") ? c["context"].dump() : "{}");
      const std::string want = field("decision");
      if (!p || !a || !r || !ctx || (want != "allow" && want != "deny")) {
        fail("needs principal, action, resource (Type::\"id\"), an optional context object and decision allow|deny");
        continue;
      }
      policy::Request request{std::move(*p), std::move(*a), std::move(*r), std::move(*ctx)};
      if ((*bundle)->schema) {
        if (auto v = policy::validate_request(*(*bundle)->schema, request); !v) {
          fail("the request does not fit the schema: " + v.error().message);
          continue;
        }
      }
      auto d = decide_with(**bundle, request, entities);
      if (!d) {
        fail(d.error().message);
        continue;
      }
      const std::string got = d->allow ? "allow" : "deny";
      std::string ids;
      for (const auto& id : d->determining) ids += (ids.empty() ? "" : ",") + id;
      if (got != want) {
        fail("expected " + want + ", got " + got + " (determining: " + ids + ")");
        continue;
      }
      if (c.contains("determining")) {
        std::vector<std::string> expected;
        for (const auto& x : c["determining"]) expected.push_back(x.is_string() ? x.get<std::string>() : x.dump());
        if (expected != d->determining) {
          fail("determining policies differ: got [" + ids + "]");
          continue;
        }
      }
      if (!d->errors.empty() && !(c.contains("errors_expected") && c["errors_expected"].is_boolean() &&
                                  c["errors_expected"].get<bool>())) {
        fail("policy " + d->errors.front().policy_id + " errored: " + d->errors.front().message);
        continue;
      }
      ++passed;
    }
  }
  std::printf("idra policy test: %zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int policy_command(int argc, char** argv, int from) {
  if (from >= argc) return usage("give a command: check, explain or test");
  const std::string_view cmd = argv[from];
  if (cmd == "--help" || cmd == "-h") {
    std::fputs(kPolicyHelp, stdout);
    return 0;
  }
  if (cmd == "check") return check(argc, argv, from + 1);
  if (cmd == "explain") return explain(argc, argv, from + 1);
  if (cmd == "test") return test(argc, argv, from + 1);
  return usage("unknown command " + std::string(cmd));
}

}  // namespace idra::cli
