// Compressed GS1 Digital Link URIs: the vectors of GS1's reference
// implementation (tests/vectors/gs1/compressed.json, made by
// make-compressed.mjs with digital-link.js 1.4.3), round trips over links
// generated from the dictionary, and broken input.
#include "ids/gs1_compression.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "idra/gs1.hpp"
#include "idra/text.hpp"
#include "unit/ids/test_helpers.hpp"

namespace idra::ids::gs1 {
namespace {

using nlohmann::json;
using testing::alpha_pair;
using testing::has_linter;
using testing::read_vector;
using testing::sample_value;
using testing::with_mod10;

const json& vectors() {
  static const json j = json::parse(read_vector("gs1/compressed.json"));
  return j;
}

std::string error_of(const Result<DigitalLink>& r) { return r.ok() ? "(ok)" : r.error().message; }
std::string error_of(const Result<std::string>& r) { return r.ok() ? "(ok)" : r.error().message; }

std::vector<AiValue> sorted(std::vector<AiValue> v) {
  std::sort(v.begin(), v.end(), [](const AiValue& a, const AiValue& b) { return a.ai < b.ai; });
  return v;
}

// same_link compares what compression must keep: stem, key, qualifiers in
// order, data attributes and other parameters as sets (compression sorts).
void expect_same_link(const DigitalLink& want, const DigitalLink& got, const std::string& what) {
  EXPECT_EQ(got.stem, want.stem) << what;
  EXPECT_EQ(got.primary_key, want.primary_key) << what;
  EXPECT_EQ(got.qualifiers, want.qualifiers) << what;
  EXPECT_EQ(sorted(got.attributes), sorted(want.attributes)) << what;
  // Compression decodes the values of other parameters; decompression
  // encodes them again, perhaps differently ("a;b" comes back "a%3Bb").
  const auto normalized = [](const std::vector<std::string>& params) {
    std::vector<std::string> out;
    for (const std::string& p : params) {
      const std::size_t eq = p.find('=');
      Result<std::string> v = text::percent_decode(p.substr(eq + 1), false, 0);
      out.push_back(eq == std::string::npos || !v ? p : p.substr(0, eq + 1) + *v);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(normalized(got.other_query_params), normalized(want.other_query_params)) << what;
}

// --- The reference's tables -------------------------------------------------

TEST(Gs1Compression, BitCountsAreTheReferences) {
  const json& vb = vectors().at("value_bits");
  ASSERT_GT(vb.size(), 100U);
  for (std::size_t n = 0; n < vb.size(); ++n) {
    EXPECT_EQ(compression::value_bits(n), vb[n].get<std::size_t>()) << n << " digits";
  }
  const json& lb = vectors().at("length_bits");
  ASSERT_GT(lb.size(), 100U);
  for (std::size_t m = 1; m < lb.size(); ++m) {
    EXPECT_EQ(compression::length_bits(m), lb[m].get<std::size_t>()) << "at most " << m;
  }
}

TEST(Gs1Compression, FormatsDerivedFromTheDictionaryAreTheReferences) {
  std::size_t compared = 0;
  for (const auto& [ai, format] : vectors().at("formats").items()) {
    const AiEntry* e = dictionary().find(ai);
    ASSERT_NE(e, nullptr) << "the reference knows AI (" << ai << "), the dictionary does not";
    const std::optional<std::string> ours = compression::value_format(ai);
    ASSERT_TRUE(ours.has_value()) << ai;
    // (8013) GMN: the reference has X..30, the dictionary X..25; both take 5
    // length bits, so the bits are the same.
    if (ai == "8013") {
      EXPECT_EQ(*ours, "X..25");
      EXPECT_EQ(compression::length_bits(25), compression::length_bits(30));
      continue;
    }
    EXPECT_EQ(*ours, format.get<std::string>()) << "AI (" << ai << ")";
    ++compared;
  }
  EXPECT_GT(compared, 470U);
  // AIs newer than the reference still have a format.
  for (const AiEntry& e : dictionary().entries()) {
    EXPECT_TRUE(compression::value_format(e.ai).has_value()) << "AI (" << e.ai << ")";
  }
  EXPECT_EQ(compression::value_format("8030"), "X..90");
  EXPECT_EQ(compression::value_format("99999"), std::nullopt);
}

// --- The reference's links --------------------------------------------------

TEST(Gs1Compression, CompressesBitForBitAsTheReference) {
  std::set<std::string> keys;
  std::size_t n = 0;
  for (const json& v : vectors().at("links")) {
    const std::string uri = v.at("uri");
    SCOPED_TRACE(uri);
    Result<DigitalLink> dl = parse_digital_link(uri);
    ASSERT_TRUE(dl.ok()) << error_of(dl);
    CompressionOptions options;
    options.use_optimisations = v.at("use_optimisations");
    options.compress_other_key_value_pairs = v.at("compress_other_key_value_pairs");
    Result<std::string> c = compress_digital_link(*dl, options);
    ASSERT_TRUE(c.ok()) << error_of(c);
    EXPECT_EQ(*c, v.at("compressed").get<std::string>());
    keys.insert(dl->primary_key.ai);
    ++n;
  }
  EXPECT_EQ(n, 1500U);
  // Every key the reference can compress: (253) and (8003) it cannot (see
  // the generator), (417), (8013) and newer keys it does not know.
  EXPECT_EQ(keys, (std::set<std::string>{"00", "01", "255", "401", "402", "414", "8004", "8006",
                                         "8010", "8017", "8018"}));
}

TEST(Gs1Compression, DecompressesTheReferencesLinks) {
  for (const json& v : vectors().at("links")) {
    const std::string compressed = v.at("compressed");
    SCOPED_TRACE(compressed);
    Result<DigitalLink> dl = decompress_digital_link(compressed);
    ASSERT_TRUE(dl.ok()) << error_of(dl);
    // The reference printed the same URI text.
    EXPECT_EQ(digital_link_uri(*dl), v.at("decompressed").get<std::string>());
    Result<DigitalLink> original = parse_digital_link(v.at("uri").get<std::string>());
    ASSERT_TRUE(original.ok());
    EXPECT_EQ(dl->primary_key, original->primary_key);
    EXPECT_EQ(dl->qualifiers, original->qualifiers);
    EXPECT_EQ(dl->attributes, original->attributes);  // same order too
    EXPECT_EQ(dl->other_query_params, original->other_query_params);
    EXPECT_EQ(dl->stem, original->stem);
    EXPECT_TRUE(has_compressed_digital_link_shape(compressed));
  }
}

TEST(Gs1Compression, KeepsTheLeadingZerosTheReferenceDrops) {
  ASSERT_FALSE(vectors().at("leading_zeros").empty());
  for (const json& v : vectors().at("leading_zeros")) {
    const std::string uri = v.at("uri");
    SCOPED_TRACE(uri);
    Result<DigitalLink> dl = parse_digital_link(uri);
    ASSERT_TRUE(dl.ok()) << error_of(dl);
    Result<std::string> c = compress_digital_link(*dl);
    ASSERT_TRUE(c.ok()) << error_of(c);
    EXPECT_EQ(*c, v.at("compressed").get<std::string>());  // same bits as the reference
    Result<DigitalLink> back = decompress_digital_link(*c);
    ASSERT_TRUE(back.ok()) << error_of(back);
    EXPECT_EQ(digital_link_uri(*back), uri);
    EXPECT_NE(v.at("reference_decompressed").get<std::string>(), uri);  // the reference loses them
  }
}

// --- Bits written by hand -----------------------------------------------------

// gtin_link builds the compressed form of /01/<gtin> from the bit layout of
// the standard, independently of the implementation: AI digits 0 and 1 as
// 4-bit nibbles, then the 14 digits as one 47-bit number, zero-padded to a
// multiple of 6 bits, in base64url.
std::string gtin_link(const std::string& gtin14) {
  std::string bits = "00000001";
  unsigned long long v = std::stoull(gtin14);
  std::string value;
  for (int i = 0; i < 47; ++i) {
    value.insert(value.begin(), (v & 1ULL) != 0 ? '1' : '0');
    v >>= 1;
  }
  bits += value;
  while (bits.size() % 6 != 0) bits += '0';
  static const std::string b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (std::size_t i = 0; i < bits.size(); i += 6)
    out += b64[std::stoul(bits.substr(i, 6), nullptr, 2)];
  return out;
}

TEST(Gs1Compression, GtinByHandAndAWrongCheckDigit) {
  const std::string gtin = with_mod10("0950600013435");
  Result<DigitalLink> dl = parse_digital_link("https://example.com/01/" + gtin);
  ASSERT_TRUE(dl.ok());
  Result<std::string> c = compress_digital_link(*dl);
  ASSERT_TRUE(c.ok()) << error_of(c);
  EXPECT_EQ(*c, "https://example.com/" + gtin_link(gtin));

  std::string bad = gtin;
  bad.back() = static_cast<char>('0' + (bad.back() - '0' + 1) % 10);
  Result<DigitalLink> r = decompress_digital_link("https://example.com/" + gtin_link(bad));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("(01)"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("check digit"), std::string::npos) << r.error().message;
}

TEST(Gs1Compression, OptimisationCodes) {
  const std::string gtin = with_mod10("0950600013435");
  Result<DigitalLink> dl =
      parse_digital_link("https://example.com/01/" + gtin + "/10/AB12/21/X9?17=250101");
  ASSERT_TRUE(dl.ok());
  CompressionOptions plain;
  plain.use_optimisations = false;
  Result<std::string> on = compress_digital_link(*dl);
  Result<std::string> off = compress_digital_link(*dl, plain);
  ASSERT_TRUE(on.ok() && off.ok());
  // (01)(10)(17)(21) is optimisation 1A: 0001 1010 -> "Gg.." in base64url.
  const std::string seg_on = on->substr(on->rfind('/') + 1);
  const std::string seg_off = off->substr(off->rfind('/') + 1);
  EXPECT_EQ(seg_on.substr(0, 1), "G");   // 000110
  EXPECT_EQ(seg_off.substr(0, 1), "A");  // 000000 (AI 01: 0000 0001)
  EXPECT_LT(seg_on.size(), seg_off.size());
  for (const std::string& c : {*on, *off}) {
    Result<DigitalLink> back = decompress_digital_link(c);
    ASSERT_TRUE(back.ok()) << c << ": " << error_of(back);
    expect_same_link(*dl, *back, c);
  }
}

// --- Round trips over the dictionary -----------------------------------------

// random_value builds a value of |entry| with random lengths and characters
// of each charset (and, for alphanumeric components, of each of the
// encodings the compression picks), fixed up for the linters that constrain
// content; the caller keeps only values the dictionary accepts.
std::string random_value(const AiEntry& entry, std::mt19937& rng) {
  const auto roll = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  static const std::vector<std::string> x_classes = {
      "0123456789", "0123456789abcdef", "0123456789ABCDEF",
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
      "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"};
  std::string out;
  for (const Component& c : entry.components) {
    if (c.optional && roll(0, 2) == 0) break;
    const std::size_t len = c.min_length == c.max_length
                                ? c.min_length
                                : roll(std::max<std::size_t>(c.min_length, 1), c.max_length);
    std::string alphabet;
    switch (c.charset) {
      case CharSet::numeric:
        alphabet = "0123456789";
        break;
      case CharSet::cset82:
        alphabet = x_classes[roll(0, x_classes.size() - 1)];
        break;
      case CharSet::cset39:
        alphabet = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        break;
      case CharSet::cset64:
        alphabet = x_classes[3];
        break;
    }
    std::string v;
    for (std::size_t i = 0; i < len; ++i) v += alphabet[roll(0, alphabet.size() - 1)];
    if (has_linter(c, "zero")) v = "0";
    if (has_linter(c, "yymmd0") || has_linter(c, "yymmdd"))
      v = "2" + std::to_string(roll(0, 9)) + "0" + std::to_string(roll(1, 9)) + "1" +
          std::to_string(roll(0, 9));
    if (has_linter(c, "hhmi"))
      v = "1" + std::to_string(roll(0, 9)) + "3" + std::to_string(roll(0, 9));
    if (has_linter(c, "hh")) v = "0" + std::to_string(roll(0, 9));
    if (has_linter(c, "mi") || has_linter(c, "ss"))
      v = std::to_string(roll(0, 5)) + std::to_string(roll(0, 9));
    if (has_linter(c, "yesno")) v = std::to_string(roll(0, 1));
    if (has_linter(c, "nozeroprefix") && !v.empty() && v[0] == '0') v[0] = '7';
    if (has_linter(c, "pieceoftotal"))
      v = std::string(len / 2 - 1, '0') + "1" + std::string(len / 2 - 1, '0') + "2";
    if ((has_linter(c, "gcppos1") || has_linter(c, "gcppos2")) && c.charset != CharSet::numeric) {
      for (std::size_t i = 0; i < std::min<std::size_t>(v.size(), 6); ++i)
        v[i] = static_cast<char>('1' + i);
    }
    if (has_linter(c, "csum")) v = with_mod10(v.substr(0, v.size() - 1));
    if (has_linter(c, "csumalpha") && v.size() > 2)
      v = v.substr(0, v.size() - 2) + alpha_pair(v.substr(0, v.size() - 2));
    out += v;
  }
  return out;
}

// valid_value returns a value of |ai| the dictionary accepts: random when
// one of a few tries passes, else the helpers' sample.
std::string valid_value(const AiEntry& e, std::mt19937& rng) {
  for (int i = 0; i < 8; ++i) {
    std::string v = random_value(e, rng);
    if (validate_ai_value(e, v).ok()) return v;
  }
  return sample_value(e);
}

std::string encode(const std::string& v) { return text::percent_encode(v); }

TEST(Gs1Compression, RoundTripsGeneratedLinksOfEveryKeyQualifierAndAttribute) {
  std::mt19937 rng(20261201);
  std::vector<const AiEntry*> attributes;
  for (const AiEntry& e : dictionary().entries()) {
    if (e.dl_data_attribute && !e.dl_primary_key) attributes.push_back(&e);
  }
  const std::vector<std::string> stems = {"", "https://id.gs1.org", "https://example.com/a/b",
                                          "http://[2001:db8::1]:8080"};
  const std::vector<std::string> others = {
      "linkType=gs1:pip",  "context=x%26y%3Dz",         "lang=de-CH", "flag", "x.y=1",
      "big=%C3%A9t%C3%A9", "k=" + std::string(130, 'v')};
  std::map<std::string, int> seen;  // AI -> round trips it was part of
  int trips = 0;
  for (const AiEntry& key : dictionary().entries()) {
    if (!key.dl_primary_key) continue;
    for (const auto& alt : key.dl_qualifier_sequences) {
      for (int round = 0; round < 120; ++round) {
        std::string uri = stems[static_cast<std::size_t>(round) % stems.size()];
        const bool path_only = uri.empty();
        uri += "/" + key.ai + "/" + encode(valid_value(key, rng));
        for (const std::string& q : alt) {
          if (rng() % 3 != 0)
            uri += "/" + q + "/" + encode(valid_value(*dictionary().find(q), rng));
        }
        std::vector<std::string> query;
        const std::size_t n_attr = rng() % 5;
        for (std::size_t i = 0; i < n_attr; ++i) {
          const AiEntry* a = attributes[rng() % attributes.size()];
          query.push_back(a->ai + "=" + encode(valid_value(*a, rng)));
        }
        if (rng() % 2 == 0) query.push_back(others[rng() % others.size()]);
        for (std::size_t i = 0; i < query.size(); ++i) uri += (i == 0 ? "?" : "&") + query[i];
        Result<DigitalLink> dl = path_only ? parse_digital_link_path(uri) : parse_digital_link(uri);
        if (!dl) continue;  // a duplicate or excluded attribute pair: not this test's subject
        CompressionOptions options;
        options.use_optimisations = rng() % 4 != 0;
        options.compress_other_key_value_pairs = rng() % 4 != 0;
        Result<std::string> c = compress_digital_link(*dl, options);
        const bool long_iban =
            std::any_of(dl->attributes.begin(), dl->attributes.end(),
                        [](const AiValue& a) { return a.ai == "8007" && a.value.size() > 31; });
        if (long_iban) {
          // The reference's 5 length bits of (8007).
          ASSERT_FALSE(c.ok()) << uri;
          EXPECT_NE(c.error().message.find("AI (8007)"), std::string::npos) << c.error().message;
          continue;
        }
        ASSERT_TRUE(c.ok()) << uri << ": " << error_of(c);
        Result<DigitalLink> back = decompress_digital_link(*c);
        ASSERT_TRUE(back.ok()) << uri << " -> " << *c << ": " << error_of(back);
        expect_same_link(*dl, *back, uri + " -> " + *c);
        EXPECT_TRUE(has_compressed_digital_link_shape(*c)) << *c;
        // The owl:sameAs text parses to the same link.
        const std::string same_as = digital_link_uri(*back);
        Result<DigitalLink> again =
            path_only ? parse_digital_link_path(same_as) : parse_digital_link(same_as);
        ASSERT_TRUE(again.ok()) << same_as << ": " << error_of(again);
        expect_same_link(*back, *again, same_as);
        ++trips;
        ++seen[dl->primary_key.ai];
        for (const AiValue& q : dl->qualifiers) ++seen[q.ai];
        for (const AiValue& a : dl->attributes) ++seen[a.ai];
      }
    }
  }
  EXPECT_GT(trips, 1500);
  for (const AiEntry& e : dictionary().entries()) {
    if (e.dl_primary_key) {
      EXPECT_GE(seen[e.ai], 40) << "key AI (" << e.ai << ")";
    }
    for (const auto& alt : e.dl_qualifier_sequences) {
      for (const std::string& q : alt) EXPECT_GE(seen[q], 10) << "qualifier AI (" << q << ")";
    }
  }
  std::size_t attributes_seen = 0;
  for (const AiEntry* a : attributes) attributes_seen += seen[a->ai] > 0 ? 1 : 0;
  EXPECT_GT(attributes_seen * 10, attributes.size() * 9)
      << attributes_seen << " of " << attributes.size();
}

TEST(Gs1Compression, EveryAttributeWithEveryEncoding) {
  // Each DL attribute AI alone after a GTIN, with values of every character
  // class, all-digit values with leading zeros and the longest values.
  std::mt19937 rng(7);
  const std::string base = "https://id.example/01/" + with_mod10("0950600013435");
  int trips = 0;
  for (const AiEntry& e : dictionary().entries()) {
    if (!e.dl_data_attribute || e.dl_primary_key || e.ai == "01") continue;
    std::set<std::string> values;
    for (int i = 0; i < 40; ++i) values.insert(valid_value(e, rng));
    std::string longest;
    for (const Component& c : e.components) {
      std::string v(c.max_length, c.charset == CharSet::numeric ? '0' : 'z');
      if (has_linter(c, "csum")) v = with_mod10(v.substr(0, v.size() - 1));
      longest += v;
    }
    values.insert(longest);
    for (const std::string& v : values) {
      Result<DigitalLink> dl = parse_digital_link(base + "?" + e.ai + "=" + encode(v));
      if (!dl) continue;
      Result<std::string> c = compress_digital_link(*dl);
      if (e.ai == "8007" && v.size() > 31) {
        ASSERT_FALSE(c.ok());  // the reference's 5 length bits
        EXPECT_NE(c.error().message.find("AI (8007)"), std::string::npos) << c.error().message;
        continue;
      }
      ASSERT_TRUE(c.ok()) << e.ai << "=" << v << ": " << error_of(c);
      Result<DigitalLink> back = decompress_digital_link(*c);
      ASSERT_TRUE(back.ok()) << e.ai << "=" << v << " -> " << *c << ": " << error_of(back);
      expect_same_link(*dl, *back, e.ai + "=" + v);
      ++trips;
    }
  }
  EXPECT_GT(trips, 3000);
}

TEST(Gs1Compression, OtherQueryParameters) {
  const std::string gtin = with_mod10("0950600013435");
  Result<DigitalLink> dl = parse_digital_link("https://example.com/01/" + gtin +
                                              "?linkType=gs1:pip&flag&x.y=1&q=a%26b&u=%C3%A9");
  ASSERT_TRUE(dl.ok()) << error_of(dl);
  Result<std::string> c = compress_digital_link(*dl);
  ASSERT_TRUE(c.ok());
  // Compressible: linkType, q (decoded "a&b"). Left in the query: "flag" (no
  // '='), "x.y" (not base64url), "u" (not 7-bit ASCII).
  EXPECT_EQ(c->substr(c->find('?')), "?flag&x.y=1&u=%C3%A9");
  Result<DigitalLink> back = decompress_digital_link(*c);
  ASSERT_TRUE(back.ok()) << error_of(back);
  EXPECT_EQ(back->other_query_params,
            (std::vector<std::string>{"flag", "x.y=1", "u=%C3%A9", "linkType=gs1:pip", "q=a%26b"}));
  CompressionOptions keep;
  keep.compress_other_key_value_pairs = false;
  Result<std::string> kept = compress_digital_link(*dl, keep);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->substr(kept->find('?')), "?linkType=gs1:pip&flag&x.y=1&q=a%26b&u=%C3%A9");
}

TEST(Gs1Compression, StemsAndForms) {
  const std::string gtin = with_mod10("0950600013435");
  Result<DigitalLink> dl =
      parse_digital_link("https://Example.com:8443/x/y/01/" + gtin + "/21/S%2F1#frag");
  ASSERT_TRUE(dl.ok());
  Result<std::string> c = compress_digital_link(*dl);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rfind("https://Example.com:8443/x/y/", 0), 0U) << *c;
  const std::string segment = c->substr(c->rfind('/'));
  for (const std::string& form : {*c, segment, "/x" + segment, *c + "#frag", *c + "?"}) {
    Result<DigitalLink> back = decompress_digital_link(form);
    ASSERT_TRUE(back.ok()) << form << ": " << error_of(back);
    EXPECT_EQ(back->primary_key, dl->primary_key);
    EXPECT_EQ(back->qualifiers, dl->qualifiers);
  }
  EXPECT_EQ(decompress_digital_link(segment)->stem, "");
  EXPECT_EQ(decompress_digital_link("/x" + segment)->stem, "/x");
  EXPECT_EQ(digital_link_uri(*decompress_digital_link(*c)),
            "https://Example.com:8443/x/y/01/" + gtin + "/21/S%2F1");
}

// --- Broken input --------------------------------------------------------------

void expect_error(const std::string& uri, const std::string& fragment) {
  Result<DigitalLink> r = decompress_digital_link(uri);
  ASSERT_FALSE(r.ok()) << uri << " decompressed to " << digital_link_uri(*r);
  EXPECT_NE(r.error().message.find(fragment), std::string::npos)
      << uri << ": " << r.error().message << " (wanted '" << fragment << "')";
}

TEST(Gs1Compression, NamesWhatIsWrong) {
  const std::string good = "https://id.gs1.org/" + gtin_link(with_mod10("0950600013435"));
  ASSERT_TRUE(decompress_digital_link(good).ok());
  expect_error("https://id.gs1.org/AQ%3D", "base64url");
  expect_error("https://id.gs1.org/AQ=", "base64url");
  expect_error("https://id.gs1.org/", "empty");
  expect_error("https://id.gs1.org", "no path");
  expect_error("ftp://id.gs1.org/AQnY", "http");
  expect_error("", "http");
  expect_error("https://user@id.gs1.org/AQnY", "");
  expect_error("https://id.gs1.org/a b/" + gtin_link(with_mod10("0950600013435")), "not allowed");
  expect_error(good.substr(0, good.size() - 3), "truncated");
  // AI prefix 14: no AI starts so (0001 0100).
  expect_error("https://id.gs1.org/FAAAAAAA", "no GS1 Application Identifier starts with 14");
  // Code 4A (0100 1010): no optimisation.
  expect_error("https://id.gs1.org/SgAAAAAA", "no optimisation is defined for code 4A");
  // AI (10), encoding 7, length 1: 0001 0000 111 00001 0000000.
  expect_error("https://id.gs1.org/EOEA", "unknown character encoding 7");
  // AI (10), digits, length 1, value 15 in 4 bits: 0001 0000 000 00001 1111.
  expect_error("https://id.gs1.org/EAHw", "more than its 1 digits");
  // AI (10) "A" in ASCII alone: 0001 0000 100 00001 1000001; no primary key.
  expect_error("https://id.gs1.org/EIGC", "no primary key");
  // Two keys: (00) and (01), both valid.
  {
    std::string bits;
    const auto put = [&bits](unsigned long long v, int width) {
      for (int i = width - 1; i >= 0; --i) bits += ((v >> i) & 1ULL) != 0 ? '1' : '0';
    };
    put(0x00, 8);
    put(std::stoull(with_mod10("00950600013435678")), 60);
    put(0x01, 8);
    put(std::stoull(with_mod10("0950600013435")), 47);
    while (bits.size() % 6 != 0) bits += '0';
    std::string s;
    static const std::string b64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < bits.size(); i += 6)
      s += b64[std::stoul(bits.substr(i, 6), nullptr, 2)];
    expect_error("https://id.gs1.org/" + s, "more than one primary key");
  }
  // Non-zero padding: the last character changed from 'A'-padding.
  {
    std::string bad = good;
    bad.back() = static_cast<char>(bad.back() + 1);
    Result<DigitalLink> r = decompress_digital_link(bad);
    ASSERT_FALSE(r.ok()) << bad;
  }
  // An attribute that is a second primary key cannot be compressed.
  Result<DigitalLink> two =
      parse_digital_link("https://id.gs1.org/01/" + with_mod10("0950600013435") +
                         "?00=" + with_mod10("00950600013435678"));
  ASSERT_TRUE(two.ok()) << error_of(two);
  Result<std::string> c = compress_digital_link(*two);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("AI (00)"), std::string::npos) << c.error().message;
  // A hand-made link with an invalid value is refused, naming the AI.
  DigitalLink made;
  made.primary_key = {"01", "12345"};
  Result<std::string> m = compress_digital_link(made);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("(01)"), std::string::npos) << m.error().message;
}

TEST(Gs1Compression, NeverCrashesOnDamagedVectors) {
  // Every prefix of every tenth vector and single-character changes: an
  // Error with a message, or a link that compresses and decompresses to
  // itself.
  const std::string b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::mt19937 rng(3);
  std::size_t ok = 0;
  std::size_t errors = 0;
  const json& links = vectors().at("links");
  for (std::size_t i = 0; i < links.size(); i += 10) {
    const std::string c = links[i].at("compressed");
    const std::size_t seg = c.rfind('/', c.find('?')) + 1;
    std::string query;
    if (c.find('?') != std::string::npos) query = c.substr(c.find('?'));
    const std::size_t seg_end = c.size() - query.size();
    std::vector<std::string> damaged;
    for (std::size_t n = seg; n < seg_end; ++n) damaged.push_back(c.substr(0, n) + query);
    for (int k = 0; k < 20; ++k) {
      std::string d = c;
      const std::size_t at = seg + rng() % (seg_end - seg);
      d[at] = b64[rng() % 64];
      damaged.push_back(d);
    }
    for (const std::string& d : damaged) {
      Result<DigitalLink> r = decompress_digital_link(d);
      if (!r) {
        EXPECT_FALSE(r.error().message.empty()) << d;
        ++errors;
        continue;
      }
      ++ok;
      Result<std::string> again = compress_digital_link(*r);
      ASSERT_TRUE(again.ok()) << d << ": " << error_of(again);
      Result<DigitalLink> back = decompress_digital_link(*again);
      ASSERT_TRUE(back.ok()) << *again << ": " << error_of(back);
      expect_same_link(*r, *back, d);
    }
  }
  EXPECT_GT(errors, 1000U);
  EXPECT_GT(ok, 10U);  // some changes only alter a value
}

TEST(Gs1Compression, Shape) {
  EXPECT_TRUE(has_compressed_digital_link_shape("https://id.gs1.org/AQnYUc1gnrNAy"));
  EXPECT_TRUE(has_compressed_digital_link_shape("/AQnYUc1gnrNAy"));
  EXPECT_TRUE(has_compressed_digital_link_shape("/stem/GhFKk4XBoI1XgkZ6HqCjA5MQMAC9?x=1"));
  EXPECT_FALSE(has_compressed_digital_link_shape("https://id.gs1.org/index.html"));
  EXPECT_FALSE(has_compressed_digital_link_shape("https://id.gs1.org/"));
  EXPECT_FALSE(has_compressed_digital_link_shape("https://id.gs1.org/AQn"));
  EXPECT_FALSE(has_compressed_digital_link_shape("ftp://id.gs1.org/AQnYUc1gnrNAy"));
  EXPECT_FALSE(has_compressed_digital_link_shape("/favicon.ico"));
  EXPECT_FALSE(has_compressed_digital_link_shape("/robots"));  // 'ro': code AE, none
  EXPECT_FALSE(has_compressed_digital_link_shape(""));
}

}  // namespace
}  // namespace idra::ids::gs1
