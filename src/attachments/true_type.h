// True file type from content (libmagic, MIME-type mode), never from the name
// or the declared Content-Type, plus the classification Safe Attachments needs:
// executables and installers, scripts, disk images (mark-of-the-web bypass).
#pragma once

#include <string>
#include <string_view>

namespace mailmoat::attachments {

// libmagic's MIME type of `content` ("application/octet-stream" when unknown).
// Thread-safe: each thread keeps its own magic cookie.
std::string true_type(std::string_view content);

std::string extension_of(std::string_view name);  // lower case, "" when none

bool is_executable_type(std::string_view true_type);          // PE, ELF, Mach-O, MSI
bool is_script_extension(std::string_view extension);         // js, vbs, hta, ps1, lnk, ...
bool is_disk_image(std::string_view true_type, std::string_view extension);  // ISO, IMG, VHD
bool is_archive_type(std::string_view true_type);

}  // namespace mailmoat::attachments
