// audit_commands.cpp: `idra audit verify` and `idra audit verify-export`,
// the auditor's side of the tamper-evident log. Neither trusts the node: a
// checkpoint counts only when its signature verifies with the log's key, and
// every later answer (proofs, exported leaves) is checked against it.
#include "audit_commands.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "client.hpp"
#include "idra/pki.hpp"

namespace idra::cli {

void RootBuilder::add_leaf_hash(audit::Hash leaf_hash) {
  stack_.emplace_back(1, std::move(leaf_hash));
  ++size_;
  while (stack_.size() >= 2 && stack_[stack_.size() - 1].first == stack_[stack_.size() - 2].first) {
    auto right = std::move(stack_.back());
    stack_.pop_back();
    auto& left = stack_.back();
    left.second = audit::node_hash(left.second, right.second);
    left.first *= 2;
  }
}

audit::Hash RootBuilder::root() const {
  if (stack_.empty()) return audit::empty_root();
  // RFC 6962: MTH(D[n]) = H(MTH(D[0:k]) || MTH(D[k:n])) with k the largest
  // power of two below n, which is the first perfect subtree here; so the
  // root is the subtrees folded from the right.
  audit::Hash h = stack_.back().second;
  for (std::size_t i = stack_.size() - 1; i-- > 0;) h = audit::node_hash(stack_[i].second, h);
  return h;
}

namespace {

constexpr const char* kAuditHelp = R"help(Usage: idra audit COMMAND [options]

Commands:
  verify [--state FILE] [--index N]... [--full] [--key VKEY] [--origin ORIGIN]
        fetch the node's latest checkpoint and check its signature; prove it
        consistent with the checkpoint kept in the state file (then keep the
        new one there); prove that entry N is in the log (repeatable); with
        --full, fetch every entry (GET /api/audit/export) and recompute the
        root. Exit 0 only if everything verifies.
  verify-export FILE --checkpoint FILE --key VKEY [--origin ORIGIN]
        offline: recompute the Merkle root of an export (NDJSON from
        GET /api/audit/export, starting at entry 0) and compare it with a
        signed checkpoint's

Options of verify:
  --server URL        the node (default https://127.0.0.1:8443)
  --cacert FILE       trust anchor (default DATA/tls/ca.pem)
  --data DIR          data directory for admin.json and tls/ca.pem (default ./idra-data)
  --auth ID --secret-file FILE       Basic credentials other than DATA/admin.json
  --client-cert FILE --client-key FILE [--client-key-pass-file FILE]
                      authenticate with a client certificate (an auditor's) instead
  --key VKEY          the log's verifier key "name+id+key" (or a file holding it);
                      default: the one in the state file, else the node's
                      GET /api/audit/key, trusted on first use and kept in the state file
  --origin ORIGIN     the checkpoint origin expected (default: the key's name)

Examples:
  idra audit verify --state audit-state.json --index 0 --index 41
  curl ... 'https://127.0.0.1:8443/api/audit/export' > log.ndjson
  curl ... https://127.0.0.1:8443/api/audit/checkpoint > checkpoint.txt
  idra audit verify-export log.ndjson --checkpoint checkpoint.txt --key "$(cat log.vkey)"
)help";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "idra audit: %s\n(see idra audit --help)\n", message.c_str());
  return 2;
}

int failed(const std::string& message) {
  std::fprintf(stderr, "idra audit: FAILED: %s\n", message.c_str());
  return 1;
}


std::string trim_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// unbase64 decodes padded standard base64; nullopt on anything else.
std::optional<std::string> unbase64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad != 0) return std::nullopt;
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFF));
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], kTable[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

// read_vkey takes a verifier key given as text or as a file holding it.
Result<audit::VerifierKey> read_vkey(const std::string& arg) {
  std::string text = arg;
  std::error_code ec;
  if (text.find('+') == std::string::npos || std::filesystem::is_regular_file(arg, ec)) {
    auto file = read_text_file(arg);
    if (!file) return make_error("--key: neither a verifier key nor a readable file: " + arg);
    text = trim_line(*file);
  }
  auto key = audit::parse_verifier_key(text);
  if (!key) return make_error("--key: " + key.error().message);
  return key;
}

Result<audit::Proof> proof_of(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("proof") || !j["proof"].is_array()) return make_error("the answer has no proof");
  audit::Proof proof;
  for (const auto& h : j["proof"]) {
    if (!h.is_string()) return make_error("a proof hash is not a string");
    auto raw = unbase64(h.get<std::string>());
    if (!raw) return make_error("a proof hash is not base64");
    proof.push_back(std::move(*raw));
  }
  return proof;
}

// export_leaf checks one export line and returns its leaf bytes.
Result<std::string> export_leaf(const std::string& line, std::uint64_t expected_index) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("not a JSON object");
  if (!j.contains("index") || !j["index"].is_number_unsigned() || j["index"].get<std::uint64_t>() != expected_index) {
    return make_error("expected entry " + std::to_string(expected_index) + " here (an export must start at 0, in order, without gaps)");
  }
  if (!j.contains("leaf") || !j["leaf"].is_string()) return make_error("no leaf");
  auto leaf = unbase64(j["leaf"].get<std::string>());
  if (!leaf) return make_error("the leaf is not base64");
  // The record shown must be what the leaf says: an export whose readable
  // part was edited while its leaves were kept is caught here.
  if (j.contains("record") && !j["record"].is_null()) {
    auto decoded = audit::decode_leaf(*leaf);
    if (!decoded) return make_error("the leaf does not decode: " + decoded.error().message);
    auto shown = nlohmann::json::parse(*leaf, nullptr, false);
    if (shown != j["record"]) return make_error("the record shown differs from its leaf");
  }
  return std::move(*leaf);
}

struct Common {
  std::string data = "idra-data";
  CallArgs call;
  std::string auth_id;
  std::string secret_file;
};

// authenticate fills the call's credentials: the client certificate if one
// is given, else Basic from --auth/--secret-file or DATA/admin.json (when it
// exists: the checkpoint and the key need no credentials).
Result<void> authenticate(Common& c, const std::string& key_pass_file) {
  if (c.call.cacert.empty() && std::filesystem::exists(c.data + "/tls/ca.pem")) c.call.cacert = c.data + "/tls/ca.pem";
  if (!c.call.client_certificate.empty()) {
    if (!key_pass_file.empty()) {
      auto pass = read_text_file(key_pass_file);
      if (!pass) return make_error("cannot read " + key_pass_file);
      c.call.client_key_password = trim_line(*pass);
    }
    return {};
  }
  const std::string file = c.secret_file.empty() ? c.data + "/admin.json" : c.secret_file;
  // Anonymous without DATA/admin.json: enough for the checkpoint and the key.
  if (c.secret_file.empty() && !std::filesystem::exists(file)) return {};
  auto header = basic_from_file(file, c.auth_id);
  if (!header) return header.error();
  c.call.authorization = std::move(*header);
  return {};
}

Result<Reply> get(Common& c, const std::string& target) {
  CallArgs call = c.call;
  call.method = "GET";
  call.target = target;
  auto reply = https_call(call);
  if (!reply) return make_error("GET " + target + ": " + reply.error().message);
  if (reply->status != 200) {
    return make_error("GET " + target + ": HTTP " + std::to_string(reply->status) + ": " + reply_message(*reply));
  }
  return reply;
}

Result<nlohmann::json> get_json(Common& c, const std::string& target) {
  auto reply = get(c, target);
  if (!reply) return reply.error();
  auto j = nlohmann::json::parse(reply->body, nullptr, false);
  if (j.is_discarded()) return make_error("GET " + target + ": the answer is not JSON");
  return j;
}

struct State {
  std::string vkey;
  std::string origin;
  std::optional<std::uint64_t> size;
  std::string root;  // raw
  std::string checkpoint;
};

Result<State> load_state(const std::string& path) {
  State s;
  if (path.empty() || !std::filesystem::exists(path)) return s;
  auto text = read_text_file(path);
  if (!text) return make_error("cannot read the state file " + path);
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("the state file " + path + " is not a JSON object");
  try {
    if (j.contains("vkey")) s.vkey = j["vkey"].get<std::string>();
    if (j.contains("origin")) s.origin = j["origin"].get<std::string>();
    if (j.contains("size")) s.size = j["size"].get<std::uint64_t>();
    if (j.contains("root")) {
      auto root = unbase64(j["root"].get<std::string>());
      if (!root || root->size() != audit::kHashBytes) return make_error("the state file's root is not a base64 SHA-256");
      s.root = *root;
    }
    if (j.contains("checkpoint")) s.checkpoint = j["checkpoint"].get<std::string>();
  } catch (const std::exception& e) {
    return make_error("the state file " + path + " is malformed: " + e.what());
  }
  if (s.size && s.root.empty()) return make_error("the state file " + path + " has a size but no root");
  return s;
}

int verify(Common& c, const std::string& state_path, const std::vector<std::uint64_t>& indexes, bool full,
           const std::string& key_arg, const std::string& origin_arg, const std::string& key_pass_file) {
  if (auto r = authenticate(c, key_pass_file); !r) return failed(r.error().message);
  auto state = load_state(state_path);
  if (!state) return failed(state.error().message);

  // The key: given, else kept, else the node's (trusted on first use).
  audit::VerifierKey vkey;
  if (!key_arg.empty()) {
    auto k = read_vkey(key_arg);
    if (!k) return failed(k.error().message);
    vkey = *k;
    if (!state->vkey.empty() && state->vkey != audit::format_verifier_key(vkey)) {
      return failed("the state file was kept for another log key (" + state->vkey + ")");
    }
  } else if (!state->vkey.empty()) {
    auto k = audit::parse_verifier_key(state->vkey);
    if (!k) return failed("the state file's key: " + k.error().message);
    vkey = *k;
  } else {
    auto reply = get(c, "/api/audit/key");
    if (!reply) return failed(reply.error().message);
    auto k = audit::parse_verifier_key(trim_line(reply->body));
    if (!k) return failed("the node's key: " + k.error().message);
    vkey = *k;
    std::printf("log key (trusted on first use): %s\n", audit::format_verifier_key(vkey).c_str());
  }
  const std::string origin = !origin_arg.empty() ? origin_arg : !state->origin.empty() ? state->origin : vkey.name;

  auto note = get(c, "/api/audit/checkpoint");
  if (!note) return failed(note.error().message);
  auto checkpoint = audit::open_checkpoint(note->body, vkey, origin);
  if (!checkpoint) return failed("the checkpoint does not verify: " + checkpoint.error().message);
  std::printf("checkpoint %s size %llu root %s: signature verified\n", checkpoint->origin.c_str(),
              static_cast<unsigned long long>(checkpoint->size), base64(checkpoint->root).c_str());

  if (state->size) {
    const std::uint64_t old_size = *state->size;
    if (old_size > checkpoint->size) {
      return failed("the log shrank: the state file holds a checkpoint of size " + std::to_string(old_size) +
                    ", the node's latest is of size " + std::to_string(checkpoint->size));
    }
    audit::Proof proof;
    if (old_size != 0 && old_size < checkpoint->size) {
      auto j = get_json(c, "/api/audit/proof/consistency?from=" + std::to_string(old_size) +
                               "&to=" + std::to_string(checkpoint->size));
      if (!j) return failed(j.error().message);
      auto p = proof_of(*j);
      if (!p) return failed("consistency proof: " + p.error().message);
      proof = std::move(*p);
    }
    if (auto ok = audit::check_consistency(old_size, state->root, *checkpoint, proof); !ok) {
      return failed("the checkpoint of size " + std::to_string(checkpoint->size) +
                    " is not consistent with the one of size " + std::to_string(old_size) +
                    " in the state file: " + ok.error().message);
    }
    std::printf("consistent with the checkpoint of size %llu in %s\n", static_cast<unsigned long long>(old_size),
                state_path.c_str());
  }

  for (const auto index : indexes) {
    if (index >= checkpoint->size) {
      return failed("entry " + std::to_string(index) + " is not in the checkpoint of size " +
                    std::to_string(checkpoint->size) + " (not yet logged, or not yet checkpointed)");
    }
    auto j = get_json(c, "/api/audit/proof/inclusion?index=" + std::to_string(index) +
                             "&size=" + std::to_string(checkpoint->size));
    if (!j) return failed(j.error().message);
    auto p = proof_of(*j);
    if (!p) return failed("inclusion proof of entry " + std::to_string(index) + ": " + p.error().message);
    if (!j->contains("leaf") || !(*j)["leaf"].is_string()) return failed("the inclusion answer has no leaf");
    auto leaf = unbase64((*j)["leaf"].get<std::string>());
    if (!leaf) return failed("the leaf of entry " + std::to_string(index) + " is not base64");
    if (auto ok = audit::check_inclusion(*leaf, index, *checkpoint, *p); !ok) {
      return failed("entry " + std::to_string(index) + " is not proven included: " + ok.error().message);
    }
    auto record = audit::decode_leaf(*leaf);
    if (!record) return failed("entry " + std::to_string(index) + " is included but does not decode: " + record.error().message);
    std::printf("entry %llu included: %s %s by %s -> %u\n", static_cast<unsigned long long>(index),
                record->action.c_str(), record->resources.empty() ? "-" : record->resources[0].c_str(),
                record->principal.id.empty() ? "anonymous" : record->principal.id.c_str(), record->http_status);
  }

  if (full) {
    RootBuilder builder;
    std::uint64_t next = 0;
    while (next < checkpoint->size) {
      auto reply = get(c, "/api/audit/export?from=" + std::to_string(next) + "&to=" + std::to_string(checkpoint->size));
      if (!reply) return failed(reply.error().message);
      std::istringstream lines(reply->body);
      std::string line;
      const std::uint64_t before = next;
      while (std::getline(lines, line)) {
        if (line.empty()) continue;
        auto leaf = export_leaf(line, next);
        if (!leaf) return failed("export entry " + std::to_string(next) + ": " + leaf.error().message);
        builder.add_leaf_hash(audit::leaf_hash(*leaf));
        ++next;
      }
      if (next == before) return failed("the export from " + std::to_string(next) + " is empty");
    }
    if (builder.root() != checkpoint->root) {
      return failed("the " + std::to_string(builder.size()) + " entries the node exports hash to root " +
                    base64(builder.root()) + ", not the signed " + base64(checkpoint->root) +
                    ": the stored log was altered");
    }
    std::printf("all %llu entries rehashed: the root matches the checkpoint\n",
                static_cast<unsigned long long>(builder.size()));
  }

  if (!state_path.empty()) {
    nlohmann::ordered_json j = {{"vkey", audit::format_verifier_key(vkey)},
                                {"origin", origin},
                                {"size", checkpoint->size},
                                {"root", base64(checkpoint->root)},
                                {"checkpoint", note->body}};
    if (auto r = pki::write_file_atomic(state_path, j.dump(2) + "\n", 0600, pki::WriteMode::kReplace); !r) {
      return failed("cannot write the state file: " + r.error().message);
    }
  }
  std::printf("verified\n");
  return 0;
}

int verify_export(const std::string& file, const std::string& checkpoint_file, const std::string& key_arg,
                  const std::string& origin_arg) {
  auto vkey = read_vkey(key_arg);
  if (!vkey) return failed(vkey.error().message);
  auto note = read_text_file(checkpoint_file);
  if (!note) return failed("cannot read " + checkpoint_file);
  auto checkpoint = audit::open_checkpoint(*note, *vkey, origin_arg.empty() ? vkey->name : origin_arg);
  if (!checkpoint) return failed("the checkpoint does not verify: " + checkpoint.error().message);
  std::ifstream in(file, std::ios::binary);
  if (!in) return failed("cannot read " + file);
  RootBuilder builder;
  std::string line;
  std::uint64_t line_no = 0;
  while (builder.size() < checkpoint->size && std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto leaf = export_leaf(line, builder.size());
    if (!leaf) return failed(file + ":" + std::to_string(line_no) + ": " + leaf.error().message);
    builder.add_leaf_hash(audit::leaf_hash(*leaf));
  }
  if (builder.size() < checkpoint->size) {
    return failed("the export holds " + std::to_string(builder.size()) + " entries; the checkpoint covers " +
                  std::to_string(checkpoint->size));
  }
  if (builder.root() != checkpoint->root) {
    return failed("the first " + std::to_string(checkpoint->size) + " exported entries hash to root " +
                  base64(builder.root()) + ", not the signed " + base64(checkpoint->root) +
                  ": the export or the log was altered");
  }
  std::printf("checkpoint %s size %llu: signature verified; the export's first %llu entries hash to its root\nverified\n",
              checkpoint->origin.c_str(), static_cast<unsigned long long>(checkpoint->size),
              static_cast<unsigned long long>(checkpoint->size));
  return 0;
}

std::optional<std::uint64_t> parse_index(std::string_view s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  return std::stoull(std::string(s));
}

}  // namespace

int audit_command(int argc, char** argv, int from) {
  if (from >= argc || std::strcmp(argv[from], "--help") == 0 || std::strcmp(argv[from], "-h") == 0) {
    std::fputs(kAuditHelp, from >= argc ? stderr : stdout);
    return from >= argc ? 2 : 0;
  }
  const std::string cmd = argv[from++];
  Common c;
  std::vector<std::string> positional;
  std::vector<std::uint64_t> indexes;
  std::string state, key, origin, checkpoint, key_pass_file;
  bool full = false;
  for (int i = from; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool v = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      std::fputs(kAuditHelp, stdout);
      return 0;
    }
    if (a == "--data" && v) c.data = argv[++i];
    else if (a == "--server" && v) c.call.server = argv[++i];
    else if (a == "--cacert" && v) c.call.cacert = argv[++i];
    else if (a == "--auth" && v) c.auth_id = argv[++i];
    else if (a == "--secret-file" && v) c.secret_file = argv[++i];
    else if (a == "--client-cert" && v) c.call.client_certificate = argv[++i];
    else if (a == "--client-key" && v) c.call.client_key = argv[++i];
    else if (a == "--client-key-pass-file" && v) key_pass_file = argv[++i];
    else if (a == "--state" && v) state = argv[++i];
    else if (a == "--key" && v) key = argv[++i];
    else if (a == "--origin" && v) origin = argv[++i];
    else if (a == "--checkpoint" && v) checkpoint = argv[++i];
    else if (a == "--full") full = true;
    else if (a == "--index" && v) {
      auto n = parse_index(argv[++i]);
      if (!n) return usage_error(std::string("--index must be an entry number, not ") + argv[i]);
      indexes.push_back(*n);
    } else if (a.starts_with("--")) {
      return usage_error("unknown or incomplete option " + std::string(a));
    } else {
      positional.emplace_back(a);
    }
  }
  if (cmd == "verify") {
    if (!positional.empty()) return usage_error("verify takes no file; did you mean verify-export?");
    if (!checkpoint.empty()) return usage_error("--checkpoint belongs to verify-export");
    if (c.call.client_certificate.empty() != c.call.client_key.empty()) {
      return usage_error("--client-cert and --client-key go together");
    }
    return verify(c, state, indexes, full, key, origin, key_pass_file);
  }
  if (cmd == "verify-export") {
    if (positional.size() != 1) return usage_error("give exactly one export file");
    if (checkpoint.empty() || key.empty()) return usage_error("verify-export needs --checkpoint FILE and --key VKEY");
    return verify_export(positional[0], checkpoint, key, origin);
  }
  return usage_error("unknown command " + cmd);
}

}  // namespace idra::cli
