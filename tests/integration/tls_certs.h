// A throw-away CA and certificates for TLS integration tests, made with the
// openssl command in a test's temporary directory: ca.pem, mx.pem (server,
// SAN mx.test), and client certificates good.pem (SAN mta.partner.test) and
// wrong.pem (SAN mta.evil.test), each with its .key.
#pragma once

#include <cstdlib>
#include <string>

#include "harness.h"

namespace mailmoat::testing {

inline bool make_tls_certs(const TempDir& d) {
  auto leaf = [](const std::string& name, const std::string& san) {
    return " && openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name + ".csr -subj /CN=" + san +
           " && printf 'subjectAltName=DNS:" + san + "\\nextendedKeyUsage=serverAuth,clientAuth' > " + name +
           ".ext && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
           ".pem -days 2 -extfile " + name + ".ext";
  };
  std::string cmd = "cd " + d.path() + " && chmod 755 . && (openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key " +
                    "-out ca.pem -days 2 -subj /CN=TestCA" + leaf("mx", "mx.test") + leaf("good", "mta.partner.test") +
                    leaf("wrong", "mta.evil.test") + ") >/dev/null 2>&1 && chmod 644 *.key";
  return std::system(cmd.c_str()) == 0;
}

// Another leaf certificate NAME.pem/NAME.key from ca.pem with one DNS name.
inline bool make_leaf_cert(const TempDir& d, const std::string& name, const std::string& san) {
  std::string cmd = "cd " + d.path() + " && (openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name +
                    ".csr -subj /CN=" + san + " && printf 'subjectAltName=DNS:" + san + "' > " + name +
                    ".ext && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
                    ".pem -days 2 -extfile " + name + ".ext) >/dev/null 2>&1 && chmod 644 " + name + ".key";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace mailmoat::testing
