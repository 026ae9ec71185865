// audit_note: everything the audit module parses from bytes it did not
// write itself: signed notes, verifier and signer keys, checkpoint texts
// and leaf records. Every parser is strict, so each accepted input must
// print back to exactly the same bytes; any mismatch aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace {

namespace audit = idra::audit;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "audit_note: %s\n  input: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

// format_note prints a parsed note the way parse_note reads it.
std::string format_note(const audit::Note& note) {
  std::string out = note.text + "\n";
  for (const audit::NoteSignature& sig : note.signatures) {
    std::string raw;
    raw += static_cast<char>(sig.id >> 24);
    raw += static_cast<char>((sig.id >> 16) & 0xFF);
    raw += static_cast<char>((sig.id >> 8) & 0xFF);
    raw += static_cast<char>(sig.id & 0xFF);
    raw += sig.signature;
    out += "\xE2\x80\x94 " + sig.name + " " + audit::util::base64(raw) + "\n";
  }
  return out;
}

const audit::VerifierKey& known_key() {
  // The C2SP signed-note example key (tests/vectors/signed-note).
  static const audit::VerifierKey key =
      audit::parse_verifier_key(
          "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
          .value();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto note = audit::parse_note(input); note.ok()) {
    if (note->signatures.empty() || note->text.empty() || note->text.back() != '\n') {
      fail("parse_note accepted a note without text or signatures", input);
    }
    if (format_note(*note) != input) fail("parse_note does not round-trip", input);
  } else if (note.error().message.empty()) {
    fail("parse_note error without a message", input);
  }

  if (auto verified = audit::verify_note(input, std::span(&known_key(), 1)); verified.ok()) {
    if (!input.starts_with(verified->text)) fail("verified text is not the note's prefix", input);
    for (const auto& sig : verified->signatures) {
      if (sig.name != known_key().name || sig.id != known_key().id) {
        fail("verify_note kept a signature of an unknown key", input);
      }
    }
  }

  if (auto checkpoint = audit::parse_checkpoint(input); checkpoint.ok()) {
    if (audit::format_checkpoint(*checkpoint) != input) {
      fail("parse_checkpoint does not round-trip", input);
    }
  }

  if (auto vkey = audit::parse_verifier_key(input); vkey.ok()) {
    auto again = audit::parse_verifier_key(audit::format_verifier_key(*vkey));
    if (!again.ok() || !(*again == *vkey)) fail("verifier key does not round-trip", input);
  }

  if (auto skey = audit::SignerKey::parse(input); skey.ok()) {
    auto again = audit::SignerKey::parse(skey->to_string());
    if (!again.ok() || !(again->verifier() == skey->verifier())) {
      fail("signer key does not round-trip", input);
    }
  }

  if (auto record = audit::decode_leaf(input); record.ok()) {
    if (audit::encode_leaf(*record) != input) fail("decode_leaf does not round-trip", input);
  }
  return 0;
}
