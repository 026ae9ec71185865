// Signed notes, keys and checkpoints: the published vectors, byte for byte,
// and every rejection rule.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "helpers.hpp"

namespace idra::audit {
namespace {

nlohmann::json vectors() {
  return nlohmann::json::parse(testing::read_file(std::filesystem::path(IDRA_TEST_VECTORS) /
                                                  "signed-note" / "vectors.json"));
}

TEST(NoteVectors, VerifierKeysAndNotes) {
  const auto v = vectors();
  ASSERT_EQ(v.at("valid").size(), 3u);
  for (const auto& c : v.at("valid")) {
    const std::string vkey_text = c.at("vkey").get<std::string>();
    auto vkey = parse_verifier_key(vkey_text);
    ASSERT_TRUE(vkey.ok()) << vkey_text << ": " << vkey.error().message;
    EXPECT_EQ(format_verifier_key(*vkey), vkey_text);
    const std::string note = c.at("note").get<std::string>();
    auto verified = verify_note(note, std::span<const VerifierKey>(&*vkey, 1));
    ASSERT_TRUE(verified.ok()) << verified.error().message;
    EXPECT_EQ(verified->signatures.size(), 1u);
    EXPECT_EQ(verified->signatures[0].name, vkey->name);
    EXPECT_EQ(note.substr(0, verified->text.size()), verified->text);
    // Flip every byte of the text: the signature must stop verifying.
    for (std::size_t i = 0; i < verified->text.size(); ++i) {
      std::string changed = note;
      changed[i] = changed[i] == 'x' ? 'y' : 'x';
      if (changed[i] == note[i]) continue;
      EXPECT_FALSE(verify_note(changed, std::span<const VerifierKey>(&*vkey, 1)).ok()) << i;
    }
    if (c.contains("skey")) {
      auto skey = SignerKey::parse(c.at("skey").get<std::string>());
      ASSERT_TRUE(skey.ok()) << skey.error().message;
      EXPECT_EQ(skey->to_string(), c.at("skey").get<std::string>());
      EXPECT_EQ(skey->verifier(), *vkey);
      auto signed_note = sign_note(verified->text, *skey);
      ASSERT_TRUE(signed_note.ok());
      EXPECT_EQ(*signed_note, note);  // Ed25519 is deterministic
    }
  }
}

TEST(NoteVectors, InvalidVerifierKeys) {
  const auto v = vectors();  // not a temporary: the loop holds references into it
  for (const auto& c : v.at("invalid_vkeys")) {
    EXPECT_FALSE(parse_verifier_key(c.at("vkey").get<std::string>()).ok())
        << c.at("why").get<std::string>();
  }
}

TEST(NoteVectors, RecordHash) {
  const auto c = vectors().at("record_hash");
  EXPECT_EQ(testing::b64(leaf_hash(c.at("data").get<std::string>())),
            c.at("leaf_hash_base64").get<std::string>());
}

class Notes : public ::testing::Test {
 protected:
  SignerKey a = std::move(SignerKey::generate("log.example/a")).value();
  SignerKey b = std::move(SignerKey::generate("log.example/b")).value();
};

TEST_F(Notes, SignerKeyRoundTrip) {
  auto again = SignerKey::parse(a.to_string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->verifier(), a.verifier());
  EXPECT_EQ(parse_verifier_key(format_verifier_key(a.verifier()))->public_key,
            a.verifier().public_key);
  EXPECT_FALSE(SignerKey::parse(a.to_string().substr(12)).ok());
  EXPECT_FALSE(SignerKey::generate("bad name").ok());
  EXPECT_FALSE(SignerKey::generate("bad+name").ok());
  EXPECT_FALSE(SignerKey::generate("").ok());
  EXPECT_FALSE(SignerKey::generate("bad\xE3\x80\x80name").ok());  // U+3000
  std::string wrong_id = a.to_string();
  const auto plus = wrong_id.rfind('+');
  wrong_id[plus - 1] = wrong_id[plus - 1] == '0' ? '1' : '0';
  EXPECT_FALSE(SignerKey::parse(wrong_id).ok());
}

TEST_F(Notes, KnownUnknownAndBadSignatures) {
  const std::string text = "hello\n\nworld\n";
  const std::string by_a = *sign_note(text, a);
  const std::string by_b = *sign_note(text, b);
  const std::string line_b = by_b.substr(text.size() + 1);
  const std::string both = by_a + line_b;
  const VerifierKey va = a.verifier();
  const VerifierKey vb = b.verifier();

  auto ok = verify_note(both, std::span<const VerifierKey>(&va, 1));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->text, text);
  ASSERT_EQ(ok->signatures.size(), 1u);
  EXPECT_EQ(ok->signatures[0].name, "log.example/a");
  const VerifierKey both_keys[] = {va, vb};
  EXPECT_EQ(verify_note(both, both_keys)->signatures.size(), 2u);
  // Only unknown keys: rejected.
  EXPECT_FALSE(verify_note(by_b, std::span<const VerifierKey>(&va, 1)).ok());
  // Same name, other id, or same id, other name: unknown, ignored.
  VerifierKey other_id = va;
  other_id.id ^= 1;
  EXPECT_FALSE(verify_note(by_a, std::span<const VerifierKey>(&other_id, 1)).ok());
  VerifierKey other_name = va;
  other_name.name = "log.example/c";
  EXPECT_FALSE(verify_note(by_a, std::span<const VerifierKey>(&other_name, 1)).ok());
  // A known key whose signature fails rejects the note, even with a good one.
  VerifierKey impostor = vb;
  impostor.public_key = va.public_key;
  const VerifierKey keys2[] = {va, impostor};
  EXPECT_FALSE(verify_note(both, keys2).ok());
  // Signing a text with another text's signature.
  std::string swapped = "hellO\n\nworld\n" + by_a.substr(text.size());
  EXPECT_FALSE(verify_note(swapped, std::span<const VerifierKey>(&va, 1)).ok());
  // Duplicate lines of the same key are fine.
  EXPECT_TRUE(verify_note(both + by_a.substr(text.size() + 1), both_keys).ok());
}

TEST_F(Notes, MalformedNotes) {
  const std::string text = "hello\n";
  const std::string good = *sign_note(text, a);
  const VerifierKey va = a.verifier();
  auto rejects = [&](const std::string& note) {
    EXPECT_FALSE(parse_note(note).ok()) << note;
    EXPECT_FALSE(verify_note(note, std::span<const VerifierKey>(&va, 1)).ok()) << note;
  };
  ASSERT_TRUE(verify_note(good, std::span<const VerifierKey>(&va, 1)).ok());
  const std::string line = good.substr(text.size() + 1);
  rejects("");
  rejects(good.substr(0, good.size() - 1));  // no final newline
  rejects(text + line);                      // no blank line
  rejects(text + "\n");                      // no signatures
  rejects(text + "\n" + line.substr(4));     // no em dash
  rejects(text + "\n- " + line.substr(4));   // ASCII dash
  rejects(text + "\n" + line + "\n");        // blank line after the signatures
  rejects(text + "\n" + line + "not a signature\n");
  rejects("hel\rlo\n\n" + line);    // control character
  rejects("hel\xFFlo\n\n" + line);  // not UTF-8
  rejects(text + "\n\xE2\x80\x94 bad+name " + line.substr(line.rfind(' ') + 1));
  rejects(text + "\n\xE2\x80\x94 log.example/a  " + line.substr(line.rfind(' ') + 1));
  rejects(text + "\n\xE2\x80\x94 log.example/a AAAA\n");  // only 3 bytes
  rejects(text + "\n\xE2\x80\x94 log.example/a " + line.substr(line.rfind(' ') + 2));  // bad b64
  std::string many = good;
  for (int i = 0; i < 101; ++i) many += line;
  rejects(many);
  // Up to 100 signatures are accepted (the spec asks for at least 16).
  std::string hundred = good;
  for (int i = 0; i < 99; ++i) hundred += line;
  EXPECT_TRUE(verify_note(hundred, std::span<const VerifierKey>(&va, 1)).ok());
  // Texts that cannot be signed.
  EXPECT_FALSE(sign_note("", a).ok());
  EXPECT_FALSE(sign_note("no newline", a).ok());
  EXPECT_FALSE(sign_note("tab\there\n", a).ok());
  // Text with blank lines of its own still splits at the last one.
  auto multi = verify_note(*sign_note("a\n\nb\n\n", a), std::span<const VerifierKey>(&va, 1));
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->text, "a\n\nb\n\n");
}

TEST(CheckpointText, FormatAndParse) {
  Checkpoint c{"example.com/behind-the-sofa",
               20852163,
               testing::unb64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
               {}};
  const std::string text = format_checkpoint(c);
  EXPECT_EQ(
      text,
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  EXPECT_EQ(*parse_checkpoint(text), c);
  c.extensions = {"ext one", "ext two"};
  EXPECT_EQ(*parse_checkpoint(format_checkpoint(c)), c);
  const char* bad[] = {
      "",
      "origin\n5\n",
      "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
      "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "origin\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "origin\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "origin\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
      "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
      "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
      "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
      "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\n",
  };
  for (const char* text_bad : bad) EXPECT_FALSE(parse_checkpoint(text_bad).ok()) << text_bad;
  EXPECT_EQ(parse_checkpoint("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")->size, 0u);
  EXPECT_THROW((void)format_checkpoint(Checkpoint{"", 1, empty_root(), {}}), std::invalid_argument);
  EXPECT_THROW((void)format_checkpoint(Checkpoint{"a\nb", 1, empty_root(), {}}),
               std::invalid_argument);
  EXPECT_THROW((void)format_checkpoint(Checkpoint{"a", 1, "short", {}}), std::invalid_argument);
}

TEST(CheckpointText, OpenChecksKeyAndOrigin) {
  auto key = std::move(SignerKey::generate("log.example")).value();
  auto other = std::move(SignerKey::generate("log.example")).value();
  const Checkpoint c{"log.example", 3, leaf_hash("x"), {}};
  const std::string note = *sign_note(format_checkpoint(c), key);
  EXPECT_EQ(*open_checkpoint(note, key.verifier(), "log.example"), c);
  EXPECT_FALSE(open_checkpoint(note, key.verifier(), "log.example/other").ok());
  EXPECT_FALSE(open_checkpoint(note, other.verifier(), "log.example").ok());
  const std::string not_checkpoint = *sign_note("just text\n", key);
  EXPECT_FALSE(open_checkpoint(not_checkpoint, key.verifier(), "just text").ok());
}

}  // namespace
}  // namespace idra::audit
