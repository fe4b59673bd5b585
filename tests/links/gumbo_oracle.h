// The gumbo-based URL extraction that mailmoat used before its own scanner
// (src/links/html_scan.cpp), kept only as a test oracle: the differential test
// and fuzz target compare the scanner with a full HTML5 tree builder.
#pragma once

#include "links/extract.h"

namespace mailmoat::links {

HtmlScan gumbo_find_html_urls(std::string_view html, const HtmlScanOptions& options);

}  // namespace mailmoat::links
