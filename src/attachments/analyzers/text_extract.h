// Text extraction from attachments for the rules' `attachment_contains`
// (issue 7): XML text of OOXML/ODF parts, RTF text outside its control
// groups, PDF literal strings inside text objects (BT ... ET, PDF 32000-1
// §9.4). Approximate by design: no fonts, no hex-string glyph ids (text set
// in CID fonts is not recovered). Each result is capped at `max` bytes.
#pragma once

#include <string>
#include <string_view>

namespace mailmoat::attachments {

std::string xml_text(std::string_view xml, std::size_t max);
std::string rtf_text(std::string_view rtf, std::size_t max);
std::string pdf_content_text(std::string_view stream, std::size_t max);
// Types whose bytes are the text itself (text/*, JSON, XML, CSV).
bool is_text_type(std::string_view true_type);

}  // namespace mailmoat::attachments
