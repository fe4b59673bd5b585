#include "app/cmd_dkim.h"

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/signing_setup.h"
#include "auth/arc/sealer.h"
#include "auth/dkim/signature.h"
#include "auth/dkim/signer.h"
#include "mail/message.h"
#include "util/errno_message.h"

namespace mailmoat::app {

namespace dkim = auth::dkim;
namespace arc = auth::arc;

void add_dkim_commands(CLI::App& app, DkimCommand& cmd) {
  auto* keygen = app.add_subcommand("keygen", "Create a DKIM key pair and print the DNS TXT record to publish");
  keygen->add_option("--domain", cmd.domain, "Signing domain (d=)")->required();
  keygen->add_option("--selector", cmd.selector, "Selector (s=)")->required();
  keygen->add_option("--algorithm", cmd.algorithm, "rsa (default) or ed25519")
      ->check(CLI::IsMember({"rsa", "ed25519"}));
  keygen->add_option("--bits", cmd.bits, "RSA key size: 2048 (default) or 3072")->check(CLI::IsMember({2048, 3072}));
  keygen->add_option("--out", cmd.out, "Private key file to create (default: DOMAIN.SELECTOR.pem)");
  keygen->callback([&cmd] { cmd.action = "keygen"; });

  auto* sign = app.add_subcommand("sign", "DKIM-sign (or with --arc, ARC-seal) a message and print it");
  sign->add_option("--key", cmd.key, "Private key file (PEM)")->required();
  sign->add_option("--domain", cmd.domain, "Signing domain (d=)")->required();
  sign->add_option("--selector", cmd.selector, "Selector (s=)")->required();
  sign->add_option("--algorithm", cmd.algorithm, "rsa or ed25519: must match the key")
      ->check(CLI::IsMember({"rsa", "ed25519"}));
  sign->add_option("--canon", cmd.canon, "header/body canonicalization (default relaxed/relaxed)");
  sign->add_flag("--arc", cmd.arc, "Add an ARC set instead of a DKIM-Signature");
  sign->add_option("--authserv-id", cmd.authserv_id, "With --arc: whose Authentication-Results go into the AAR");
  sign->add_option("--cv", cmd.cv, "With --arc: validation of the incoming chain (none, pass, fail)")
      ->check(CLI::IsMember({"none", "pass", "fail"}));
  sign->add_option("message", cmd.message, "Message file, or - for stdin (default)");
  sign->callback([&cmd] { cmd.action = "sign"; });
}

namespace {

int failure(const std::string& message) {
  (void)std::fprintf(stderr, "mailmoat: error: %s\n", message.c_str());
  return 1;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The zone-file form: one quoted string per 255-byte piece, in parentheses.
std::string zone_record(const DkimCommand& cmd, const dkim::GeneratedKey& key) {
  std::string out = cmd.selector + "._domainkey." + cmd.domain + ". IN TXT (";
  for (const auto& s : key.txt_strings) out += " \"" + s + "\"";
  return out + " )\n";
}

int keygen(const DkimCommand& cmd) {
  const bool ed = cmd.algorithm == "ed25519";
  auto key = dkim::generate_key(ed ? dkim::KeyType::ed25519 : dkim::KeyType::rsa, cmd.bits);
  if (!key) return failure("cannot generate the key: " + key.error().message);
  const std::string path = cmd.out.empty() ? cmd.domain + "." + cmd.selector + ".pem" : cmd.out;
  // O_EXCL: never overwrite a key that may already be published and in use.
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return failure("cannot create " + path + ": " + util::errno_message(errno));
  const std::string& pem = key->private_pem;
  bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return failure("cannot write " + path);
  }
  (void)std::fprintf(stderr, "mailmoat: private key written to %s (mode 0600); publish this record:\n", path.c_str());
  const std::string record = zone_record(cmd, *key);
  if (std::fwrite(record.data(), 1, record.size(), stdout) != record.size() || std::fflush(stdout) != 0)
    return failure("cannot write the record to standard output");
  return 0;
}

util::Result<std::string> read_message(const std::string& name) {
  std::ostringstream text;
  if (name == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(name, std::ios::binary);
    if (!in) return util::fail("cannot read message " + name + ": " + util::errno_message(errno));
    text << in.rdbuf();
  }
  std::string bytes = text.str();
  if (bytes.empty()) return util::fail("the message is empty");
  if (mail::needs_normalization(bytes)) bytes = mail::normalize_line_endings(bytes);
  return bytes;
}

util::Result<std::string> seal(const DkimCommand& cmd, dkim::PrivateKey key, const mail::Message& message) {
  if (cmd.authserv_id.empty()) return util::fail("--arc needs --authserv-id");
  auto payload = arc::results_for(message, cmd.authserv_id);
  if (!payload) return util::fail("the message has no Authentication-Results from " + cmd.authserv_id);
  std::string cv_word = cmd.cv;
  if (cv_word.empty()) {
    if (message.count("ARC-Seal") > 0) return util::fail("the message already has an ARC chain: give --cv");
    cv_word = "none";
  }
  auto cv = cv_word == "pass" ? arc::ChainValidation::pass
            : cv_word == "fail" ? arc::ChainValidation::fail
                                : arc::ChainValidation::none;
  auto sealer = arc::SealerBuilder(cmd.domain, cmd.selector, std::move(key)).build();
  if (!sealer) return std::unexpected(sealer.error());
  auto set = sealer->seal(message, *payload, cv, unix_now());
  if (!set) return std::unexpected(set.error());
  const auto& added = *set;
  if (!added) return util::fail("the chain takes no further ARC set (cv=fail or 50 sets)");
  return added->fields();
}

int sign(const DkimCommand& cmd) {
  auto key = read_private_key(cmd.key);
  if (!key) return failure(key.error().message);
  if (!cmd.algorithm.empty() && (cmd.algorithm == "ed25519") != (key->type == dkim::KeyType::ed25519))
    return failure("--algorithm " + cmd.algorithm + " does not match the key in " + cmd.key);
  auto bytes = read_message(cmd.message);
  if (!bytes) return failure(bytes.error().message);
  auto message = mail::Message::parse(*bytes);
  if (!message) return failure("the message cannot be parsed: " + message.error().message);
  util::Result<std::string> fields;
  if (cmd.arc) {
    fields = seal(cmd, std::move(*key), *message);
  } else {
    auto canon = dkim::parse_canon(cmd.canon);
    if (!canon) return failure("--canon: " + canon.error().message);
    auto signer = dkim::SignerBuilder(cmd.domain, cmd.selector, std::move(*key))
                      .canonicalization(canon->first, canon->second)
                      .build();
    if (!signer) return failure(signer.error().message);
    fields = signer->sign(*message, unix_now());
  }
  if (!fields) return failure(fields.error().message);
  if (std::fwrite(fields->data(), 1, fields->size(), stdout) != fields->size() ||
      std::fwrite(bytes->data(), 1, bytes->size(), stdout) != bytes->size() || std::fflush(stdout) != 0)
    return failure("cannot write the signed message to standard output");
  return 0;
}

}  // namespace

int run_dkim_command(const DkimCommand& cmd) { return cmd.action == "keygen" ? keygen(cmd) : sign(cmd); }

}  // namespace mailmoat::app
