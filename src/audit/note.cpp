// note.cpp: C2SP signed notes with Ed25519, verifier/signer keys and
// tlog checkpoints; plus the client-side verifier helpers.
//
// The rules follow c2sp.org/signed-note and golang.org/x/mod/sumdb/note
// (the reference implementation): where the spec says SHOULD reject, we do.
// base64 is stricter than Go's (only canonical padding and zero trailing
// bits), which rejects no note a conforming signer writes.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014 then space
constexpr unsigned char kEd25519 = 0x01;
constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";

// decode_rune decodes the UTF-8 sequence at |s[i]| (valid UTF-8 assumed)
// and advances |i|.
std::uint32_t decode_rune(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  std::uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

// is_unicode_space is Go's unicode.IsSpace: the White_Space property.
bool is_unicode_space(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::optional<std::uint32_t> parse_hex32(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return std::nullopt;
    value = (value << 4) | static_cast<std::uint32_t>(d);
  }
  return value;
}

std::string hex32(std::uint32_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[value & 0xF];
    value >>= 4;
  }
  return out;
}

// split3 splits "name+id+key" at its first two '+'; the base64 key may
// itself contain '+' (as in Go's note.NewVerifier).
std::optional<std::array<std::string_view, 3>> split3(std::string_view text) {
  const auto p1 = text.find('+');
  if (p1 == std::string_view::npos) return std::nullopt;
  const auto p2 = text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return std::nullopt;
  return std::array<std::string_view, 3>{text.substr(0, p1), text.substr(p1 + 1, p2 - p1 - 1),
                                         text.substr(p2 + 1)};
}

// check_note_chars: valid UTF-8 and no control character but '\n'.
bool check_note_chars(std::string_view text) {
  if (!util::valid_utf8(text)) return false;
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\n'; });
}

}  // namespace

std::uint32_t key_id(std::string_view name, std::string_view public_key) {
  std::string input(name);
  input += '\n';
  input += static_cast<char>(kEd25519);
  input += public_key;
  const Hash h = sha256(input);
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(h[0])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(h[1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(h[2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(h[3]));
}

bool valid_key_name(std::string_view name) {
  if (name.empty() || !util::valid_utf8(name)) return false;
  std::size_t i = 0;
  while (i < name.size()) {
    const std::uint32_t cp = decode_rune(name, i);
    if (cp == '+' || is_unicode_space(cp)) return false;
  }
  return true;
}

Result<VerifierKey> parse_verifier_key(std::string_view text) {
  auto parts = split3(text);
  if (!parts) return make_error("verifier key: expected name+keyid+key");
  auto [name, id_hex, key64] = *parts;
  if (!valid_key_name(name)) return make_error("verifier key: invalid key name");
  auto id = parse_hex32(id_hex);
  if (!id) return make_error("verifier key: key id is not 8 hex digits");
  auto key = util::unbase64(key64);
  if (!key || key->empty()) return make_error("verifier key: key is not base64");
  if (static_cast<unsigned char>((*key)[0]) != kEd25519) {
    return make_error("verifier key: unknown signature algorithm");
  }
  if (key->size() != 1 + crypto_sign_PUBLICKEYBYTES) {
    return make_error("verifier key: Ed25519 key is not 32 bytes");
  }
  VerifierKey out{std::string(name), *id, key->substr(1)};
  if (key_id(out.name, out.public_key) != out.id) {
    return make_error("verifier key: key id does not match name and key");
  }
  return out;
}

std::string format_verifier_key(const VerifierKey& key) {
  std::string raw(1, static_cast<char>(kEd25519));
  raw += key.public_key;
  return key.name + "+" + hex32(key.id) + "+" + util::base64(raw);
}

// ---------------------------------------------------------------------------
// SignerKey

Result<SignerKey> SignerKey::parse(std::string_view text) {
  if (!text.starts_with(kPrivatePrefix)) return make_error("signer key: missing PRIVATE+KEY+");
  auto parts = split3(text.substr(kPrivatePrefix.size()));
  if (!parts) return make_error("signer key: expected PRIVATE+KEY+name+keyid+key");
  auto [name, id_hex, key64] = *parts;
  if (!valid_key_name(name)) return make_error("signer key: invalid key name");
  auto id = parse_hex32(id_hex);
  if (!id) return make_error("signer key: key id is not 8 hex digits");
  auto raw = util::unbase64(key64);
  const bool shaped = raw && raw->size() == 1 + crypto_sign_SEEDBYTES &&
                      static_cast<unsigned char>((*raw)[0]) == kEd25519;
  if (!shaped) {
    if (raw) sodium_memzero(raw->data(), raw->size());
    return make_error("signer key: not an Ed25519 seed");
  }
  util::ensure_sodium();
  SignerKey key;
  key.name_ = std::string(name);
  std::memcpy(key.seed_, raw->data() + 1, sizeof key.seed_);
  sodium_memzero(raw->data(), raw->size());
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.secret_, key.seed_);
  key.id_ = key_id(key.name_, std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  if (key.id_ != *id) return make_error("signer key: key id does not match name and key");
  return key;
}

Result<SignerKey> SignerKey::generate(std::string_view name) {
  if (!valid_key_name(name)) return make_error("signer key: invalid key name");
  util::ensure_sodium();
  SignerKey key;
  key.name_ = std::string(name);
  randombytes_buf(key.seed_, sizeof key.seed_);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.secret_, key.seed_);
  key.id_ = key_id(key.name_, std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  return key;
}

SignerKey::SignerKey(SignerKey&& other) noexcept : name_(std::move(other.name_)), id_(other.id_) {
  std::memcpy(seed_, other.seed_, sizeof seed_);
  std::memcpy(secret_, other.secret_, sizeof secret_);
  other.wipe();
}

SignerKey& SignerKey::operator=(SignerKey&& other) noexcept {
  if (this != &other) {
    name_ = std::move(other.name_);
    id_ = other.id_;
    std::memcpy(seed_, other.seed_, sizeof seed_);
    std::memcpy(secret_, other.secret_, sizeof secret_);
    other.wipe();
  }
  return *this;
}

SignerKey::~SignerKey() { wipe(); }

void SignerKey::wipe() noexcept {
  sodium_memzero(seed_, sizeof seed_);
  sodium_memzero(secret_, sizeof secret_);
}

VerifierKey SignerKey::verifier() const {
  // libsodium's secret key is seed || public key.
  return VerifierKey{name_, id_,
                     std::string(reinterpret_cast<const char*>(secret_) + crypto_sign_SEEDBYTES,
                                 crypto_sign_PUBLICKEYBYTES)};
}

std::string SignerKey::to_string() const {
  std::string raw(1, static_cast<char>(kEd25519));
  raw.append(reinterpret_cast<const char*>(seed_), sizeof seed_);
  std::string out =
      std::string(kPrivatePrefix) + name_ + "+" + hex32(id_) + "+" + util::base64(raw);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string SignerKey::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_);
  return sig;
}

// ---------------------------------------------------------------------------
// Notes

Result<Note> parse_note(std::string_view note) {
  if (note.size() > kMaxNoteBytes) return make_error("note: too large");
  if (!check_note_chars(note)) {
    return make_error("note: not UTF-8, or has control characters other than newline");
  }
  if (note.empty() || note.back() != '\n') return make_error("note: does not end with a newline");
  const auto blank = note.rfind("\n\n");
  if (blank == std::string_view::npos) return make_error("note: no blank line before signatures");
  Note out;
  out.text = std::string(note.substr(0, blank + 1));
  std::string_view sigs = note.substr(blank + 2);
  if (sigs.empty()) return make_error("note: no signature lines");
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');  // found: |note| ends with '\n'
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!line.starts_with(kEmDashSpace)) return make_error("note: malformed signature line");
    line.remove_prefix(kEmDashSpace.size());
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return make_error("note: malformed signature line");
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 = line.substr(space + 1);
    if (!valid_key_name(name)) return make_error("note: invalid key name in a signature");
    auto raw = util::unbase64(b64);
    if (!raw || raw->size() < 5) return make_error("note: malformed signature");
    if (out.signatures.size() == kMaxNoteSignatures) return make_error("note: too many signatures");
    NoteSignature sig;
    sig.name = std::string(name);
    sig.id = (static_cast<std::uint32_t>(static_cast<unsigned char>((*raw)[0])) << 24) |
             (static_cast<std::uint32_t>(static_cast<unsigned char>((*raw)[1])) << 16) |
             (static_cast<std::uint32_t>(static_cast<unsigned char>((*raw)[2])) << 8) |
             static_cast<std::uint32_t>(static_cast<unsigned char>((*raw)[3]));
    sig.signature = raw->substr(4);
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

Result<Note> verify_note(std::string_view note, std::span<const VerifierKey> keys) {
  auto parsed = parse_note(note);
  if (!parsed) return parsed.error();
  util::ensure_sodium();
  Note out;
  out.text = std::move(parsed->text);
  for (NoteSignature& sig : parsed->signatures) {
    auto key = std::find_if(keys.begin(), keys.end(), [&](const VerifierKey& k) {
      return k.name == sig.name && k.id == sig.id;
    });
    if (key == keys.end()) continue;  // unknown keys are ignored (spec)
    const bool seen =
        std::any_of(out.signatures.begin(), out.signatures.end(),
                    [&](const NoteSignature& s) { return s.name == sig.name && s.id == sig.id; });
    if (seen) continue;  // one verdict per key, as Go's note.Open
    const bool good = sig.signature.size() == crypto_sign_BYTES &&
                      key->public_key.size() == crypto_sign_PUBLICKEYBYTES &&
                      crypto_sign_verify_detached(
                          reinterpret_cast<const unsigned char*>(sig.signature.data()),
                          reinterpret_cast<const unsigned char*>(out.text.data()), out.text.size(),
                          reinterpret_cast<const unsigned char*>(key->public_key.data())) == 0;
    if (!good) return make_error("note: signature by " + sig.name + " does not verify");
    out.signatures.push_back(std::move(sig));
  }
  if (out.signatures.empty()) return make_error("note: no signature by a known key");
  return out;
}

Result<std::string> sign_note(std::string_view text, const SignerKey& key) {
  if (text.empty() || text.back() != '\n') return make_error("note text must end with a newline");
  if (!check_note_chars(text)) {
    return make_error("note text is not UTF-8, or has control characters other than newline");
  }
  util::ensure_sodium();
  std::string raw;
  const std::uint32_t id = key.id();
  raw += static_cast<char>(id >> 24);
  raw += static_cast<char>((id >> 16) & 0xFF);
  raw += static_cast<char>((id >> 8) & 0xFF);
  raw += static_cast<char>(id & 0xFF);
  raw += key.sign(text);
  std::string out(text);
  out += '\n';
  out += kEmDashSpace;
  out += key.name();
  out += ' ';
  out += util::base64(raw);
  out += '\n';
  return out;
}

// ---------------------------------------------------------------------------
// Checkpoints

std::string format_checkpoint(const Checkpoint& c) {
  auto bad_line = [](std::string_view line) {
    return line.empty() || !check_note_chars(line) || line.find('\n') != std::string_view::npos;
  };
  if (bad_line(c.origin)) throw std::invalid_argument("checkpoint: bad origin");
  if (c.root.size() != kHashBytes) throw std::invalid_argument("checkpoint: root is not 32 bytes");
  std::string out = c.origin + "\n" + std::to_string(c.size) + "\n" + util::base64(c.root) + "\n";
  for (const std::string& line : c.extensions) {
    if (bad_line(line)) throw std::invalid_argument("checkpoint: bad extension line");
    out += line;
    out += '\n';
  }
  return out;
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  if (!check_note_chars(text)) {
    return make_error("checkpoint: not UTF-8, or has control characters other than newline");
  }
  if (text.empty() || text.back() != '\n') return make_error("checkpoint: missing final newline");
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return make_error("checkpoint: fewer than three lines");
  for (std::string_view line : lines) {
    if (line.empty()) return make_error("checkpoint: empty line");
  }
  Checkpoint out;
  out.origin = std::string(lines[0]);
  auto size = util::parse_u64(lines[1]);
  if (!size) return make_error("checkpoint: tree size is not a canonical decimal");
  out.size = *size;
  auto root = util::unbase64(lines[2]);
  if (!root || root->size() != kHashBytes) {
    return make_error("checkpoint: root hash is not base64 of 32 bytes");
  }
  out.root = std::move(*root);
  for (std::size_t i = 3; i < lines.size(); ++i) out.extensions.emplace_back(lines[i]);
  return out;
}

// ---------------------------------------------------------------------------
// Verifier

Result<Checkpoint> open_checkpoint(std::string_view note, const VerifierKey& key,
                                   std::string_view origin) {
  auto verified = verify_note(note, std::span<const VerifierKey>(&key, 1));
  if (!verified) return verified.error();
  auto checkpoint = parse_checkpoint(verified->text);
  if (!checkpoint) return checkpoint.error();
  if (checkpoint->origin != origin) {
    return make_error("checkpoint: origin \"" + checkpoint->origin + "\" is not \"" +
                      std::string(origin) + "\"");
  }
  return checkpoint;
}

Result<void> check_consistency(std::uint64_t old_size, std::string_view old_root,
                               const Checkpoint& newer, std::span<const Hash> proof) {
  if (old_size > newer.size) {
    return make_error("consistency: the newer checkpoint (size " + std::to_string(newer.size) +
                      ") is smaller than the old tree (size " + std::to_string(old_size) + ")");
  }
  if (old_size == 0) {
    if (old_root != empty_root()) return make_error("consistency: old root is not the empty root");
    if (!proof.empty()) return make_error("consistency: proof from the empty tree must be empty");
    return {};
  }
  return verify_consistency(old_size, newer.size, old_root, newer.root, proof);
}

Result<void> check_inclusion(std::string_view leaf, std::uint64_t index,
                             const Checkpoint& checkpoint, std::span<const Hash> proof) {
  return verify_inclusion(leaf_hash(leaf), index, checkpoint.size, proof, checkpoint.root);
}

}  // namespace idra::audit
