// Test samples for Safe Attachments, generated in the test (nothing is
// downloaded): archives written with libarchive, a minimal OLE2 compound file
// with a VBA project, OOXML packages, PDFs, HTML pages, a PE header, and
// MIME messages carrying them. Shared by unit, integration and bench code.
#pragma once

#include <string>
#include <vector>

namespace mailmoat::test_samples {

struct Member {
  std::string name;
  std::string content;
};

// format: "zip", "7zip" or "gzip" (one member, no archive); password: traditional PKWARE encryption (zip only).
std::string archive(const std::vector<Member>& members, const std::string& format = "zip",
                    const std::string& password = "");

std::string eicar();
std::string pe_executable();               // a PE32 header libmagic recognises
std::string ole2(const std::vector<Member>& streams, const std::string& storage = "VBA");
std::string vba_module(const std::string& source);  // [MS-OVBA] compressed container (literal tokens)
std::string docm_with_autoopen();
std::string pdf_with_openaction_js();
std::string plain_pdf();
// A Word document (OOXML) whose body paragraphs are `paragraphs`; a one-page PDF showing `line`.
std::string docx(const std::vector<std::string>& paragraphs);
std::string pdf_with_text(const std::string& line);
std::string html_smuggling();
std::string html_credential_form();
std::string zip_bomb(int levels = 3, std::size_t inner_bytes = 20 << 20);

struct Attachment {
  std::string name;
  std::string content_type;
  std::string content;
};
// A multipart/mixed message with a text body and base64 attachments; the
// file name is written with RFC 2231 (UTF-8) when it is not ASCII.
std::string message(const std::string& body, const std::vector<Attachment>& attachments,
                    const std::string& from = "sender@example.org", const std::string& to = "user@example.com",
                    const std::string& subject = "Documents");

}  // namespace mailmoat::test_samples
