// Builds the `signing` filter from [dkim], [[dkim.key]] and [arc]: reads and
// checks every key file at start, so that a missing or unreadable key stops
// `serve` with one clear line instead of leaving mail unsigned later.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "auth/dkim/crypto.h"
#include "filters/signing/signing_filter.h"
#include "util/error.h"

namespace mailmoat::app {

// Reads a private key file (PEM, or a dkimpy-style base64 Ed25519 seed).
util::Result<auth::dkim::PrivateKey> read_private_key(const std::string& path);

// The filter's configuration; an error names the key and the file.
util::Result<filters::SigningConfig> signing_config(const Config& config, const std::string& authserv_id);

}  // namespace mailmoat::app
