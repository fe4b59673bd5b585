// Reading where a URL shortener's link leads, at click time only (issue 8:
// "known URL shorteners (flag, optionally resolve at click time only)"). One
// request (HEAD, or GET when HEAD is refused) to a host the administrator
// listed as a shortener, never following the redirect: the answer's Location
// is returned for the verdict engine to judge. Nothing is fetched at delivery,
// and only listed shortener hosts are ever asked, so the click service cannot
// be made to fetch arbitrary addresses (no SSRF through links). HTTPS checks
// the certificate against the system's trust store and the host name.
#pragma once

#include <chrono>
#include <string>

#include "util/error.h"

namespace mailmoat::http {

// The absolute destination the shortener answers for `url` (a 3xx Location,
// resolved against `url`), or why it could not be read: not a redirect,
// no Location, a connection or TLS failure, or `timeout` passed (DNS, connect,
// TLS and the answer's header all count against it).
util::Result<std::string> shortener_destination(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace mailmoat::http
