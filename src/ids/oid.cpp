// oid.cpp: object identifiers (ITU-T X.660 | ISO/IEC 9834-1) in dotted form.
#include <string>

#include "idra/ids.hpp"
#include "idra/text.hpp"

namespace idra::ids {

Result<std::string> canonical_oid(std::string_view input) {
  std::size_t base = 0;
  if (text::istarts_with(input, "urn:oid:")) base = 8;
  const std::string_view oid = input.substr(base);
  if (oid.empty()) return make_error("empty OID");
  std::size_t arc_index = 0;
  std::size_t start = 0;
  std::string_view first_arc;
  while (true) {
    std::size_t end = oid.find('.', start);
    if (end == std::string_view::npos) end = oid.size();
    const std::string_view arc = oid.substr(start, end - start);
    const std::string where =
        " (arc " + std::to_string(arc_index + 1) + " at byte " + std::to_string(base + start) + ")";
    if (arc.empty()) return make_error("empty OID arc" + where);
    for (std::size_t i = 0; i < arc.size(); ++i) {
      if (!text::is_digit(arc[i])) {
        return make_error("OID arcs are decimal numbers; character " + text::describe_char(arc[i]) +
                          " at byte " + std::to_string(base + start + i) + " is not a digit");
      }
    }
    if (arc.size() > 1 && arc[0] == '0') {
      return make_error("OID arc " + text::quoted(arc) + " has a leading zero" + where);
    }
    if (arc_index == 0) {
      if (arc != "0" && arc != "1" && arc != "2") {
        return make_error("the first OID arc must be 0, 1 or 2, not " + text::quoted(arc) + where);
      }
      first_arc = arc;
    } else if (arc_index == 1 && first_arc != "2") {
      // Under 0 and 1 the second arc is 0-39 (X.660 clause A.3).
      if (arc.size() > 2 || (arc.size() == 2 && arc > "39")) {
        return make_error("under arc " + std::string(first_arc) +
                          " the second OID arc must be at most 39, not " + text::quoted(arc) +
                          where);
      }
    }
    ++arc_index;
    if (end == oid.size()) break;
    start = end + 1;
  }
  if (arc_index < 2) return make_error("an OID has at least two arcs (such as 2.999)");
  return std::string(oid);
}

}  // namespace idra::ids
