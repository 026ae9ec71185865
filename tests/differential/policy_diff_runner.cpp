// policy_diff_runner: idra's side of the differential test against Cedar.
//
// Reads the cases written by gen.mjs (NDJSON, one case a line) from the file
// named by argv[1] and prints one JSON line of idra's answers per case, in
// the same order, for compare.mjs to hold against cedar-wasm's answers.
//
//   auth case     -> {"id", "results": [{"decision", "reason", "errors"}...]}
//                    or {"id", "failure": "..."} when the policies, links or
//                    entities are rejected before any request is decided.
//   validate case -> {"id", "invalid": [policy ids]} or {"id", "failure"}, and
//                    the same under "json" for the schema's JSON form, and
//                    "requests": [{"verdict": "ok"|"invalid"}] from validate_request.
//
// `policy_diff_runner --sanitized` prints "1" when built with ASan, so the
// driver can run fewer cases under the (much slower) sanitizer build.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "idra/policy.hpp"

namespace {

using nlohmann::json;
namespace pol = idra::policy;
using idra::Result;

pol::EntityUid uid_from(const json& j) {
  return pol::EntityUid{j.at("type").get<std::string>(), j.at("id").get<std::string>()};
}

std::string join_diagnostics(const std::vector<pol::Diagnostic>& ds) {
  std::string out;
  for (const pol::Diagnostic& d : ds) {
    if (!out.empty()) out += "; ";
    out += d.str();
  }
  return out;
}

// build_policies parses the case's policies (concatenated in order, as one
// file) and links its templates. Empty string on success, else why not.
std::string build_policies(const json& c, pol::PolicySet& out) {
  std::string text;
  for (const json& p : c.at("policies")) {
    text += p.at("text").get<std::string>();
    text += "\n";
  }
  auto parsed = pol::PolicySet::parse(text, "case.cedar");
  if (!parsed) return "parse: " + join_diagnostics(parsed.error());
  out = std::move(parsed.value());
  if (c.contains("links")) {
    for (const json& l : c.at("links")) {
      std::map<std::string, pol::EntityUid> slots;
      for (const auto& [name, v] : l.at("slots").items()) slots[name] = uid_from(v);
      auto r = out.link(l.at("template").get<std::string>(), l.at("id").get<std::string>(), slots);
      if (!r) return "link: " + r.error().message;
    }
  }
  return {};
}

json run_auth(const json& c) {
  json out = {{"id", c.at("id")}};
  pol::PolicySet policies;
  if (std::string why = build_policies(c, policies); !why.empty()) {
    out["failure"] = why;
    return out;
  }
  auto entities = pol::Entities::from_json(c.at("entities").dump());
  if (!entities) {
    out["failure"] = "entities: " + entities.error().message;
    return out;
  }
  json results = json::array();
  for (const json& r : c.at("requests")) {
    auto context = pol::context_from_json(r.at("context").dump());
    if (!context) {
      results.push_back({{"failure", "context: " + context.error().message}});
      continue;
    }
    pol::Request request{uid_from(r.at("principal")), uid_from(r.at("action")),
                         uid_from(r.at("resource")), std::move(context.value())};
    pol::Decision d = pol::is_authorized(policies, request, *entities);
    std::vector<std::string> reason = d.determining;
    std::sort(reason.begin(), reason.end());
    std::set<std::string> errored;
    json messages = json::object();
    for (const pol::EvaluationError& e : d.errors) {
      errored.insert(e.policy_id);
      messages[e.policy_id] = e.message;
    }
    results.push_back({{"decision", d.allow ? "allow" : "deny"},
                       {"reason", reason},
                       {"errors", std::vector<std::string>(errored.begin(), errored.end())},
                       {"messages", messages}});
  }
  out["results"] = std::move(results);
  return out;
}

// policy_of extracts the policy id from a validator message
// ("policy `ID`: ..."); empty when the message names none.
std::string policy_of(const std::string& message) {
  const std::string marker = "policy `";
  auto at = message.find(marker);
  if (at == std::string::npos) return {};
  at += marker.size();
  auto end = message.find("`: ", at);
  if (end == std::string::npos) return {};
  return message.substr(at, end - at);
}

// validate_with checks the case's policies against |schema| (parsed from
// the text or the JSON form).
json validate_with(const json& c, const Result<pol::Schema, std::vector<pol::Diagnostic>>& schema) {
  json out = json::object();
  if (!schema) {
    out["failure"] = "schema: " + join_diagnostics(schema.error());
    return out;
  }
  pol::PolicySet policies;
  if (std::string why = build_policies(c, policies); !why.empty()) {
    out["failure"] = why;
    return out;
  }
  std::set<std::string> invalid;
  json messages = json::array();
  for (const pol::Diagnostic& d : pol::validate(*schema, policies)) {
    std::string id = policy_of(d.message);
    invalid.insert(id.empty() ? "?" : id);
    messages.push_back(d.str());
  }
  out["invalid"] = std::vector<std::string>(invalid.begin(), invalid.end());
  out["messages"] = std::move(messages);
  return out;
}

json run_validate(const json& c) {
  auto schema =
      pol::Schema::parse_cedarschema(c.at("schema").get<std::string>(), "case.cedarschema");
  json out = validate_with(c, schema);
  out["id"] = c.at("id");
  // validate_request over the case's requests: "ok" or "invalid" each.
  if (schema && c.contains("requests")) {
    json verdicts = json::array();
    for (const json& r : c.at("requests")) {
      auto context = pol::context_from_json(r.at("context").dump());
      if (!context) {
        verdicts.push_back(
            {{"verdict", "invalid"}, {"why", "context: " + context.error().message}});
        continue;
      }
      pol::Request request{uid_from(r.at("principal")), uid_from(r.at("action")),
                           uid_from(r.at("resource")), std::move(context.value())};
      auto ok = pol::validate_request(*schema, request);
      verdicts.push_back(ok ? json{{"verdict", "ok"}}
                            : json{{"verdict", "invalid"}, {"why", ok.error().message}});
    }
    out["requests"] = std::move(verdicts);
  }
  // The same schema in Cedar's JSON form (written by cedar-wasm's schemaToJson).
  if (c.contains("schema_json"))
    out["json"] = validate_with(
        c, pol::Schema::parse_json(c.at("schema_json").dump(), "case.cedarschema.json"));
  return out;
}

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--sanitized") {
    std::cout << (sanitized() ? 1 : 0) << "\n";
    return 0;
  }
  if (argc != 2) {
    std::cerr << "usage: policy_diff_runner CASES.ndjson | --sanitized\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "policy_diff_runner: cannot read " << argv[1] << "\n";
    return 2;
  }
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    json c;
    try {
      c = json::parse(line);
    } catch (const json::exception& e) {
      std::cerr << "policy_diff_runner: line " << line_no << ": " << e.what() << "\n";
      return 2;
    }
    const std::string kind = c.value("kind", "auth");
    json answer = kind == "validate" ? run_validate(c) : run_auth(c);
    std::cout << answer.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return 0;
}
