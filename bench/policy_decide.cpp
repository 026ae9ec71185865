// policy_decide: idra's side of the policy benchmark (bench/policy.sh).
//
//   bench_policy_decide WORKLOAD.json SECONDS MODE DECISIONS_OUT
//
// Reads a workload written by bench/policy_workload.mjs, builds the policy
// set (and links its templates), then, single-threaded, decides the requests
// round-robin for SECONDS with policy::is_authorized, timing every call with
// steady_clock (the two clock reads, ~40 ns, are inside the figure). MODE:
//   decide  the request's Entities is built (Entities::make) just before the
//           clock starts: the figure is is_authorized alone (what the index
//           and the evaluator cost), over a store that is in cache as it is
//           in a server that has just built it;
//   make    Entities::make over a copy of the request's entities, then
//           is_authorized (what a server that builds entities per request pays);
//   json    Entities::from_json and context_from_json from the request's JSON
//           text, then is_authorized (the work cedar-wasm's statefulIsAuthorized
//           does per call: its entities and context arrive as JSON values).
// Before timing, one untimed pass writes each request's answer to
// DECISIONS_OUT, one line each: "allow|deny<TAB>determining ids, sorted,
// comma-separated<TAB>errored ids", for policy_cedar.mjs's to compare.
// Prints one JSON line of figures on stdout; decisions per second is the
// number of timed calls over the time spent inside them (single thread).
// Not a test: it passes no verdict.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "idra/policy.hpp"

namespace {

using nlohmann::json;
namespace pol = idra::policy;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::cerr << "bench_policy_decide: " << why << "\n";
  std::exit(1);
}

pol::EntityUid uid_from(const json& j) {
  return pol::EntityUid{j.at("type").get<std::string>(), j.at("id").get<std::string>()};
}

std::vector<pol::Entity> entities_from(const json& list) {
  std::vector<pol::Entity> out;
  for (const json& e : list) {
    pol::Entity entity;
    entity.uid = uid_from(e.at("uid"));
    for (const auto& [name, v] : e.at("attrs").items()) {
      auto value = pol::value_from_json(v.dump());
      if (!value) die("attribute " + name + ": " + value.error().message);
      entity.attrs.emplace(name, std::move(*value));
    }
    for (const json& p : e.at("parents")) entity.parents.push_back(uid_from(p));
    out.push_back(std::move(entity));
  }
  return out;
}

struct Case {
  pol::Request request;
  std::vector<pol::Entity> entity_list;  // for MODE make
  pol::Entities entities;                // for the answers pass
  std::string entities_json;             // for MODE json
  std::string context_json;
};

std::string answer_line(const pol::Decision& d) {
  std::vector<std::string> reason = d.determining;
  std::sort(reason.begin(), reason.end());
  std::set<std::string> errored;
  for (const auto& e : d.errors) errored.insert(e.policy_id);
  std::string line = d.allow ? "allow\t" : "deny\t";
  for (std::size_t i = 0; i < reason.size(); ++i) line += (i ? "," : "") + reason[i];
  line += "\t";
  bool first = true;
  for (const auto& id : errored) {
    line += (first ? "" : ",") + id;
    first = false;
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: bench_policy_decide WORKLOAD.json SECONDS decide|make|json DECISIONS_OUT\n";
    return 2;
  }
  const double seconds = std::stod(argv[2]);
  const std::string mode = argv[3];
  if (mode != "decide" && mode != "make" && mode != "json") die("unknown mode " + mode);
  std::ifstream in(argv[1]);
  if (!in) die(std::string("cannot read ") + argv[1]);
  const json w = json::parse(in);

  std::string text;
  std::size_t n_static = 0;
  for (const json& p : w.at("policies")) {
    text += p.at("text").get<std::string>() + "\n";
    if (!p.at("template").get<bool>()) ++n_static;
  }
  auto parsed = pol::PolicySet::parse(text, "bench.cedar");
  if (!parsed) die("parse: " + parsed.error().front().str());
  pol::PolicySet policies = std::move(parsed.value());
  for (const json& l : w.at("links")) {
    std::map<std::string, pol::EntityUid> slots;
    for (const auto& [name, v] : l.at("slots").items()) slots[name] = uid_from(v);
    auto r = policies.link(l.at("template").get<std::string>(), l.at("id").get<std::string>(), slots);
    if (!r) die("link: " + r.error().message);
  }

  std::vector<Case> cases;
  for (const json& r : w.at("requests")) {
    Case c;
    c.context_json = r.at("context").dump();
    auto context = pol::context_from_json(c.context_json);
    if (!context) die("context: " + context.error().message);
    c.request = pol::Request{uid_from(r.at("principal")), uid_from(r.at("action")), uid_from(r.at("resource")),
                             std::move(*context)};
    c.entities_json = r.at("entities").dump();
    c.entity_list = entities_from(r.at("entities"));
    auto made = pol::Entities::make(c.entity_list);
    if (!made) die("entities: " + made.error().message);
    c.entities = std::move(*made);
    cases.push_back(std::move(c));
  }

  // One untimed pass: the answers, and warm caches.
  {
    std::ofstream out(argv[4]);
    for (const Case& c : cases) out << answer_line(pol::is_authorized(policies, c.request, c.entities)) << "\n";
  }

  std::vector<std::uint32_t> samples_ns;
  samples_ns.reserve(static_cast<std::size_t>(seconds * 4e6) + 1024);
  std::size_t allowed = 0;
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto now = start;
  for (std::size_t i = 0; now < stop; i = (i + 1 == cases.size() ? 0 : i + 1)) {
    const Case& c = cases[i];
    // decide: the store is built just before, untimed, as a server builds
    // it just before deciding (so it is in cache, as it would be there).
    std::optional<pol::Entities> fresh;
    if (mode == "decide") {
      auto made = pol::Entities::make(c.entity_list);
      if (!made) die("entities: " + made.error().message);
      fresh.emplace(std::move(*made));
    }
    const auto t0 = Clock::now();
    bool allow = false;
    if (mode == "decide") {
      allow = pol::is_authorized(policies, c.request, *fresh).allow;
    } else if (mode == "make") {
      auto e = pol::Entities::make(c.entity_list);
      allow = e && pol::is_authorized(policies, c.request, *e).allow;
    } else {
      auto e = pol::Entities::from_json(c.entities_json);
      auto ctx = pol::context_from_json(c.context_json);
      if (e && ctx) {
        pol::Request req{c.request.principal, c.request.action, c.request.resource, std::move(*ctx)};
        allow = pol::is_authorized(policies, req, *e).allow;
      }
    }
    now = Clock::now();
    allowed += allow ? 1 : 0;
    samples_ns.push_back(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0).count()));
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  std::vector<std::uint32_t> sorted = samples_ns;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) { return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))] / 1000.0; };
  double sum_ns = 0;
  for (auto s : samples_ns) sum_ns += s;
  json fig = {{"engine", "idra"},
              {"mode", mode},
              {"policies", n_static + w.at("links").size()},
              {"requests", cases.size()},
              {"decisions", samples_ns.size()},
              {"seconds", elapsed},
              {"per_second", samples_ns.size() / (sum_ns / 1e9)},
              {"p50_us", pct(0.50)},
              {"p99_us", pct(0.99)},
              {"mean_us", sum_ns / samples_ns.size() / 1000.0},
              {"allow_share", static_cast<double>(allowed) / samples_ns.size()}};
  std::cout << fig.dump() << "\n";
  return 0;
}
