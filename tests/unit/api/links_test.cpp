// links.hpp: link values, negotiation, linkset and Link header.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/links.hpp"

namespace idra::api::links {
namespace {

Link link(std::string type, std::string href, std::vector<std::string> langs = {}, std::string media = {},
          std::vector<std::string> context = {}, bool is_default = false) {
  Link l;
  l.link_type = expand_link_type(type).value();
  l.href = std::move(href);
  l.title = "t";
  l.hreflang = std::move(langs);
  l.media_type = std::move(media);
  l.context = std::move(context);
  l.is_default = is_default;
  return l;
}

TEST(LinkType, GsVocabularySpellingsAreOneTerm) {
  for (auto spelling : {"gs1:pip", "https://gs1.org/voc/pip", "http://gs1.org/voc/pip", "https://ref.gs1.org/voc/pip"}) {
    auto t = expand_link_type(spelling);
    ASSERT_TRUE(t) << spelling;
    EXPECT_EQ(*t, "https://gs1.org/voc/pip");
  }
  EXPECT_EQ(compact_link_type("https://gs1.org/voc/pip"), "gs1:pip");
  EXPECT_EQ(*expand_link_type("https://example.com/voc/x-y_z"), "https://example.com/voc/x-y_z");
  for (auto bad : {"", "pip", "gs1:", "gs1:p p", "ftp://x/y", "https://example.com/a?b", "https://gs1.org/voc/", "linkset"}) {
    EXPECT_FALSE(expand_link_type(bad)) << bad;
  }
}

TEST(ParseLink, ReadsEveryMemberAndRoundTrips) {
  auto l = parse_link(R"({"linkType":"gs1:pip","href":"https://example.com/p?x=1","title":"Product",
                          "hreflang":["en","en-GB"],"type":"text/html","context":["us"],"default":true,"fwqs":false})");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->link_type, "https://gs1.org/voc/pip");
  EXPECT_EQ(l->hreflang, (std::vector<std::string>{"en", "en-GB"}));
  EXPECT_EQ(l->media_type, "text/html");
  EXPECT_TRUE(l->is_default);
  EXPECT_FALSE(l->fwqs);
  auto again = parse_link(link_data(*l));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *l);
  // A single hreflang string is accepted as a list of one.
  EXPECT_EQ(parse_link(R"({"linkType":"gs1:pip","href":"https://e.com","title":"","hreflang":"de"})")->hreflang,
            std::vector<std::string>{"de"});
}

TEST(ParseLink, ErrorsNameTheField) {
  struct Case {
    const char* data;
    const char* says;
  } cases[] = {
      {"[]", "JSON object"},
      {"{", "JSON object"},
      {R"({"href":"https://e.com","title":"t"})", "linkType"},
      {R"({"linkType":"gs1:pip","title":"t"})", "href"},
      {R"({"linkType":"gs1:pip","href":"https://e.com"})", "title"},
      {R"({"linkType":"gs1:pip","href":"/relative","title":"t"})", "href"},
      {R"({"linkType":"gs1:pip","href":"https://e.com/a b","title":"t"})", "href"},
      {R"({"linkType":"gs1:pip","href":"javascript:alert","title":"t"})", "href"},
      {R"({"linkType":"gs1:pip","href":"https://e.com","title":"t","hreflang":["english"]})", "hreflang"},
      {R"({"linkType":"gs1:pip","href":"https://e.com","title":"t","type":"html"})", "type"},
      {R"({"linkType":"gs1:pip","href":"https://e.com","title":"t","default":"yes"})", "default"},
      {R"({"linkType":"gs1:pip","href":"https://e.com","title":"t","colour":"red"})", "colour"},
      {R"({"linkType":"gs1:pip","href":"https://e.com","title":"t","context":[1]})", "context"},
  };
  for (const auto& c : cases) {
    auto l = parse_link(c.data);
    ASSERT_FALSE(l) << c.data;
    EXPECT_NE(l.error().message.find(c.says), std::string::npos) << c.data << " -> " << l.error().message;
  }
}

store::HandleValue value(std::uint32_t index, std::string type, std::string data) {
  store::HandleValue v;
  v.index = index;
  v.type = std::move(type);
  v.data = std::move(data);
  return v;
}

TEST(CheckLinkValues, ExactlyOneDefaultPerItemWithLinks) {
  const std::string a = R"({"linkType":"gs1:pip","href":"https://e.com/a","title":"a","default":true})";
  const std::string b = R"({"linkType":"gs1:epil","href":"https://e.com/b","title":"b"})";
  const std::string c = R"({"linkType":"gs1:epil","href":"https://e.com/c","title":"c","default":true})";
  EXPECT_TRUE(check_link_values({value(1, "URL", "x")}).ok());
  EXPECT_TRUE(check_link_values({value(1, "GS1_LINK", a), value(2, "GS1_LINK", b)}).ok());
  auto none = check_link_values({value(2, "GS1_LINK", b)});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("exactly one default"), std::string::npos);
  EXPECT_FALSE(check_link_values({value(1, "GS1_LINK", a), value(3, "GS1_LINK", c)}).ok());
  auto bad = check_link_values({value(7, "GS1_LINK", "{}")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("index 7"), std::string::npos);
  EXPECT_FALSE(check_link_values({value(1, "GS1_ITEM_DESCRIPTION", "a"), value(2, "GS1_ITEM_DESCRIPTION", "b")}).ok());
  EXPECT_FALSE(check_link_values({value(1, "GS1_ITEM_DESCRIPTION", "\xff")}).ok());
}

TEST(ParseWeighted, OrdersByQualityAndDropsZeroAndJunk) {
  auto w = parse_weighted("text/html;q=0.5, application/json, */*;q=0.1, image/png;q=0, bad;q=2, x/y;q=abc");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].value, "application/json");
  EXPECT_EQ(w[1].value, "text/html");
  EXPECT_DOUBLE_EQ(w[1].q, 0.5);
  EXPECT_EQ(w[2].value, "*/*");
  EXPECT_EQ(parse_weighted("").size(), 0u);
  EXPECT_EQ(parse_weighted("EN-gb , fr;q=0.8")[0].value, "en-gb");
}

TEST(Negotiate, ContextThenLanguageThenMediaType) {
  const Link en_html = link("gs1:pip", "https://e.com/en.html", {"en"}, "text/html");
  const Link de_html = link("gs1:pip", "https://e.com/de.html", {"de"}, "text/html");
  const Link en_pdf = link("gs1:pip", "https://e.com/en.pdf", {"en"}, "application/pdf");
  const Link us = link("gs1:pip", "https://e.com/us", {"en"}, "text/html", {"us"});
  const std::vector<const Link*> all{&en_html, &de_html, &en_pdf};

  Preferences p;
  p.languages = parse_weighted("de");
  EXPECT_EQ(negotiate(all, p), (std::vector<std::size_t>{1}));
  p.languages = parse_weighted("fr, en;q=0.5");
  EXPECT_EQ(negotiate(all, p), (std::vector<std::size_t>{0, 2}));  // cannot be told apart
  p.media_types = parse_weighted("application/pdf");
  EXPECT_EQ(negotiate(all, p), (std::vector<std::size_t>{2}));
  p.languages = parse_weighted("en-GB");  // "en" links serve an "en-GB" reader
  p.media_types = parse_weighted("text/*");
  EXPECT_EQ(negotiate(all, p), (std::vector<std::size_t>{0}));
  // Nothing matches: the candidates stay as they were.
  Preferences none;
  none.languages = parse_weighted("ja");
  EXPECT_EQ(negotiate(all, none).size(), 3u);
  // Context narrows first; unmatched context falls back to context-free links.
  const std::vector<const Link*> with_us{&us, &en_html};
  Preferences c;
  c.context = "us";
  EXPECT_EQ(negotiate(with_us, c), (std::vector<std::size_t>{0}));
  c.context = "ca";
  EXPECT_EQ(negotiate(with_us, c), (std::vector<std::size_t>{1}));
}

TEST(WantsLinkset, OnlyWhenPreferred) {
  EXPECT_TRUE(wants_linkset(parse_weighted("application/linkset+json"), false));
  EXPECT_FALSE(wants_linkset(parse_weighted("text/html, application/linkset+json;q=0.5"), false));
  EXPECT_TRUE(wants_linkset(parse_weighted("application/json"), true));
  EXPECT_FALSE(wants_linkset(parse_weighted("application/json"), false));
  EXPECT_FALSE(wants_linkset({}, true));
}

TEST(Linkset, ShapeOfGs1Schema) {
  const Link d = link("gs1:pip", "https://e.com/p", {"en"}, "text/html", {}, true);
  const Link e = link("gs1:epil", "https://e.com/e");
  auto j = nlohmann::json::parse(linkset_json("https://id.example.com/01/09506000134352", "Rice", {&d, &e}));
  ASSERT_EQ(j["linkset"].size(), 1u);
  const auto& entry = j["linkset"][0];
  EXPECT_EQ(entry["anchor"], "https://id.example.com/01/09506000134352");
  EXPECT_EQ(entry["itemDescription"], "Rice");
  EXPECT_EQ(entry["https://gs1.org/voc/defaultLink"][0]["href"], "https://e.com/p");
  EXPECT_EQ(entry["https://gs1.org/voc/pip"][0]["hreflang"][0], "en");
  EXPECT_EQ(entry["https://gs1.org/voc/epil"][0]["title"], "t");
  EXPECT_FALSE(entry["https://gs1.org/voc/epil"][0].contains("type"));
}

TEST(LinkHeader, QuotesAndEncodes) {
  Link l = link("gs1:pip", "https://e.com/p", {"en", "de"}, "text/html");
  l.title = "say \"hi\"";
  Link u = link("gs1:epil", "https://e.com/u");
  u.title = "Gebrauchsinformation für Patienten";
  EXPECT_EQ(link_header({&l, &u}, {link_header_member("https://id/01/1", "owl:sameAs")}),
            "<https://e.com/p>; rel=\"https://gs1.org/voc/pip\"; type=\"text/html\"; hreflang=\"en\"; "
            "hreflang=\"de\"; title=\"say \\\"hi\\\"\", <https://e.com/u>; rel=\"https://gs1.org/voc/epil\"; "
            "title*=UTF-8''Gebrauchsinformation%20f%C3%BCr%20Patienten, <https://id/01/1>; rel=\"owl:sameAs\"");
}

TEST(WithQuery, AppendsBeforeTheFragment) {
  EXPECT_EQ(with_query("https://e.com/p", ""), "https://e.com/p");
  EXPECT_EQ(with_query("https://e.com/p", "a=1"), "https://e.com/p?a=1");
  EXPECT_EQ(with_query("https://e.com/p?x=2", "a=1"), "https://e.com/p?x=2&a=1");
  EXPECT_EQ(with_query("https://e.com/p#top", "a=1"), "https://e.com/p?a=1#top");
}

}  // namespace
}  // namespace idra::api::links
